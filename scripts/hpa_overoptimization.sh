#!/usr/bin/env bash
# Seed 004's over-optimisation curve on the HPA testbed, with seed 003's best-of-N on the same axes.
#   1. PPO (GRPO advantages) from the testbed's SFT model against the proxy reward model (the
#      4-head ensemble trained on the noisy pairs) with a small KL coefficient, every sample of
#      every rollout kept in samples.jsonl (its proxy score and KL to the SFT model);
#   2. each window of rollouts: mean KL, mean proxy score, mean gold score (scripts/hpa_gold_judge.py);
#   3. best-of-N on the SFT model: 16 samples per prompt (temperature 1, as PPO samples), the best
#      of the first N by the proxy, N = 1, 2, 4, 8, 16, at KL = log N − (N−1)/N;
#   4. one SVG (docs/hpa-testbed-overopt.svg) and the points (runs/hpa-overopt/points.json).
#   bash scripts/hpa_overoptimization.sh [--iterations 200] [--kl-coef 0.001] [--seed 1]
# Needs the testbed's SFT and reward models: run scripts/hpa_testbed.sh first (--quick is enough
# for a smoke test; set TESTBED=runs/hpa-testbed-quick then).
set -euo pipefail
cd "$(dirname "$0")/.."
ITER=200; KL=0.001; SEED=1
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) ITER="$2"; shift ;;
    --kl-coef) KL="$2"; shift ;;
    --seed) SEED="$2"; shift ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "hpa_overoptimization.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
source scripts/hpa_testbed_common.sh
OUT=runs/hpa-overopt
rm -rf "$OUT"; mkdir -p "$OUT"
START=$(date +%s)

stage "PPO against the proxy reward model: $ITER rollouts, kl_coef $KL"
"$ALIGN" ppo --config configs/hpa-testbed/ppo.json --set model.path="$SFT" --set ppo.reward.model="$RM" \
  --set output_dir="$PWD/$OUT/ppo" --set seed="$SEED" --set ppo.iterations="$ITER" --set ppo.kl_coef="$KL" \
  --set ppo.samples_per_rollout=16 --set log_every=20 | tail -n 2

stage "best-of-N on the SFT model: 16 samples per prompt of $D/rl_eval.jsonl"
"$ALIGN" eval --task samples --model "$SFT" --input "$D/rl_eval.jsonl" --samples-per-prompt 16 --temperature 1 \
  --max-new-tokens 48 --seed "$SEED" --json > "$OUT/bon-samples.json"
# empty samples cannot be scored by the reward model; they are listed in bon-index.json and get
# the lowest score seen (hpa_overopt_plot.py)
python3 - "$D/rl_eval.jsonl" "$OUT/bon-samples.json" "$OUT/bon-index.json" > "$OUT/bon-pairs.jsonl" <<'PY'
import json, sys
prompts = [json.loads(l)["prompt"] for l in open(sys.argv[1]) if l.strip()]
texts = json.load(open(sys.argv[2]))["texts"]
index = []
for i, t in enumerate(texts):
    if t.strip():
        index.append(i)
        print(json.dumps({"prompt": [{"role": "user", "content": prompts[i % len(prompts)]}],
                          "response": [{"role": "assistant", "content": t.strip()}]}))
json.dump(index, open(sys.argv[3], "w"))
PY
"$ALIGN" rm score --model "$RM" --input "$OUT/bon-pairs.jsonl" --output "$OUT/bon-scores.jsonl"

stage "curve and plot"
mkdir -p docs
python3 scripts/hpa_overopt_plot.py --ppo-samples "$OUT/ppo/samples.jsonl" --prompts "$D/rl_prompts.jsonl" \
  --bon-prompts "$D/rl_eval.jsonl" --bon-samples "$OUT/bon-samples.json" --bon-scores "$OUT/bon-scores.jsonl" --bon-index "$OUT/bon-index.json" \
  --out-json "$OUT/points.json" --svg docs/hpa-testbed-overopt.svg \
  --title "PPO (kl_coef $KL) vs best-of-N against the proxy RM: gold and proxy vs KL" | tee "$OUT/points.txt"
echo "wall-clock: $(( $(date +%s) - START )) s; plot: docs/hpa-testbed-overopt.svg; points: $OUT/points.json"

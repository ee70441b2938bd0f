#!/usr/bin/env bash
# Seed 002's observation on the shipped data: plain DPO (sigmoid) can drive the chosen reward
# β·(logπ(y_w) − logπ_ref(y_w)) below zero while the margin keeps growing; DPOP's penalty keeps it
# positive. Needs the quickstart's SFT model (bash scripts/quickstart.sh). Runs both losses on
# configs/quickstart/data/prefs_phrasing.jsonl (chosen and rejected state the same fact in two
# phrasings the model knows), prints rewards/chosen and rewards/margins every 30 steps from
# metrics.jsonl and each model's alignment accuracy (held-out answers in the chosen phrasing),
# and plots the curves of both runs (rewards/chosen, rewards/rejected, rewards/margins) into
# runs/seed002/curves.svg with `align plot` (the README shows a copy: docs/seed002-dpo-vs-dpop.svg).
set -euo pipefail
cd "$(dirname "$0")/.."
ALIGN=.build/release/align
[ -d runs/quickstart/sft/final ] || { echo "error: run bash scripts/quickstart.sh first (needs runs/quickstart/sft/final)" >&2; exit 2; }
mkdir -p runs
for loss in sigmoid dpop; do
  rm -rf "runs/seed002/$loss"
  "$ALIGN" dpo --config configs/quickstart/dpo.json --set data.train="$PWD/configs/quickstart/data/prefs_phrasing.jsonl" \
    --set data.eval=null --set eval_every=null --set dpo.loss=$loss --set dpo.sft_weight=0 --set optim.learning_rate=0.001 \
    --set epochs=8 --set log_every=10 --set output_dir="$PWD/runs/seed002/$loss" > /dev/null 2> "runs/seed002-$loss.log" \
    || { cat "runs/seed002-$loss.log" >&2; exit 2; }
done
python3 - <<'PY'
import json
def rows(loss):
    return {r["step"]: r for r in map(json.loads, open(f"runs/seed002/{loss}/metrics.jsonl")) if "rewards/chosen" in r}
s, d = rows("sigmoid"), rows("dpop")
print("step | sigmoid rewards/chosen | sigmoid margin | dpop rewards/chosen | dpop margin")
for step in sorted(s):
    if step % 20 == 0 or step == max(s):
        print(f"{step:4d} | {s[step]['rewards/chosen']:22.3f} | {s[step]['rewards/margins']:14.3f} | "
              f"{d[step]['rewards/chosen']:19.3f} | {d[step]['rewards/margins']:11.3f}")
late = [k for k in s if k > 20]
print(f"after step 20: lowest rewards/chosen sigmoid {min(s[k]['rewards/chosen'] for k in late):.3f} "
      f"(below 0 at {sum(s[k]['rewards/chosen'] < 0 for k in late)} of {len(late)} logged steps), "
      f"dpop {min(d[k]['rewards/chosen'] for k in late):.3f}")
PY
for loss in sigmoid dpop; do
  echo "$loss: $("$ALIGN" eval --model runs/seed002/$loss/final --input configs/quickstart/data/phrasing_heldout.jsonl --show 0)"
done
"$ALIGN" plot runs/seed002/sigmoid runs/seed002/dpop --label "DPO (sigmoid)" --label "DPOP (lambda 50)" \
  --metric rewards/chosen --metric rewards/rejected --metric rewards/margins \
  --title "Seed 002: DPO vs DPOP on pairs in two known phrasings (beta 0.1)" --out runs/seed002/curves.svg

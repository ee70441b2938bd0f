#!/usr/bin/env bash
# Seed 000's data cleaning, measured on the HPA testbed's noisy pairs (configs/hpa-testbed/data).
#   1. align clean on prefs_train.jsonl with the default rules (reward margin ≥ 0.5 by the proxy
#      reward model, responses' embedding similarity ≤ 0.9, policy log-probability gap ≤ 2.0 under
#      the SFT model), and with the margin and similarity rules only (log-probability gap off);
#   2. how many kept pairs agree with the gold judge (the pairs' "gold_chosen" field);
#   3. a reward model (4-head ensemble, from the SFT model) on each of: all pairs, default-cleaned,
#      margin+similarity-cleaned; the same number of optimizer steps each; eval loss on the held-out
#      pairs with gold labels every 20 steps (convergence), then pair accuracy against the noisy
#      labels, the gold labels and the shortcut-reversed pairs.
#   bash scripts/hpa_testbed_clean.sh [--steps 180]
# Needs the testbed's SFT and reward models: run scripts/hpa_testbed.sh first (TESTBED=… to point
# at another testbed directory, e.g. runs/hpa-testbed-quick).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=180
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) STEPS="$2"; shift ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "hpa_testbed_clean.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
source scripts/hpa_testbed_common.sh
OUT=runs/hpa-clean
rm -rf "$OUT"; mkdir -p "$OUT"
START=$(date +%s)

stage "align clean, default rules"
"$ALIGN" clean --input "$D/prefs_train.jsonl" --output "$OUT/kept-default.jsonl" --dropped "$OUT/dropped-default.jsonl" \
  --model "$SFT" --reward-model "$RM" --json > "$OUT/clean-default.json"
stage "align clean, margin and similarity rules only"
"$ALIGN" clean --input "$D/prefs_train.jsonl" --output "$OUT/kept-margin-sim.jsonl" --dropped "$OUT/dropped-margin-sim.jsonl" \
  --model "$SFT" --reward-model "$RM" --max-logp-gap 1e9 --json > "$OUT/clean-margin-sim.json"
cp "$D/prefs_train.jsonl" "$OUT/kept-none.jsonl"

for v in none default margin-sim; do
  stage "reward model on the $v pairs ($STEPS steps)"
  "$ALIGN" rm --config configs/hpa-testbed/rm.json --set model.path="$SFT" --set output_dir="$PWD/$OUT/rm-$v" \
    --set data.train="$PWD/$OUT/kept-$v.jsonl" --set data.eval="$PWD/$D/prefs_gold_eval.jsonl" \
    --set max_steps="$STEPS" --set eval_every=20 | tail -n 1
  for f in prefs_eval prefs_gold_eval prefs_shortcut_eval; do
    "$ALIGN" rm score --model "$OUT/rm-$v/final" --input "$D/$f.jsonl" --output "$OUT/rm-$v.$f.jsonl" 2>/dev/null
  done
done

stage "summary"
python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import json, sys
out = sys.argv[1]
print("| pairs | kept | kept with gold-correct labels | dropped (by rule) |")
print("|---|---|---|---|")
for v in ["none", "default", "margin-sim"]:
    kept = [json.loads(l) for l in open(f"{out}/kept-{v}.jsonl") if l.strip()]
    good = sum(r["gold_chosen"] for r in kept)
    if v == "none":
        drop = "–"
    else:
        c = json.load(open(f"{out}/clean-{v}.json"))
        drop = ", ".join(f"{k} {n}" for k, n in sorted(c["dropped"].items()))
    print(f"| {v} | {len(kept)} | {good} ({good / max(1, len(kept)):.1%}) | {drop} |")
print()
steps = None
curves = {}
for v in ["none", "default", "margin-sim"]:
    rows = [json.loads(l) for l in open(f"{out}/rm-{v}/metrics.jsonl")]
    curves[v] = {r["step"]: r["eval/loss"] for r in rows if "eval/loss" in r}
    steps = sorted(set(steps or curves[v]) & set(curves[v]))
print("Eval loss on held-out pairs with gold labels, by optimizer step:\n")
print("| pairs | " + " | ".join(str(s) for s in steps) + " |")
print("|---|" + "---|" * len(steps))
for v in curves:
    print(f"| {v} | " + " | ".join(f"{curves[v][s]:.3f}" for s in steps) + " |")
print("\nFinal pair accuracy (ensemble mean):\n")
print("| pairs | noisy labels | gold labels | shortcut-reversed |")
print("|---|---|---|---|")
for v in ["none", "default", "margin-sim"]:
    acc = []
    for f in ["prefs_eval", "prefs_gold_eval", "prefs_shortcut_eval"]:
        rows = [json.loads(l) for l in open(f"{out}/rm-{v}.{f}.jsonl")]
        acc.append(sum(r["chosen_wins"] for r in rows) / len(rows))
    print(f"| {v} | " + " | ".join(f"{a:.3f}" for a in acc) + " |")
PY
echo "wall-clock: $(( $(date +%s) - START )) s; outputs in $OUT"

#!/usr/bin/env bash
# The HPA testbed: does hybrid preference alignment (align hpa) beat PPO and DPO?
# From one SFT model and with matched budgets (the same optimizer steps and learning rate, and for
# the online methods the same sampled tokens: 4 prompts × 4 candidates × up to 48 tokens a step),
# trains over several seeds: DPO on the noisy pairs, PPO (GRPO advantages) against the proxy reward
# model, HPA, and four HPA ablations (no uncertainty penalty, no diversity bonus, no DPO term, token
# KL only), plus on request (--methods) hpa-k1-seed (HPA with seed 000's literal k1 token KL), plus an oracle reference that is no competitor: PPO with the gold judge itself as its
# reward (ppo-gold: the judge as align's reward.program). Every final model's greedy answers to the
# held-out prompts are scored by the gold judge (scripts/hpa_gold_judge.py), its sampled KL to the
# SFT model is measured, and scripts/hpa_testbed_table.py writes the table (RUNS/table.md).
#
#   bash scripts/hpa_testbed.sh [--quick] [--seeds "1 2 3 4 5"] [--steps 80] [--fresh]
#                               [--lr 1e-4] [--temperature 1.0] [--tag NAME] [--methods "dpo ppo …"]
#
# The task family, pairs and prompts are configs/hpa-testbed/data (scripts/gen_hpa_testbed.py
# --seed 0). The first stages (tokenizer, pretraining on the quickstart corpus, SFT, the proxy
# reward model: an ensemble of 4 heads on the noisy pairs) are reused from an earlier run unless
# --fresh. Each run's row is RUNS/METHOD-sSEED.result.json (RUNS = runs/hpa-testbed/runs).
# --quick: 1 seed, 12 steps, a shorter pretraining and SFT, outputs in runs/hpa-testbed-quick.
# --lr / --temperature override every method's learning rate and the online methods' sampling
# temperature (defaults: the configs' 1e-4 and 1.0); --tag NAME keeps those runs apart
# (RUNS = runs/hpa-testbed/runs-NAME) on the same SFT start.
set -euo pipefail
cd "$(dirname "$0")/.."
METHODS="dpo ppo hpa hpa-no-uncertainty hpa-no-diversity hpa-no-dpo hpa-token-kl ppo-gold"
QUICK=0; SEEDS="1 2 3 4 5"; STEPS=80; FRESH=0; SEEDS_SET=0; STEPS_SET=0; LR=""; TEMP=""; TAG=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --seeds) SEEDS="$2"; SEEDS_SET=1; shift ;;
    --steps) STEPS="$2"; STEPS_SET=1; shift ;;
    --fresh) FRESH=1 ;;
    --lr) LR="$2"; shift ;;
    --temperature) TEMP="$2"; shift ;;
    --tag) TAG="$2"; shift ;;
    --methods) METHODS="$2"; shift ;;
    -h|--help) sed -n 2,22p "$0"; exit 0 ;;
    *) echo "hpa_testbed.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
OUT=runs/hpa-testbed
PRE_STEPS=600; SFT_EPOCHS=4
if [ "$QUICK" = 1 ]; then
  OUT=runs/hpa-testbed-quick; PRE_STEPS=300; SFT_EPOCHS=2
  [ "$SEEDS_SET" = 1 ] || SEEDS="1"
  [ "$STEPS_SET" = 1 ] || STEPS=12
fi
STAGE="setup"
trap 'echo "hpa_testbed.sh: FAILED at stage: $STAGE (outputs in $OUT)" >&2' ERR
stage() { STAGE="$*"; echo "== $* ($(date -u +%H:%M:%S))"; }

stage "dependencies and build"
bash scripts/install-deps.sh
swift build -c release --product align 2>&1 | tail -n 1
ALIGN=.build/release/align
C=configs/hpa-testbed
D=$C/data
[ "$FRESH" = 1 ] && rm -rf "$OUT"
RUNS="$OUT/runs${TAG:+-$TAG}"
mkdir -p "$RUNS"
START=$(date +%s)
AOUT="$PWD/$OUT"

if [ ! -f "$OUT/tokenizer/tokenizer.json" ]; then
  stage "tokenizer (quickstart corpus + the testbed's SFT text)"
  cat configs/quickstart/data/corpus.txt > "$OUT/tokenizer_corpus.txt"
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    m = json.loads(l)["messages"]; print(m[0]["content"], m[1]["content"])' "$D/sft_train.jsonl" >> "$OUT/tokenizer_corpus.txt"
  "$ALIGN" tokenizer train --input "$OUT/tokenizer_corpus.txt" --output "$OUT/tokenizer" --vocab-size 600 \
    --special "<|im_end|>" --special "<|im_start|>" --special "<|endoftext|>" --pad-token "<|endoftext|>" --chat-template chatml
fi
if [ ! -d "$OUT/pretrain/final" ]; then
  stage "pretraining from scratch on the quickstart corpus ($PRE_STEPS steps)"
  "$ALIGN" sft --config $C/pretrain.json --set model.init.tokenizer="$AOUT/tokenizer" --set output_dir="$AOUT/pretrain" \
    --set max_steps=$PRE_STEPS | tail -n 1
fi
if [ ! -d "$OUT/sft/final" ]; then
  stage "SFT on $D/sft_train.jsonl ($SFT_EPOCHS epochs)"
  "$ALIGN" sft --config $C/sft.json --set model.path="$AOUT/pretrain/final" --set output_dir="$AOUT/sft" --set epochs=$SFT_EPOCHS | tail -n 1
fi
SFT="$AOUT/sft/final"
if [ ! -d "$OUT/rm/final" ]; then
  stage "proxy reward model: an ensemble of 4 heads on the noisy pairs"
  "$ALIGN" rm --config $C/rm.json --set model.path="$SFT" --set output_dir="$AOUT/rm" | tail -n 1
fi
RM="$AOUT/rm/final"
stage "proxy reward model accuracy (noisy labels, gold labels, shortcut-reversed pairs)"
for f in prefs_eval prefs_gold_eval prefs_shortcut_eval; do
  "$ALIGN" rm score --model "$RM" --input "$D/$f.jsonl" --output "$OUT/rm-$f.jsonl" 2>/dev/null
done
python3 - "$OUT" <<'PY' | tee "$OUT/rm-accuracy.json"
import json, sys
out = {}
for f in ["prefs_eval", "prefs_gold_eval", "prefs_shortcut_eval"]:
    rows = [json.loads(l) for l in open(f"{sys.argv[1]}/rm-{f}.jsonl")]
    out[f] = round(sum(r["chosen_wins"] for r in rows) / len(rows), 4)
print(json.dumps(out))
PY

# one evaluation: greedy answers to the held-out prompts scored by the gold judge, plus the KL
# to the SFT model of sampled answers (align eval --task samples, 2 per prompt)
evaluate() {  # name model_dir
  "$ALIGN" eval --model "$2" --input "$D/heldout.jsonl" --max-new-tokens 48 --json > "$RUNS/$1.eval.json"
  python3 scripts/hpa_gold_judge.py --prompts "$D/heldout.jsonl" --eval-json "$RUNS/$1.eval.json" --out "$RUNS/$1.gold.json" > /dev/null
  "$ALIGN" eval --task samples --model "$2" --reference "$SFT" --input "$D/heldout.jsonl" --samples-per-prompt 2 \
    --max-new-tokens 48 --seed 0 --json > "$RUNS/$1.kl.json"
}

stage "SFT model on the held-out prompts"
evaluate sft "$SFT"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print("SFT gold %.3f helpfulness %.3f harmlessness %.3f completion %.3f" % (s["gold"], s["helpfulness"], s["harmlessness"], s["completion"]))' "$RUNS/sft.gold.json"

# method -> command line (matched budget: $STEPS optimizer steps each)
run_method() {  # method seed
  local m=$1 s=$2 dir="$PWD/$RUNS/$1-s$2"
  local common=(--set model.path="$SFT" --set output_dir="$dir" --set seed="$s")
  [ -n "$LR" ] && common+=(--set optim.learning_rate="$LR")
  local hpa=(hpa --config $C/hpa.json "${common[@]}" --set hpa.reward.model="$RM" --set hpa.iterations="$STEPS")
  local ppo=(ppo --config $C/ppo.json "${common[@]}" --set ppo.reward.model="$RM" --set ppo.iterations="$STEPS")
  [ -n "$TEMP" ] && hpa+=(--set hpa.temperature="$TEMP") && ppo+=(--set ppo.temperature="$TEMP")
  case "$m" in
    dpo) "$ALIGN" dpo --config $C/dpo.json "${common[@]}" --set max_steps="$STEPS" ;;
    ppo) "$ALIGN" "${ppo[@]}" ;;
    hpa) "$ALIGN" "${hpa[@]}" ;;
    hpa-no-uncertainty) "$ALIGN" "${hpa[@]}" --set hpa.uncertainty_coef=0 ;;
    hpa-no-diversity) "$ALIGN" "${hpa[@]}" --set hpa.diversity_coef=0 ;;
    hpa-no-dpo) "$ALIGN" "${hpa[@]}" --set hpa.dpo_weight=0 ;;
    hpa-token-kl) "$ALIGN" "${hpa[@]}" --set hpa.semantic_kl_start=0 --set hpa.semantic_kl_end=0 --set hpa.token_kl_end=1 ;;
    hpa-k1-seed) "$ALIGN" "${hpa[@]}" --set hpa.token_kl=k1_seed ;;
    ppo-gold) "$ALIGN" "${ppo[@]}" --set "ppo.reward={\"program\": [\"python3\", \"$PWD/scripts/hpa_gold_judge.py\"]}" ;;
    *) echo "unknown method $m" >&2; return 2 ;;
  esac
}

for s in $SEEDS; do
  for m in $METHODS; do
    stage "seed $s: $m ($STEPS steps)"
    rm -rf "$RUNS/$m-s$s" "$RUNS/$m-s$s".*
    t0=$(date +%s.%N)
    # CPU time of the training process (user + system), from bash's time keyword
    rc=0
    { TIMEFORMAT='%U %S'; time run_method "$m" "$s" > "$RUNS/$m-s$s.log" 2>&1; } 2> "$RUNS/$m-s$s.cpu" || rc=$?
    t1=$(date +%s.%N)
    if [ -d "$RUNS/$m-s$s/final" ]; then
      evaluate "$m-s$s" "$RUNS/$m-s$s/final"
    else
      echo "   no final model (exit status $rc): a collapse; see $RUNS/$m-s$s.log"
    fi
    python3 - "$RUNS" "$m" "$s" "$rc" "$t0" "$t1" <<'PY'
import json, os, sys
d, m, s, rc, t0, t1 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
u, sy = (float(x) for x in open(f"{d}/{m}-s{s}.cpu").read().split()[-2:])
log = open(f"{d}/{m}-s{s}.log").read()
row = {"method": m, "seed": int(s), "exit_status": rc, "cpu_seconds": u + sy, "wall_seconds": t1 - t0,
       "nonfinite": rc != 0 and ("non-finite" in log or "nan" in log.lower())}
if os.path.exists(f"{d}/{m}-s{s}.gold.json"):
    row["gold"] = json.load(open(f"{d}/{m}-s{s}.gold.json"))["summary"]
    row["kl"] = json.load(open(f"{d}/{m}-s{s}.kl.json"))["kl"]
summ = f"{d}/{m}-s{s}/summary.json"
if os.path.exists(summ):
    row["recoveries"] = json.load(open(summ)).get("recoveries", 0)
with open(f"{d}/{m}-s{s}.result.json", "w") as fh:
    fh.write(json.dumps(row) + "\n")
g = row.get("gold", {})
print(f"   gold {g.get('gold', float('nan')):.3f}  helpful {g.get('helpfulness', float('nan')):.3f}  harmless {g.get('harmlessness', float('nan')):.3f}"
      f"  complete {g.get('completion', float('nan')):.3f}  KL {row.get('kl', float('nan')):.3f}  cpu {row['cpu_seconds']:.0f}s")
PY
  done
done

stage "table"
python3 scripts/hpa_testbed_table.py "$RUNS" --seeds "$SEEDS" --steps "$STEPS" --rm-accuracy "$OUT/rm-accuracy.json" \
  --settings "learning rate ${LR:-1e-4 (configs)}, sampling temperature ${TEMP:-1.0 (configs)}" --json "$RUNS/table.json" | tee "$RUNS/table.md"
echo "total wall-clock: $(( $(date +%s) - START )) s (outputs in $OUT, runs and table in $RUNS)"

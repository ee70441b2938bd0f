#!/usr/bin/env bash
# One command for the IFEval goldens: golden (response, instruction) verdicts of the reference
# IFEval checker, for testing the Swift port of IFEval's instruction checks for agreement.
#   bash scripts/gen_ifeval_goldens.sh                      # edge + random cases (+ model answers, below)
#   bash scripts/gen_ifeval_goldens.sh --answers PATH       # also PATH's model answers (JSONL lines
#                                                           #   {"prompt","instruction_id_list","kwargs","response"})
#   bash scripts/gen_ifeval_goldens.sh --no-answers         # never model answers
# Writes Tests/IFEvalTests/Fixtures/ifeval_goldens.jsonl (one case a line: id, source
# edge|random|model, prompt, instruction_id_list, kwargs, response, strict[], loose[], and
# "empty": true where the reference treats the response as empty). Without --answers, the model
# answers committed at Tests/IFEvalTests/Fixtures/ifeval_model_answers.jsonl are used if that
# file exists, so re-running this command with no arguments regenerates the committed fixture.
# The output is deterministic (fixed seeds); re-run after editing the cases or the pins.
#
# Environment: 'ifeval' (scripts/requirements/ifeval.txt, made once and cached by
# scripts/python-env.sh): if-verifiable 0.1.2 (the reference: Google's IFEval checks,
# INSTRUCTION_DICT and evaluate_instructions), nltk 3.10.4, langdetect 1.0.9, and what
# `import if_verifiable` needs (datasets & co.), every version pinned.
# Choices the reference leaves open, fixed before anything is evaluated (see the .py's header):
#   * sentences: NLTK's Punkt algorithm with UNTRAINED parameters (no NLTK data can be had here)
#     stands in for the punkt English model, both in count_sentences and in the word_tokenize
#     of change_case:capital_word_frequency ("Dr. Smith arrived." is two sentences);
#   * langdetect: DetectorFactory.seed = 0 and its profiles in sorted order, so language
#     verdicts are reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
align_venv ifeval
echo "gen_ifeval_goldens: running the reference checker (ifeval environment)" >&2
OMP_NUM_THREADS=1 "$PY" scripts/gen_ifeval_goldens.py "$@"

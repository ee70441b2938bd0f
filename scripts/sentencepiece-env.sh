# Sourced (not run) by the SentencePiece checks and benchmark, from the repository root: the pinned
# 'sentencepiece' Python environment (sets PY), align built in release mode (sets ALIGN, defines
# align_step: scripts/steps.sh) and a work directory removed on exit (sets WORK).
source scripts/python-env.sh
source scripts/steps.sh
align_venv sentencepiece
align_build_release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

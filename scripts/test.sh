#!/usr/bin/env bash
# The whole test suite: installs missing system libraries (OpenBLAS, Open MPI with mpirun, which
# the data-parallel tests launch), runs the script tests
# (scripts/tests/*.sh) and the kernels' cross-architecture check, then builds and runs every Swift test.
# Needs no network beyond the package install and no large checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/tests/test_fetch_smollm2.sh
bash scripts/tests/test_hpa_testbed.sh
# the decode kernels bit for bit against the portable one: NEON under qemu (AArch64 cross build),
# the host's AVX2/AVX-512 natively (installs the cross compiler and qemu when missing)
bash scripts/check_kernels_aarch64.sh
swift build --build-tests
swift test --skip-build --disable-swift-testing "$@"

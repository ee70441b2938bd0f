#!/usr/bin/env bash
# The whole test suite: installs missing system libraries, then builds and runs every test.
# Needs no network beyond the package install and no large checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build --disable-swift-testing "$@"

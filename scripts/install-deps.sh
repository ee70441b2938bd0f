#!/usr/bin/env bash
# Installs what align needs to build on Debian/Ubuntu when it is missing: OpenBLAS (found
# through pkg-config `openblas`), Open MPI (pkg-config `ompi-c`, with `mpirun` for data-parallel
# runs and their tests) and pkg-config itself. The Swift toolchain must already be on PATH.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
  echo "error: no Swift toolchain on PATH (swift 6.0 or newer is needed)" >&2
  exit 2
fi

if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openblas && pkg-config --exists ompi-c \
  && command -v mpirun >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: libopenblas-dev or libopenmpi-dev is missing and this user cannot install them (no root, no sudo)" >&2
    exit 2
  fi
fi
echo "installing libopenblas-dev, libopenmpi-dev, openmpi-bin and pkg-config" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libopenblas-dev libopenmpi-dev openmpi-bin pkg-config >/dev/null
pkg-config --exists openblas || { echo "error: pkg-config still cannot find openblas" >&2; exit 2; }
pkg-config --exists ompi-c || { echo "error: pkg-config still cannot find ompi-c (Open MPI)" >&2; exit 2; }

#!/usr/bin/env bash
# Bit-for-bit check of the few-row product kernels (Sources/CKernels/few_rows_gemm.c) without ARM
# hardware: the harness scripts/kernels/few_rows_check.c compares every vector implementation the
# build and CPU support with the portable one (float32 and bfloat16 weights, m = 1..8, many k, n,
# strides, alpha/beta, -0 inputs) and prints "N passed, M failed".
#  1. AArch64 (the NEON implementation): cross-compiled statically with aarch64-linux-gnu-gcc -O3
#     (default -march=armv8-a; again with -ffp-contract=off; again with -march=armv8.2-a), and with
#     clang --target=aarch64-linux-gnu -O3 when a clang is found (SwiftPM builds CKernels with
#     clang), each run under qemu-aarch64 user-mode emulation (required: the neon kernel).
#  2. The host (x86-64): built with the host cc -O3 (and clang -O3 when found); compares the
#     AVX2 / AVX-512 kernels this CPU has (required: those its /proc/cpuinfo flags list).
# GCC ignores '#pragma STDC FP_CONTRACT OFF' (clang honours it); the kernel file adds GCC's own
# pragma, and the GCC builds also pass -ffp-contract=off, so that no build fuses alpha*dot + beta*y
# differently in one implementation than in another.
# Needs: Debian/Ubuntu packages gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user-static
# (or qemu-user), installed here with apt-get when missing (as root, or through sudo), and a host
# C compiler. Emulation timings mean nothing: this checks correctness only.
# Exit status: 0 when every build compiled and every comparison passed, 1 otherwise, 2 when the
# tools cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

SRC=Sources/CKernels/few_rows_gemm.c
HARNESS=scripts/kernels/few_rows_check.c
INCLUDE=Sources/CKernels/include

# ---- tools ----

missing=()
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
[[ -f /usr/aarch64-linux-gnu/lib/libc.a ]] || missing+=(libc6-dev-arm64-cross)
command -v qemu-aarch64-static >/dev/null || command -v qemu-aarch64 >/dev/null || missing+=(qemu-user-static)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    echo "error: need Debian packages ${missing[*]} and neither root nor sudo is available to install them" >&2
    exit 2
  fi
  echo "installing ${missing[*]}"
  if ! "${as_root[@]}" apt-get update -qq || ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; then
    echo "error: apt-get could not install ${missing[*]}" >&2
    exit 2
  fi
fi
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64)

# SwiftPM's clang: on PATH, or next to swift
CLANG=$(command -v clang || true)
if [[ -z $CLANG ]] && command -v swift >/dev/null; then
  candidate="$(dirname "$(readlink -f "$(command -v swift)")")/clang"
  [[ -x $candidate ]] && CLANG=$candidate
fi

BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT

failures=()
summary=()

# check LABEL RUNNER REQUIRE -- COMPILER FLAGS...: builds the harness, runs it, records the result
check() {
  local label=$1 runner=$2 require=$3
  shift 4
  local exe="$BUILD/check$((${#summary[@]} + 1))"
  echo "== $label: $* -> $runner"
  if ! "$@" -Wall -Wno-unknown-pragmas -I "$INCLUDE" "$HARNESS" "$SRC" -lm -o "$exe"; then
    echo "   compile FAILED"
    failures+=("$label (compile)")
    summary+=("$label: compile failed")
    return
  fi
  local cmd=("$exe")
  [[ $runner == qemu ]] && cmd=("$QEMU" -L /usr/aarch64-linux-gnu "$exe")
  local req=()
  for k in $require; do req+=(--require "$k"); done
  local out status=0
  out=$("${cmd[@]}" "${req[@]}" 2>&1) || status=$?
  printf '%s\n' "$out" | sed 's/^/   /'
  local last
  last=$(printf '%s\n' "$out" | tail -n 1)
  if ((status != 0)); then
    failures+=("$label")
    summary+=("$label: FAILED (exit $status) $last")
  else
    summary+=("$label: $last")
  fi
}

# ---- AArch64 under emulation: the NEON implementation ----

if [[ $(uname -m) == aarch64 ]]; then a64_runner=native; else a64_runner=qemu; fi
check "aarch64 gcc" $a64_runner neon -- aarch64-linux-gnu-gcc -O3 -static
check "aarch64 gcc, no contraction" $a64_runner neon -- aarch64-linux-gnu-gcc -O3 -ffp-contract=off -static
check "aarch64 gcc armv8.2-a" $a64_runner neon -- aarch64-linux-gnu-gcc -O3 -ffp-contract=off -march=armv8.2-a -static
if [[ -n $CLANG ]] && echo 'int main(void){return 0;}' |
    "$CLANG" --target=aarch64-linux-gnu -static -x c - -o "$BUILD/probe" 2>/dev/null; then
  check "aarch64 clang" $a64_runner neon -- "$CLANG" --target=aarch64-linux-gnu -O3 -static
else
  echo "== aarch64 clang: skipped (no clang that can link for aarch64-linux-gnu)"
fi

# ---- the host: AVX2 / AVX-512 ----

host_require=""
if [[ $(uname -m) == x86_64 ]]; then
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  if [[ $flags == *" avx2 "* && $flags == *" fma "* ]]; then host_require+=" avx2"; fi
  if [[ $flags == *" avx512f "* && $flags == *" avx512bw "* && $flags == *" avx512vl "* && $flags == *" fma "* ]]; then
    host_require+=" avx512"
  fi
elif [[ $(uname -m) == aarch64 ]]; then
  host_require="neon"
fi
if cc --version 2>/dev/null | grep -qi clang; then
  check "host cc" native "$host_require" -- cc -O3
else
  check "host cc" native "$host_require" -- cc -O3 -ffp-contract=off
fi
if [[ -n $CLANG ]]; then
  check "host clang" native "$host_require" -- "$CLANG" -O3
fi

echo
echo "summary:"
printf '  %s\n' "${summary[@]}"
if ((${#failures[@]})); then
  echo "FAILED: ${failures[*]}"
  exit 1
fi
echo "all kernel checks passed"

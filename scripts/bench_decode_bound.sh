#!/usr/bin/env bash
# Batch-1 decoding against the machine's memory bandwidth, measured in the same command:
# a float32 decode step reads every weight once, so tokens/s can be at most
# (read bandwidth) / (bytes of weights read per token). The bandwidth is measured by a
# single-threaded numpy dot of two 512 MiB float32 arrays (a streaming read far larger than every
# cache), in one process and in two at once (both cores); align decodes 64 tokens from one chat prompt of
# SmolLM2-135M-Instruct (EOS ignored), with float32 weights and with bfloat16 copies
# (--weights-dtype bfloat16: half the bytes per token), alternating with the probe, ROUNDS times.
# Prints each bound, align's decode tokens/s (prefill excluded) and the fraction of the bound; then
# the same against OpenBLAS's sgemm/sgemv for the decode products (ALIGN_FEW_ROWS_GEMM=0), at batch
# 1 and at batch 8 (a rollout's shape; sampled at temperature 1 in every case).
# Python: the pinned 'reference' environment (numpy). Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
source scripts/python-env.sh
align_venv reference
source scripts/smollm2-workdir.sh
BYTES=$(python3 -c "import json,os,sys; d=sys.argv[1]; print(sum(os.path.getsize(os.path.join(d,f)) for f in os.listdir(d) if f.endswith('.safetensors')))" "$WORK/smollm2")
probe() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$PY" - <<'PY'
import numpy as np, time
a = np.ones(1 << 27, dtype=np.float32)   # 2 × 512 MiB, read once per dot (OpenBLAS sdot, 1 thread)
b = np.ones(1 << 27, dtype=np.float32)
a.dot(b)
best = 0.0
for _ in range(5):
    t = time.perf_counter(); a.dot(b); dt = time.perf_counter() - t
    best = max(best, 2 * a.nbytes / dt)
print(best)
PY
}
out="$WORK/results.txt"
for r in $(seq "$ROUNDS"); do
  one=$(probe)
  two=$( (probe & probe & wait) | python3 -c "import sys; print(sum(float(l) for l in sys.stdin))")
  decode() {   # dtype, batch, ALIGN_FEW_ROWS_GEMM (0: OpenBLAS for the few-row products)
    local prompts=()
    for i in $(seq "$2"); do prompts+=(--prompt "Explain photosynthesis in one paragraph ($i)."); done
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ALIGN_FEW_ROWS_GEMM="$3" "$ALIGN" generate --model "$WORK/smollm2" --chat "${prompts[@]}" \
        --max-new-tokens 64 --ignore-eos --json --temperature 1 --weights-dtype "$1" | tail -n 1 \
      | python3 -c "import json,sys; t=json.load(sys.stdin)['timing']; print(t.get('decode_tokens_per_second', t['tokens_per_second']))"
  }
  tps=$(decode float32 1 1)
  half=$(decode bfloat16 1 1)
  blas1=$(decode float32 1 0)
  blas8=$(decode float32 8 0)
  f8=$(decode float32 8 1)
  h8=$(decode bfloat16 8 1)
  echo "$one $two $tps $half $blas1 $blas8 $f8 $h8" >> "$out"
done
python3 - "$out" "$BYTES" <<'PY'
import sys, statistics
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
weights = int(sys.argv[2])
one, two, tps, half, blas1, blas8, f8, h8 = (statistics.median(r[i] for r in rows) for i in range(8))
print(f"SmolLM2-135M: {weights/1e6:.0f} MB of float32 weights read per decoded token (batch 1), {weights/2e6:.0f} MB as bfloat16")
print(f"read bandwidth (numpy dot of 2 x 512 MiB, best of 5, median of {len(rows)} rounds): {one/1e9:.1f} GB/s on one core, {two/1e9:.1f} GB/s on two")
print(f"float32:  bound {two/weights:.1f} tokens/s (two cores); align decodes {tps:.1f} tokens/s = {tps/(two/weights):.0%} of it")
print(f"bfloat16: bound {2*two/weights:.1f} tokens/s (two cores); align decodes {half:.1f} tokens/s = {half/(2*two/weights):.0%} of it, "
      f"{half/tps:.2f}x float32")
print(f"OpenBLAS for the decode products (ALIGN_FEW_ROWS_GEMM=0): {blas1:.1f} tokens/s at batch 1 (few-row kernel {tps/blas1:.2f}x)")
print(f"batch 8 (a rollout's shape), tokens/s: OpenBLAS sgemm {blas8:.1f}, few-row kernel float32 {f8:.1f} ({f8/blas8:.2f}x), "
      f"bfloat16 {h8:.1f} ({h8/blas8:.2f}x)")
PY

#!/usr/bin/env bash
# Batch-1 decoding against the machine's memory bandwidth, measured in the same command:
# a float32 decode step reads every weight once, so tokens/s can be at most
# (read bandwidth) / (bytes of weights read per token). The bandwidth is measured by a
# numpy dot of two 512 MiB float32 arrays (a streaming read far larger than every cache), on one
# thread, and split across two threads of one process reading at the same time (both cores); align decodes 64 tokens from one chat prompt of
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
probe() {   # threads: read bandwidth of N threads of one process, each streaming its own arrays at once
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$PY" - "$1" <<'PY'
import numpy as np, sys, threading, time
n = int(sys.argv[1])
# 2 x 512 MiB in all, split across the threads; each dot (OpenBLAS sdot, 1 thread, GIL released) reads its pair once
pairs = [(np.ones((1 << 27) // n, dtype=np.float32), np.ones((1 << 27) // n, dtype=np.float32)) for _ in range(n)]
for a, b in pairs: a.dot(b)
best = 0.0
for _ in range(5):
    start = threading.Barrier(n + 1)
    def read(a, b):
        start.wait(); a.dot(b)
    threads = [threading.Thread(target=read, args=p) for p in pairs]
    for t in threads: t.start()
    start.wait(); t0 = time.perf_counter()
    for t in threads: t.join()
    dt = time.perf_counter() - t0
    best = max(best, sum(2 * a.nbytes for a, _ in pairs) / dt)
print(best)
PY
}
out="$WORK/results.txt"
for r in $(seq "$ROUNDS"); do
  one=$(probe 1)
  two=$(probe 2)
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
print(f"read bandwidth (numpy dot over 2 x 512 MiB, best of 5, median of {len(rows)} rounds): {one/1e9:.1f} GB/s on one thread, {two/1e9:.1f} GB/s on two at once")
print(f"float32:  bound {two/weights:.1f} tokens/s (two cores); align decodes {tps:.1f} tokens/s = {tps/(two/weights):.0%} of it")
print(f"bfloat16: bound {2*two/weights:.1f} tokens/s (two cores); align decodes {half:.1f} tokens/s = {half/(2*two/weights):.0%} of it, "
      f"{half/tps:.2f}x float32")
print(f"OpenBLAS for the decode products (ALIGN_FEW_ROWS_GEMM=0): {blas1:.1f} tokens/s at batch 1 (few-row kernel {tps/blas1:.2f}x)")
print(f"batch 8 (a rollout's shape), tokens/s: OpenBLAS sgemm {blas8:.1f}, few-row kernel float32 {f8:.1f} ({f8/blas8:.2f}x), "
      f"bfloat16 {h8:.1f} ({h8/blas8:.2f}x)")
PY

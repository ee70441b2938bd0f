#!/usr/bin/env bash
# Batch-1 decoding against the machine's memory bandwidth, measured in the same command:
# a float32 decode step reads every weight once, so tokens/s can be at most
# (read bandwidth) / (bytes of weights read per token). The bandwidth is measured by a
# numpy dot of two 512 MiB float32 arrays (a streaming read far larger than every cache), on one
# thread, and split across two threads of one process reading at the same time (both cores); align decodes 64 tokens from one chat prompt of
# SmolLM2-135M-Instruct (EOS ignored), with float32 weights and with bfloat16 copies
# (--weights-dtype bfloat16: half the bytes per token), alternating with the probe, ROUNDS times.
# Prints the machine (CPU, vector kernels, the default decode path: `align bench --job machine`,
# from smollm2-workdir.sh),
# each bound, align's decode tokens/s (prefill excluded) and the fraction of the bound; then every
# decode path this CPU can run, forced with ALIGN_FEW_ROWS_KERNEL (avx512, avx2, portable,
# openblas: OpenBLAS's sgemv/sgemm), at batch 1 and at batch 8 (a rollout's shape; sampled at
# temperature 1 in every case; the portable kernel over 16 tokens, it is never a default where
# its fmaf is a library call). Exits 1 when the default path decodes slower than OpenBLAS at
# either batch (the check that no CPU decodes slower than the path the kernel replaced).
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
paths=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$ALIGN" bench --job machine --json \
  | python3 -c "import json,sys; k=json.load(sys.stdin)['vector_kernels']; print(' '.join(([] if k=='none' else k.split(', ')) + ['portable', 'openblas']))")
out="$WORK/results.txt"
decode() {   # dtype, batch, path (ALIGN_FEW_ROWS_KERNEL), new tokens
  local prompts=()
  for i in $(seq "$2"); do prompts+=(--prompt "Explain photosynthesis in one paragraph ($i)."); done
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ALIGN_FEW_ROWS_KERNEL="$3" "$ALIGN" generate --model "$WORK/smollm2" --chat "${prompts[@]}" \
      --max-new-tokens "$4" --ignore-eos --json --temperature 1 --weights-dtype "$1" | tail -n 1 \
    | python3 -c "import json,sys; t=json.load(sys.stdin)['timing']; print(t.get('decode_tokens_per_second', t['tokens_per_second']))"
}
for r in $(seq "$ROUNDS"); do
  one=$(probe 1)
  two=$(probe 2)
  line="bandwidth1 $one bandwidth2 $two auto/float32/1 $(decode float32 1 auto 64) auto/bfloat16/1 $(decode bfloat16 1 auto 64)"
  line="$line auto/float32/8 $(decode float32 8 auto 64) auto/bfloat16/8 $(decode bfloat16 8 auto 64)"
  for p in $paths; do
    n=64; [ "$p" = portable ] && n=16
    line="$line $p/float32/1 $(decode float32 1 "$p" "$n") $p/float32/8 $(decode float32 8 "$p" "$n")"
  done
  echo "$line" >> "$out"
done
python3 - "$out" "$BYTES" "$paths" <<'PY'
import sys, statistics
rounds = []
for l in open(sys.argv[1]):
    f = l.split()
    if f: rounds.append({f[i]: float(f[i + 1]) for i in range(0, len(f), 2)})
weights, paths = int(sys.argv[2]), sys.argv[3].split()
med = lambda k: statistics.median(r[k] for r in rounds)
one, two = med("bandwidth1"), med("bandwidth2")
tps, half = med("auto/float32/1"), med("auto/bfloat16/1")
print(f"SmolLM2-135M: {weights/1e6:.0f} MB of float32 weights read per decoded token (batch 1), {weights/2e6:.0f} MB as bfloat16")
print(f"read bandwidth (numpy dot over 2 x 512 MiB, best of 5, median of {len(rounds)} rounds): {one/1e9:.1f} GB/s on one thread, {two/1e9:.1f} GB/s on two at once")
print(f"float32:  bound {two/weights:.1f} tokens/s (two cores); align decodes {tps:.1f} tokens/s = {tps/(two/weights):.0%} of it")
print(f"bfloat16: bound {2*two/weights:.1f} tokens/s (two cores); align decodes {half:.1f} tokens/s = {half/(2*two/weights):.0%} of it, "
      f"{half/tps:.2f}x float32")
print(f"batch 8 (a rollout's shape), default path: float32 {med('auto/float32/8'):.1f} tokens/s, bfloat16 {med('auto/bfloat16/8'):.1f}")
print("every decode path, float32, decode tokens/s (ALIGN_FEW_ROWS_KERNEL=...):")
blas1, blas8 = med("openblas/float32/1"), med("openblas/float32/8")
for p in paths:
    a, b = med(f"{p}/float32/1"), med(f"{p}/float32/8")
    print(f"  {p:9s} batch 1 {a:7.1f} ({a/blas1:.2f}x OpenBLAS)   batch 8 {b:7.1f} ({b/blas8:.2f}x OpenBLAS)")
slower = [f"batch {b}: {med(f'auto/float32/{b}'):.1f} < OpenBLAS {o:.1f}" for b, o in ((1, blas1), (8, blas8))
          if med(f"auto/float32/{b}") < o]
if slower:
    print("CHECK FAILED: the default decode path is slower than OpenBLAS on this machine (" + "; ".join(slower) + ")")
    sys.exit(1)
print("check passed: the default decode path is not slower than OpenBLAS at batch 1 or 8")
PY

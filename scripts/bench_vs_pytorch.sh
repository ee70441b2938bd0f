#!/usr/bin/env bash
# Side-by-side benchmark of align against PyTorch/transformers on the same machine, in one
# command, alternating the two so that machine drift hits both: a GPT-2 124M training step
# (B=4, T=256: forward, loss, backward, clipping, AdamW) in tokens/s, and peak RSS.
# Both run on 2 threads. OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are unset for align (OpenBLAS then
# picks its kernel for this CPU); PyTorch uses its own BLAS.
# Python: the pinned 'reference' environment (scripts/requirements/reference.txt), made once under
# ~/.cache/align/venv by scripts/python-env.sh. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
source scripts/python-env.sh
source scripts/steps.sh
align_venv reference
align_build_release
out=$(mktemp)
for r in $(seq "$ROUNDS"); do
  align_step "align bench --job train-step" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$ALIGN" bench --job train-step --repeats 3 --json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' >> "$out"
  align_step "PyTorch train step (bench_train_step_torch.py)" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" scripts/bench_train_step_torch.py --repeats 3 --threads 2 >> "$out"
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(impl, key): return statistics.median(r[key] for r in rows if r["impl"] == impl)
a, t = med("align", "tokens_per_second"), med("pytorch", "tokens_per_second")
print(f"GPT-2 124M train step, B=4 T=256, 2 threads, median of {len(rows)//2} alternating rounds")
print(f"  align    {a:8.1f} tokens/s   peak RSS {med('align','peak_rss_bytes')/2**20:7.0f} MiB")
print(f"  PyTorch  {t:8.1f} tokens/s   peak RSS {med('pytorch','peak_rss_bytes')/2**20:7.0f} MiB")
print(f"  ratio align/PyTorch: {a/t:.2f}x")
PY
rm -f "$out"

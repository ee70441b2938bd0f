#!/usr/bin/env bash
# Data-parallel cost on this machine: all-reduce latency and bandwidth between 2 ranks
# (`mpirun -np 2 align bench --job allreduce`), then an SFT run of a SmolLM2-135M-shaped model
# (LLaMA, hidden 576, 30 layers, 9 heads / 3 KV heads, MLP 1536, vocabulary 49152, tied
# embeddings: 134.5M parameters, the real model's shapes and so its compute and all-reduce size,
# with random weights and a small tokenizer so nothing is downloaded) in 1 process and on 2
# ranks at the same global batch, reporting seconds per step and the 2-rank run's
# `communication_share`. Writes a JSON summary on stdout (the numbers in BENCHMARKS.md).
#   STEPS (default 6), SEQ (max_seq_len, default 256), BATCH (batch_size, default 2; grad_accum 2)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/steps.sh
bash scripts/install-deps.sh
align_build_release
command -v mpirun >/dev/null || { echo "error: mpirun not found (scripts/install-deps.sh installs openmpi-bin)" >&2; exit 2; }
MPIRUN=(mpirun --oversubscribe -np 2)
[ "$(id -u)" -eq 0 ] && MPIRUN=(mpirun --allow-run-as-root --oversubscribe -np 2)
STEPS=${STEPS:-6}; SEQ=${SEQ:-256}; BATCH=${BATCH:-2}
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE   # as every benchmark: OpenBLAS picks its own kernel
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

align_step "align bench --job allreduce" "${MPIRUN[@]}" "$ALIGN" bench --job allreduce --json --repeats 7 >"$WORK/allreduce.json"

# a corpus of numbered sentences, long enough for max_seq_len tokens per line
for i in $(seq 1 400); do
  line=""
  for j in $(seq 1 40); do line="$line the $((i * 7 % 13)) cat sat on mat $((j * i % 17)) and ran to tree $((i + j))."; done
  echo "$line"
done >"$WORK/corpus.txt"
align_step "align tokenizer train" "$ALIGN" tokenizer train --input "$WORK/corpus.txt" --vocab-size 400 --special "<|endoftext|>" --output "$WORK/tok" >/dev/null
cat >"$WORK/run.json" <<JSON
{"model": {"init": {"architecture": "llama", "hidden_size": 576, "layers": 30, "heads": 9, "kv_heads": 3,
                    "intermediate_size": 1536, "context_length": 2048, "vocab_size": 49152, "tokenizer": "tok"}},
 "data": {"train": "corpus.txt", "format": "text", "max_seq_len": $SEQ},
 "optim": {"learning_rate": 0.0003, "schedule": "constant"},
 "batch_size": $BATCH, "grad_accum": 2, "max_steps": $STEPS, "log_every": 1, "seed": 1, "output_dir": "out"}
JSON
cd "$WORK"
align_step "align sft (1 process)" "$ALIGN" sft --config run.json --set output_dir=one >/dev/null
align_step "align sft (2 ranks)" "${MPIRUN[@]}" "$ALIGN" sft --config run.json --set output_dir=two >/dev/null
python3 - "$WORK" <<'PY'
import json, sys, os
work = sys.argv[1]
def steps(run):
    rows = [json.loads(l) for l in open(os.path.join(work, run, "metrics.jsonl")) if '"loss"' in l]
    return [r for r in rows if r["step"] > 1]   # the first step pays for allocation
one, two = steps("one"), steps("two")
tokens = lambda rows: sum(r["tokens_per_second"] for r in rows) / len(rows)
out = {
    "allreduce": json.load(open(os.path.join(work, "allreduce.json"))),
    "tokens_per_second_1_process": tokens(one),
    "tokens_per_second_2_ranks": tokens(two),
    "communication_share_2_ranks": sum(r["communication_share"] for r in two) / len(two),
    "loss_1_process": [r["loss"] for r in one],
    "loss_2_ranks": [r["loss"] for r in two],
}
print(json.dumps(out, indent=1))
PY

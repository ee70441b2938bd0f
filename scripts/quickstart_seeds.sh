#!/usr/bin/env bash
# The quickstart's headline figures over several seeds: runs `scripts/quickstart.sh --seed K`
# for each K (default 1 2 3; every stage, pretraining included, uses seed K) and prints, per
# figure, each seed's value, the minimum and the mean. Also checks that the DPO model answers
# fluently (scripts/quickstart_answers.py: one factual sentence about the country asked,
# optionally followed by one Penn sentence).
# Usage: bash scripts/quickstart_seeds.sh [K ...]    (about 3 minutes a seed on two cores)
#        TABLE_ONLY=1 bash scripts/quickstart_seeds.sh [K ...]   (the table of earlier runs)
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=("$@")
[ ${#SEEDS[@]} -gt 0 ] || SEEDS=(1 2 3)
ALIGN=.build/release/align
Q=configs/quickstart
# TABLE_ONLY=1: only print the table of runs made before
for k in "${SEEDS[@]}"; do
  [ "${TABLE_ONLY:-0}" = 1 ] && break
  echo "== quickstart with seed $k (log: runs/quickstart-seed$k.log)"
  mkdir -p runs
  bash scripts/quickstart.sh --seed "$k" > "runs/quickstart-seed$k.log" 2>&1 || {
    echo "quickstart.sh --seed $k failed; the end of its log:" >&2; tail -n 20 "runs/quickstart-seed$k.log" >&2; exit 1; }
  OUT=runs/quickstart-seed$k
  for m in sft dpo ppo; do
    "$ALIGN" eval --model "$OUT/$m/final" --input "$Q/data/heldout.jsonl" --json > "$OUT/facts-$m.json"
    "$ALIGN" eval --model "$OUT/$m/final" --input "$Q/data/penn_heldout.jsonl" --json > "$OUT/penn-$m.json"
  done
done
python3 - "${SEEDS[@]}" <<'PY'
import json, subprocess, sys
seeds = sys.argv[1:]
def answers(path):
    return json.loads(subprocess.check_output([sys.executable, "scripts/quickstart_answers.py", path]))
def reward(run):
    rows = [json.loads(l) for l in open(run + "/metrics.jsonl")]
    e = [r["eval/objective/scores"] for r in rows if "eval/objective/scores" in r]
    return e[0], e[-1]
def acc(path):
    return float(open(path).read().strip().splitlines()[-1].split()[1].rstrip("%")) / 100
rows = {}
for k in seeds:
    out = f"runs/quickstart-seed{k}"
    f = {m: answers(f"{out}/facts-{m}.json") for m in ("sft", "dpo", "ppo")}
    p = {m: answers(f"{out}/penn-{m}.json") for m in ("sft", "dpo")}
    r0, r1 = reward(out + "/ppo")
    fig = {
        "held-out accuracy before SFT": acc(f"{out}/eval-before.txt"),
        "held-out accuracy after SFT": f["sft"]["accuracy"],
        "held-out accuracy after DPO": f["dpo"]["accuracy"],
        "held-out accuracy after PPO": f["ppo"]["accuracy"],
        "answers mentioning Penn after DPO (align eval)": acc(f"{out}/penn-after.txt"),
        "answers ending with a whole Penn sentence after DPO": p["dpo"]["penn"],
        "Q8_0 GGUF: answers mentioning Penn": acc(f"{out}/penn-gguf.txt"),
        "well-formed answers, SFT (Penn questions)": p["sft"]["well_formed"],
        "well-formed answers, DPO (Penn questions)": p["dpo"]["well_formed"],
        "well-formed answers, SFT (factual questions)": f["sft"]["well_formed"],
        "well-formed answers, DPO (factual questions)": f["dpo"]["well_formed"],
        "PPO reward on unseen prompts, before": r0,
        "PPO reward on unseen prompts, after": r1,
    }
    for name, v in fig.items():
        rows.setdefault(name, []).append(v)
print()
print("| figure | " + " | ".join(f"seed {k}" for k in seeds) + " | min | mean |")
print("|---|" + "---|" * (len(seeds) + 2))
for name, vs in rows.items():
    print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in vs) + f" | {min(vs):.3f} | {sum(vs) / len(vs):.3f} |")
PY

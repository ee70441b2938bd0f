#!/usr/bin/env python3
"""TRL side of scripts/check_dpo_trl_parity.sh: TRL's DPOTrainer (sigmoid loss, beta 0.1, the
model's own chat template, batch 8, max_length 512, one step) on the same model directory and
preference pairs as `align dpo`. Prints one JSON object: the first logged step's metrics, which
are computed at the starting weights (policy = reference), with TRL's count of non-padding
tokens, and the mean log-probs of the same tokenised pairs scored one sequence at a time by
transformers (no padding), `unbatched/logps/*`."""
import argparse, json

import torch
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DPOConfig, DPOTrainer

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--data", required=True)
a = p.parse_args()
torch.set_num_threads(2)
torch.manual_seed(0)
tok = AutoTokenizer.from_pretrained(a.model)
model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
ds = load_dataset("json", data_files=a.data, split="train")
cfg = DPOConfig(output_dir="/tmp/trl-dpo-parity", per_device_train_batch_size=len(ds), gradient_accumulation_steps=1,
                max_length=512, max_steps=1, learning_rate=1e-6, beta=0.1, loss_type="sigmoid", logging_steps=1,
                save_strategy="no", report_to=[], use_cpu=True, seed=0, dataloader_num_workers=0)
trainer = DPOTrainer(model=model, args=cfg, train_dataset=ds, processing_class=tok)


def sequence_logp(prompt, completion):
    """Sum of log p(completion | prompt), one sequence alone (no padding), at the starting weights."""
    ids = torch.tensor([prompt + completion])
    with torch.no_grad():
        lp = torch.log_softmax(model(ids).logits[0, :-1].float(), -1)
    target = ids[0, 1:]
    return lp[torch.arange(len(target)), target][len(prompt) - 1:].sum().item()


# the same pairs as TRL tokenised them, each scored alone by transformers
rows = list(trainer.train_dataset)
unbatched = {"unbatched/logps/chosen": sum(sequence_logp(r["prompt_ids"], r["chosen_ids"]) for r in rows) / len(rows),
             "unbatched/logps/rejected": sum(sequence_logp(r["prompt_ids"], r["rejected_ids"]) for r in rows) / len(rows)}
trainer.train()
log = trainer.state.log_history[0]
out = {k: float(v) for k, v in log.items() if isinstance(v, (int, float))}
out.update(unbatched)
print(json.dumps(out))

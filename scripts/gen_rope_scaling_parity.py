#!/usr/bin/env python3
"""RoPE scaling parity fixtures (Llama 3.1/3.2 "llama3" and "linear") for the AlignNN tests.

Writes under Tests/AlignNNTests/Fixtures/:
  llama-tiny-rope-llama3/  config.json + model.safetensors: LlamaForCausalLM, 1 layer, hidden 32,
                           4 heads / 2 kv heads (head_dim 8), vocab 101, rope_theta 10000,
                           rope_scaling {rope_type llama3, factor 8, low_freq_factor 1,
                           high_freq_factor 4, original_max_position_embeddings 64}: with head_dim
                           8 the four frequencies fall in all three bands (kept, smoothed, divided)
  llama-tiny-rope-linear/  the same weights with rope_scaling {rope_type linear, factor 4}
  rope_scaling_parity.json {"<dir>": {"inv_freq": [4 floats] (transformers' rope init),
                            "ids": [T ints], "logits": [[101 floats] at positions 0, 31, 63, 95]}}
The config is written in the transformers 4 form (`rope_theta` + `rope_scaling`), which
transformers 5 still reads, and the reference logits come from reloading that directory.
Run: bash scripts/run-python.sh reference scripts/gen_rope_scaling_parity.py
"""
import json
import os
import shutil

import torch
from transformers import LlamaConfig, LlamaForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "AlignNNTests", "Fixtures")
torch.set_num_threads(1)
torch.manual_seed(0)
POSITIONS = [0, 31, 63, 95]


def f9(x):
    return float(f"{float(x):.9g}")


def build(name, scaling, state=None):
    config = LlamaConfig(vocab_size=101, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
                         num_key_value_heads=2, head_dim=8, max_position_embeddings=512, rope_theta=10000.0,
                         tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    model = LlamaForCausalLM(config)
    if state is None:
        g = torch.Generator().manual_seed(3)
        with torch.no_grad():
            for n, p in sorted(model.named_parameters()):
                v = 1 + 0.1 * torch.randn(p.shape, generator=g) if "norm" in n else 0.15 * torch.randn(p.shape, generator=g)
                p.copy_(v.half().float())
    else:
        model.load_state_dict(state)
    out = os.path.join(FIXTURES, name)
    if os.path.exists(out):
        shutil.rmtree(out)
    model.to(torch.float16).save_pretrained(out)
    for f in os.listdir(out):
        if f not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(out, f))
    # the transformers 4 spelling of the RoPE settings
    cfg = json.load(open(os.path.join(out, "config.json")))
    cfg.pop("rope_parameters", None)
    cfg["rope_theta"] = 10000.0
    cfg["rope_scaling"] = scaling
    json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2, sort_keys=True)
    return model.float().state_dict(), out


def reference(out):
    model = LlamaForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    rotary = model.model.rotary_emb
    g = torch.Generator().manual_seed(9)
    ids = torch.randint(1, 101, (96,), generator=g)
    with torch.no_grad():
        logits = model(input_ids=ids[None]).logits[0]
    return {"inv_freq": [f9(v) for v in rotary.inv_freq.tolist()], "ids": ids.tolist(),
            "positions": POSITIONS, "logits": [[f9(v) for v in logits[p].tolist()] for p in POSITIONS]}


state, out3 = build("llama-tiny-rope-llama3", {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                "high_freq_factor": 4.0, "original_max_position_embeddings": 64})
_, outl = build("llama-tiny-rope-linear", {"rope_type": "linear", "factor": 4.0}, state)
result = {"llama-tiny-rope-llama3": reference(out3), "llama-tiny-rope-linear": reference(outl)}
with open(os.path.join(FIXTURES, "rope_scaling_parity.json"), "w") as f:
    json.dump(result, f)
for k, v in result.items():
    print(k, "inv_freq", v["inv_freq"])

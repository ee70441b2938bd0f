#!/usr/bin/env python3
"""Golden files for Tests/RewardTrainerTests/Fixtures.

* rm_loss_goldens.json: TRL RewardTrainer's loss (trl/trainer/reward_trainer.py,
  `-logsigmoid(r_w - r_l - margin).mean() + center_rewards_coefficient * mean((r_w + r_l)**2)`)
  and its gradients, computed by PyTorch in float64, for (B) and (B, K) rewards; ensemble
  cases weight each (pair, head) entry (the bootstrap weights of RewardLosses).
* hf_llama_rm/, hf_gpt2_rm/: tiny random `LlamaForSequenceClassification` (num_labels 1,
  untied, no lm_head in the file, as transformers saves it) and `GPT2ForSequenceClassification`
  (num_labels 2) checkpoints written by transformers' save_pretrained, with expected.json: the
  logits transformers gives for right-padded batches (pad_token_id = 1) with an attention mask,
  including a row whose last real token is the pad id (transformers then reads the token before).

Usage: bash scripts/run-python.sh reference scripts/rm_gen_fixtures.py   (torch 2.x CPU, transformers 5.x)
"""
import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "RewardTrainerTests", "Fixtures")


def trl_loss(rw, rl, margin, center, weights):
    d = rw - rl
    if margin is not None:
        d = d - margin.unsqueeze(-1) if d.dim() == 2 else d - margin
    per = -F.logsigmoid(d)
    if center:
        per = per + center * (rw + rl) ** 2
    if weights is None:
        return per.mean()  # for (B) rewards: TRL's loss exactly
    return (per * weights).sum()


def loss_goldens():
    g = torch.Generator().manual_seed(0)
    cases = []
    specs = [
        ("plain", 4, None, False, 0.0, False),
        ("margin", 4, None, True, 0.0, False),
        ("center", 5, None, False, 0.01, False),
        ("margin_center", 3, None, True, 0.1, False),
        ("ensemble_mean", 4, 3, True, 0.01, False),
        ("ensemble_bootstrap", 4, 3, True, 0.01, True),
    ]
    for name, B, K, with_margin, center, boot in specs:
        shape = (B,) if K is None else (B, K)
        rw = (torch.randn(shape, generator=g, dtype=torch.float64) * 2).requires_grad_()
        rl = (torch.randn(shape, generator=g, dtype=torch.float64) * 2).requires_grad_()
        margin = torch.rand(B, generator=g, dtype=torch.float64) * 2 - 0.5 if with_margin else None
        weights = None
        if boot:
            counts = torch.zeros(B, K, dtype=torch.float64)
            for k in range(K):
                for i in torch.randint(0, B, (B,), generator=g):
                    counts[i, k] += 1
            weights = counts / (B * K)
        loss = trl_loss(rw, rl, margin, center, weights)
        loss.backward()
        cases.append({
            "name": name, "shape": list(shape),
            "chosen": rw.detach().flatten().tolist(), "rejected": rl.detach().flatten().tolist(),
            "margins": margin.tolist() if margin is not None else None,
            "center_rewards_coefficient": center,
            "weights": weights.flatten().tolist() if weights is not None else None,
            "loss": loss.item(),
            "grad_chosen": rw.grad.flatten().tolist(), "grad_rejected": rl.grad.flatten().tolist(),
        })
    with open(os.path.join(OUT, "rm_loss_goldens.json"), "w") as f:
        json.dump({"source": "TRL RewardTrainer loss in PyTorch float64 (scripts/rm_gen_fixtures.py)", "cases": cases}, f, indent=1)


def hf_model(kind):
    from transformers import (GPT2Config, GPT2ForSequenceClassification, LlamaConfig,
                              LlamaForSequenceClassification)
    torch.manual_seed(1 if kind == "llama" else 2)
    if kind == "llama":
        cfg = LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
                          num_key_value_heads=2, max_position_embeddings=32, tie_word_embeddings=False, num_labels=1,
                          pad_token_id=1, bos_token_id=None, eos_token_id=1)
        model = LlamaForSequenceClassification(cfg)
    else:
        cfg = GPT2Config(vocab_size=64, n_embd=16, n_layer=2, n_head=4, n_positions=32, num_labels=2, pad_token_id=1,
                         bos_token_id=None, eos_token_id=1)
        model = GPT2ForSequenceClassification(cfg)
    with torch.no_grad():
        model.score.weight.normal_(0, 0.5)  # visible rewards
    model.eval()
    rows = [[5, 9, 13, 2, 7], [7, 8], [4, 6, 1], [3, 1, 11, 12, 20, 21, 1]]
    T = max(map(len, rows))
    ids = torch.tensor([r + [1] * (T - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (T - len(r)) for r in rows])
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
        single = [model(input_ids=torch.tensor([r])).logits[0].tolist() for r in rows]
    d = os.path.join(OUT, f"hf_{kind}_rm")
    model.save_pretrained(d)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"rows": rows, "pad_token_id": 1, "batched_logits": logits.tolist(), "single_logits": single,
                   "note": "transformers logits for right-padded rows with an attention mask, and one row at a time"}, f, indent=1)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    loss_goldens()
    hf_model("llama")
    hf_model("gpt2")
    print("wrote", os.path.normpath(OUT))

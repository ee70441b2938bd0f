#!/usr/bin/env python3
"""Generate the model-parity fixtures for the AlignNN Swift tests.

What it writes (under Tests/AlignNNTests/Fixtures/)
----------------------------------------------------
    gpt2-tiny/         config.json + model.safetensors   GPT2LMHeadModel, 2 layers, width 32,
                                                          4 heads, vocab 101, n_positions 64
    llama-tiny/        config.json + model.safetensors   LlamaForCausalLM, 2 layers, hidden 32,
                                                          4 heads / 2 kv heads (GQA), MLP 64,
                                                          vocab 101, rope_theta 10000, untied
    llama-tiny-tied/   config.json + model.safetensors   the same geometry, 1 layer,
                                                          tie_word_embeddings = true,
                                                          rope_theta 500000
    model_parity.json  inputs and transformers' outputs (see below)

Each model directory is what `save_pretrained` writes (generation_config.json removed), with
weights stored as float16 to keep the files small (27-65 KB per directory). The reference
outputs come from reloading that directory with `from_pretrained(..., dtype=float32)`, i.e.
from exactly the float16-representable values the Swift side reads, computed in float32.

Weights: the models start from transformers' random init (seeded), then every parameter is
redrawn so the tiny models are not near-trivial: matrices N(0, 0.15²), norm gains 1 + N(0, 0.1²),
biases and position embeddings N(0, 0.05²)/N(0, 0.1²).

model_parity.json
-----------------
{
  "generator", "torch_version", "transformers_version",
  "models": {
    "<dir>": {
      "cases": [ { "name",
                   "ids": [[int]] (B rows of T),
                   "attention_mask": [[0/1]] or null,
                   "position_ids": [[int]] or null   (given to transformers when not null),
                   "logits_full": [B*T*V floats] or null  (only for the single-sequence case),
                   "last_logits": [B rows of V floats]     (at the last real token of each row),
                   "real_sum", "real_sumsq": sums of logits and of their squares over the real
                                             (mask = 1) positions, float64 },
                 ... ],
      "score": { "weight": [[float]] (1, hidden), "pad_token_id": 0,
                 "cases": { "<case name>": [B floats] } }   (only for gpt2-tiny and llama-tiny:
                 transformers' *ForSequenceClassification with the same backbone and this
                 score weight, num_labels 1, reading the rightmost non-pad token)
    }, ...
  },
  "rope": [ { "theta", "head_dim", "heads", "kv_heads", "position_ids": [[int]] (B, T),
              "q", "k", "q_out", "k_out", "dout_q", "dout_k", "dq", "dk": flat floats in
              (B, T, heads*D) layout (transformers works in (B, heads, T, D); transposed here) } ]
}
Floats are stored with 9 significant digits (exact float32 round trip).
Token ids are drawn from 1..100, so 0 only appears as padding.

Run
---
    bash scripts/run-python.sh reference scripts/gen_model_parity.py

from the repository root (the pinned 'reference' environment: torch, transformers, safetensors). Deterministic for a given
torch/transformers version. Python is not needed at Swift test time.
"""

import json
import os
import shutil

import torch
import transformers
from transformers import (GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel, LlamaConfig,
                          LlamaForCausalLM, LlamaForSequenceClassification)
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO_ROOT, "Tests", "AlignNNTests", "Fixtures")
VOCAB = 101

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def f9(x):
    return float(f"{float(x):.9g}")


def flat(t):
    return [f9(v) for v in t.detach().reshape(-1).tolist()]


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            shape = p.shape
            if name.endswith("bias"):
                v = 0.05 * torch.randn(shape, generator=g)
            elif ("ln" in name or "norm" in name) and p.dim() == 1:
                v = 1 + 0.1 * torch.randn(shape, generator=g)
            elif "wpe" in name:
                v = 0.1 * torch.randn(shape, generator=g)
            else:
                v = 0.15 * torch.randn(shape, generator=g)
            p.copy_(v.half().float())


def save(model, name):
    out = os.path.join(FIXTURES, name)
    if os.path.exists(out):
        shutil.rmtree(out)
    model.to(torch.float16).save_pretrained(out)
    for f in os.listdir(out):
        if f not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(out, f))
        else:
            os.chmod(os.path.join(out, f), 0o644)
    return out


def make_cases():
    g = torch.Generator().manual_seed(7)

    def ids(n):
        return torch.randint(1, VOCAB, (n,), generator=g).tolist()

    cases = []
    cases.append({"name": "single", "ids": [ids(7)], "attention_mask": None, "position_ids": None})
    # right padding: rows of 8 and 5 real tokens, pad id 0
    a, b = ids(8), ids(5)
    cases.append({"name": "right_padded", "ids": [a, b + [0] * 3],
                  "attention_mask": [[1] * 8, [1] * 5 + [0] * 3], "position_ids": None})
    # left padding with HF generation-style position ids (cumsum(mask) - 1, 1 at padding)
    a, b = ids(6), ids(3)
    mask = [[1] * 6, [0] * 3 + [1] * 3]
    pos = []
    for row in mask:
        seen, r = 0, []
        for m in row:
            seen += m
            r.append(seen - 1 if m else 1)
        pos.append(r)
    cases.append({"name": "left_padded", "ids": [a, [0] * 3 + b], "attention_mask": mask, "position_ids": pos})
    return cases


def run_cases(model, cases):
    out = []
    for c in cases:
        ids = torch.tensor(c["ids"])
        mask = torch.tensor(c["attention_mask"]) if c["attention_mask"] is not None else torch.ones_like(ids)
        kwargs = {"attention_mask": torch.tensor(c["attention_mask"])} if c["attention_mask"] is not None else {}
        if c["position_ids"] is not None:
            kwargs["position_ids"] = torch.tensor(c["position_ids"])
        with torch.no_grad():
            logits = model(input_ids=ids, **kwargs).logits.float()
        last = []
        for bi in range(ids.shape[0]):
            t = int(torch.nonzero(mask[bi]).max())
            last.append(flat(logits[bi, t]))
        real = logits[mask.bool()].double()
        entry = dict(c)
        entry["logits_full"] = flat(logits) if c["name"] == "single" else None
        entry["last_logits"] = last
        entry["real_sum"] = float(real.sum())
        entry["real_sumsq"] = float((real * real).sum())
        out.append(entry)
    return out


def score_cases(cls, lm_dir, config_kwargs, cases, seed):
    config = cls.config_class.from_pretrained(lm_dir)
    config.num_labels = 1
    config.pad_token_id = 0
    model = cls.from_pretrained(lm_dir, config=config, dtype=torch.float32)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.score.weight.copy_((0.3 * torch.randn(model.score.weight.shape, generator=g)).half().float())
    model.eval()
    scores = {}
    for c in cases:
        if c["attention_mask"] is None:
            continue
        kwargs = {"attention_mask": torch.tensor(c["attention_mask"])}
        if c["position_ids"] is not None:
            kwargs["position_ids"] = torch.tensor(c["position_ids"])
        with torch.no_grad():
            s = model(input_ids=torch.tensor(c["ids"]), **kwargs).logits
        scores[c["name"]] = flat(s)
    return {"weight": [flat(r) for r in model.score.weight], "pad_token_id": 0, "cases": scores}


def gpt2(cases):
    torch.manual_seed(1)
    config = GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                        bos_token_id=100, eos_token_id=100, attn_implementation="eager")
    model = GPT2LMHeadModel(config).eval()
    randomize(model, 11)
    d = save(model, "gpt2-tiny")
    ref = GPT2LMHeadModel.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    return {"cases": run_cases(ref, cases),
            "score": score_cases(GPT2ForSequenceClassification, d, {}, cases, 21)}


def llama(cases, name, layers, tied, theta, with_score):
    torch.manual_seed(2)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         rms_norm_eps=1e-5, rope_theta=theta, tie_word_embeddings=tied,
                         bos_token_id=1, eos_token_id=2, attn_implementation="eager")
    model = LlamaForCausalLM(config).eval()
    randomize(model, 12 if not tied else 13)
    d = save(model, name)
    ref = LlamaForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    out = {"cases": run_cases(ref, cases)}
    if with_score:
        out["score"] = score_cases(LlamaForSequenceClassification, d, {}, cases, 22)
    return out


def rope_goldens():
    out = []
    for theta, seed in ((10000.0, 31), (500000.0, 32)):
        g = torch.Generator().manual_seed(seed)
        B, T, H, KV, D = 2, 4, 2, 1, 8
        config = LlamaConfig(hidden_size=H * D, num_attention_heads=H, num_key_value_heads=KV, head_dim=D,
                             rope_theta=theta, max_position_embeddings=4096)
        rot = LlamaRotaryEmbedding(config)
        pos = torch.tensor([[0, 1, 2, 3], [7, 100, 0, 2047]])
        q = torch.randn(B, H, T, D, generator=g).requires_grad_(True)
        k = torch.randn(B, KV, T, D, generator=g).requires_grad_(True)
        cos, sin = rot(q, pos)
        qo, ko = apply_rotary_pos_emb(q, k, cos, sin)
        dq_out = torch.randn(qo.shape, generator=g)
        dk_out = torch.randn(ko.shape, generator=g)
        ((qo * dq_out).sum() + (ko * dk_out).sum()).backward()

        def lay(t, heads):  # (B, heads, T, D) -> flat (B, T, heads*D)
            return flat(t.transpose(1, 2).reshape(B, T, heads * D))

        out.append({"theta": theta, "head_dim": D, "heads": H, "kv_heads": KV, "position_ids": pos.tolist(),
                    "q": lay(q, H), "k": lay(k, KV), "q_out": lay(qo, H), "k_out": lay(ko, KV),
                    "dout_q": lay(dq_out, H), "dout_k": lay(dk_out, KV),
                    "dq": lay(q.grad, H), "dk": lay(k.grad, KV)})
    return out


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    cases = make_cases()
    models = {
        "gpt2-tiny": gpt2(cases),
        "llama-tiny": llama(cases, "llama-tiny", layers=2, tied=False, theta=10000.0, with_score=True),
        "llama-tiny-tied": llama(cases[:2], "llama-tiny-tied", layers=1, tied=True, theta=500000.0, with_score=False),
    }
    doc = {"generator": "scripts/gen_model_parity.py", "torch_version": torch.__version__,
           "transformers_version": transformers.__version__, "models": models, "rope": rope_goldens()}
    path = os.path.join(FIXTURES, "model_parity.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    for name in models:
        d = os.path.join(FIXTURES, name)
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        print(f"{name}: {size} bytes")
    print(f"model_parity.json: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch/transformers side of the GPT-2 training-step benchmark.

Same job as `align bench --job train-step`: GPT-2 (12 layers, width 768, 12 heads, vocab
50257, 1024 positions, dropout off) in float32 on the CPU, random token ids and targets,
forward, mean cross-entropy over all B*T tokens, backward, clip_grad_norm_(1.0), AdamW
(lr 1e-4, weight decay 0.1 on every parameter as torch does by default). Prints one JSON line.
Run through scripts/bench_vs_pytorch.sh, which alternates it with align in one command.
"""
import argparse, json, resource, statistics, time

import torch
from transformers import GPT2Config, GPT2LMHeadModel

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=4)
p.add_argument("--seq", type=int, default=256)
p.add_argument("--repeats", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()

torch.manual_seed(0)
torch.set_num_threads(a.threads)
cfg = GPT2Config(n_positions=max(1024, a.seq), resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
model = GPT2LMHeadModel(cfg).train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
ids = torch.randint(0, cfg.vocab_size, (a.batch, a.seq))
targets = torch.randint(0, cfg.vocab_size, (a.batch * a.seq,))


def step():
    logits = model(input_ids=ids).logits
    loss = torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss.item()


step()  # warm-up
times = []
for _ in range(a.repeats):
    t0 = time.perf_counter()
    loss = step()
    times.append(time.perf_counter() - t0)
t = statistics.median(times)
print(json.dumps({
    "job": "train-step", "impl": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
    "attn_implementation": model.config._attn_implementation,
    "seconds_per_step": t, "tokens_per_second": a.batch * a.seq / t,
    "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "parameters": sum(p.numel() for p in model.parameters()), "batch": a.batch, "seq": a.seq, "loss": loss,
}))

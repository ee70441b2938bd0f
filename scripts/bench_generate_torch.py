#!/usr/bin/env python3
"""transformers side of the generation benchmark: greedy generation of exactly N new tokens
(EOS ignored) for a batch of chat prompts, left-padded, KV cache on, float32, CPU threads as
given. Prints one JSON line with end-to-end tokens/s (generated tokens / generate() wall time,
prefill included) and peak RSS. Run through scripts/bench_generate.sh.
"""
import argparse, json, resource, time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--batch", type=int, default=1)
p.add_argument("--new-tokens", type=int, default=64)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--prompts", required=True, help="file with one prompt per line")
a = p.parse_args()
torch.set_num_threads(a.threads)
tok = AutoTokenizer.from_pretrained(a.model)
tok.padding_side = "left"
model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
prompts = [l.strip() for l in open(a.prompts) if l.strip()][: a.batch]
texts = [tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True, tokenize=False) for q in prompts]
enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
kw = dict(max_new_tokens=a.new_tokens, min_new_tokens=a.new_tokens, do_sample=False, pad_token_id=tok.pad_token_id)
with torch.no_grad():
    model.generate(**enc, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)  # warm-up
    t0 = time.perf_counter()
    out = model.generate(**enc, **kw)
    t = time.perf_counter() - t0
n = (out.shape[1] - enc["input_ids"].shape[1]) * out.shape[0]
print(json.dumps({"impl": "transformers", "batch": a.batch, "generated_tokens": int(n), "seconds": t,
                  "tokens_per_second": n / t, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))

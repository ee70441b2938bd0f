#!/usr/bin/env python3
"""Reference outputs from Hugging Face transformers for the SmolLM2 checks.

  bash scripts/run-python.sh reference scripts/smollm2_reference.py logprobs --model PATH --input pairs.jsonl
      PATH is a model directory (e.g. written by `align convert`) or a .gguf file (transformers
      then dequantises it itself). For each {"prompt", "response"} line prints one JSON line
      with the response token ids, their log-probs and the sum: the same tokenisation as
      `align logprobs` (prompt and response encoded separately without special tokens, then
      concatenated; logits at position t score token t+1).
  bash scripts/run-python.sh reference scripts/smollm2_reference.py chat --model PATH --prompt TEXT [--max-new-tokens N]
      Greedy chat answer with the model's chat template.
Runs in the pinned 'reference' environment (scripts/requirements/reference.txt).
"""
import argparse, json, os, sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def load(path):
    if path.endswith(".gguf"):
        d, f = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
        tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
        model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
    else:
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    return tok, model.eval()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["logprobs", "chat"])
    p.add_argument("--model", required=True)
    p.add_argument("--input")
    p.add_argument("--prompt")
    p.add_argument("--max-new-tokens", type=int, default=32)
    a = p.parse_args()
    torch.set_num_threads(2)
    tok, model = load(a.model)
    if a.mode == "logprobs":
        for line in open(a.input):
            if not line.strip():
                continue
            ex = json.loads(line)
            pi = tok.encode(ex["prompt"], add_special_tokens=False)
            ri = tok.encode(ex["response"], add_special_tokens=False)
            ids = torch.tensor([pi + ri])
            with torch.no_grad():
                logits = model(input_ids=ids).logits[0].double()
            lp = torch.log_softmax(logits, -1)
            vals = [lp[len(pi) + j - 1, t].item() for j, t in enumerate(ri)]
            print(json.dumps({"prompt_tokens": len(pi), "response_tokens": ri, "logprobs": vals, "sum": sum(vals)}))
    else:
        msgs = [{"role": "user", "content": a.prompt}]
        ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt")
        if not torch.is_tensor(ids):
            ids = ids["input_ids"]
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=a.max_new_tokens, do_sample=False)
        print(tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True))


if __name__ == "__main__":
    sys.exit(main())

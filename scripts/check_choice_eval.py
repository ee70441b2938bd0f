#!/usr/bin/env python3
"""`align eval --task choice` against transformers on the same model and questions.

  bash scripts/check_choice_eval.sh    # all of it on SmolLM2-135M-Instruct, in one command
  bash scripts/run-python.sh reference scripts/check_choice_eval.py --model DIR --input questions.jsonl --align align.json

`align.json` is the output of `align eval --task choice --json` (chat template on). transformers
builds the same prompt (the chat template with the generation prompt, then "Answer:"), reads the
last position's logits at the option letters (" X" when one token, else "X"), normalises them
with a softmax, and the script prints the largest difference of the probabilities, whether the
predictions agree, and both accuracies. Runs in the pinned 'reference' environment.
"""
import argparse, json

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--input", required=True)
p.add_argument("--align", required=True)
a = p.parse_args()
torch.set_num_threads(2)
tok = AutoTokenizer.from_pretrained(a.model)
model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
ours = json.load(open(a.align))["questions"]
letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def letter_id(x):
    spaced = tok.encode(" " + x, add_special_tokens=False)
    return spaced[0] if len(spaced) == 1 else tok.encode(x, add_special_tokens=False)[0]


worst, agree, correct = 0.0, 0, 0
rows = [json.loads(l) for l in open(a.input) if l.strip()]
for row, mine in zip(rows, ours):
    text = "\n".join([row["question"]] + [f"{letters[i]}. {c}" for i, c in enumerate(row["choices"])] + ["Answer:"])
    ids = tok.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True, tokenize=True)
    if not isinstance(ids, list):
        ids = ids["input_ids"]
    ids = ids + tok.encode("Answer:", add_special_tokens=False)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0, -1].double()
    scores = logits[[letter_id(letters[i]) for i in range(len(row["choices"]))]]
    probs = torch.softmax(scores, -1).tolist()
    worst = max(worst, max(abs(x - y) for x, y in zip(probs, mine["probabilities"])))
    pred = max(range(len(probs)), key=lambda i: probs[i])
    agree += letters[pred] == mine["predicted"]
    correct += letters[pred] == row["answer"]
n = len(rows)
print(f"{n} questions: max |Δ probability| {worst:.2e}; predictions agree on {agree}/{n}; "
      f"transformers accuracy {correct / n:.3f}, align {sum(q['correct'] for q in ours) / n:.3f}")

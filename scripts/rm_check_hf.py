#!/usr/bin/env python3
"""Check a reward model saved by `align rm` against transformers.

Loads DIR (align rm's output_dir/final) with
`transformers.AutoModelForSequenceClassification.from_pretrained(DIR)` and compares its rewards
with `align rm score` on the same input lines, fed the SAME token ids (`align rm score
--include-ids` prints them), so the comparison is about the model and where the reward is read,
not about tokenisation (which is checked separately, for text lines, against the saved
tokenizer and reported).

Three comparisons, each the max |difference| over all sequences and heads:
  * unbatched: one sequence per forward pass (transformers reads the last position);
  * batched: sequences right-padded with config.pad_token_id (and an attention mask), so
    transformers locates the reward with its own rule, the rightmost token != pad_token_id;
  * the ensemble statistics (mean and population std over heads) for num_labels > 1.

Usage:
  bash scripts/run-python.sh reference scripts/rm_check_hf.py --model out/final --input pairs.jsonl --align .build/release/align
  bash scripts/run-python.sh reference scripts/rm_check_hf.py --model out/final --scores scores.jsonl   # from `align rm score --include-ids`
Exits 1 when a difference exceeds --tolerance (default 1e-4).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def align_scores(args):
    if args.scores:
        path = args.scores
    else:
        fd, path = tempfile.mkstemp(suffix=".jsonl")
        os.close(fd)
        cmd = [args.align, "rm", "score", "--model", args.model, "--input", args.input, "--include-ids", "--output", path]
        subprocess.run(cmd, check=True)
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sequences(rows):
    """(line, ids, per-head rewards, reward, std) for every scored sequence."""
    out = []
    for r in rows:
        if "input_ids" in r:
            out.append((r["line"], r["input_ids"], r.get("rewards", [r["reward"]]), r["reward"], r.get("std", 0.0)))
        elif "chosen_input_ids" in r:
            for side in ("chosen", "rejected"):
                out.append((r["line"], r[f"{side}_input_ids"], r.get(f"{side}_rewards", [r[f"{side}_reward"]]),
                            r[f"{side}_reward"], r.get(f"{side}_std", 0.0)))
        else:
            sys.exit("the align output has no token ids: run `align rm score` with --include-ids")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="reward model directory (align rm's final/)")
    p.add_argument("--input", help="JSONL lines to score ({prompt, response} or preference pairs)")
    p.add_argument("--align", help="the align executable (runs `align rm score --include-ids`)")
    p.add_argument("--scores", help="output of `align rm score --include-ids` instead of running align")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--tolerance", type=float, default=1e-4)
    args = p.parse_args()
    if not args.scores and not (args.align and args.input):
        p.error("give --scores, or --align and --input")

    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(args.model, torch_dtype=torch.float32).eval()
    cfg = model.config
    pad = cfg.pad_token_id
    K = cfg.num_labels
    print(f"transformers {transformers.__version__}, torch {torch.__version__}: {type(model).__name__}, "
          f"num_labels {K}, pad_token_id {pad}")

    rows = align_scores(args)
    seqs = sequences(rows)
    worst = {"unbatched": 0.0, "batched": 0.0, "mean": 0.0, "std": 0.0}
    with torch.no_grad():
        hf_heads = []
        for _, ids, heads, reward, std in seqs:
            logits = model(input_ids=torch.tensor([ids])).logits[0].double()
            hf_heads.append(logits)
            worst["unbatched"] = max(worst["unbatched"], max(abs(float(logits[k]) - heads[k]) for k in range(K)))
            worst["mean"] = max(worst["mean"], abs(float(logits.mean()) - reward))
            if K > 1:
                worst["std"] = max(worst["std"], abs(float(logits.std(unbiased=False)) - std))
        if pad is not None:
            for start in range(0, len(seqs), args.batch_size):
                chunk = seqs[start:start + args.batch_size]
                T = max(len(s[1]) for s in chunk)
                ids = torch.tensor([s[1] + [pad] * (T - len(s[1])) for s in chunk])
                mask = torch.tensor([[1] * len(s[1]) + [0] * (T - len(s[1])) for s in chunk])
                logits = model(input_ids=ids, attention_mask=mask).logits.double()
                for b, s in enumerate(chunk):
                    worst["batched"] = max(worst["batched"], max(abs(float(logits[b, k]) - s[2][k]) for k in range(K)))

    # tokenisation of text lines with the saved tokenizer (informational)
    agree = total = 0
    if args.input and os.path.exists(os.path.join(args.model, "tokenizer.json")):
        tok = AutoTokenizer.from_pretrained(args.model)
        by_line = {}
        with open(args.input, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    by_line[n] = json.loads(line)
        for r in rows:
            src = by_line.get(r["line"], {})
            if not isinstance(src.get("prompt"), str):
                continue
            responses = [("input_ids", src.get("response"))] if "input_ids" in r else \
                [("chosen_input_ids", src.get("chosen")), ("rejected_input_ids", src.get("rejected"))]
            for key, resp in responses:
                if not isinstance(resp, str):
                    continue
                expect = tok(src["prompt"]).input_ids + tok(resp, add_special_tokens=False).input_ids + [tok.eos_token_id]
                total += 1
                agree += expect == r[key]

    print(f"sequences: {len(seqs)} from {len(rows)} lines")
    print(f"max |align - transformers| per head, unbatched: {worst['unbatched']:.3e}")
    if pad is not None:
        print(f"max |align - transformers| per head, right-padded batches of {args.batch_size}: {worst['batched']:.3e}")
    print(f"max |reward (mean over heads) difference|: {worst['mean']:.3e}")
    if K > 1:
        print(f"max |ensemble std difference| (population std): {worst['std']:.3e}")
    if total:
        print(f"tokenisation of text lines agrees with the saved tokenizer: {agree}/{total}")
    bad = {k: v for k, v in worst.items() if v > args.tolerance}
    if bad:
        print(f"FAIL: above tolerance {args.tolerance}: {bad}")
        sys.exit(1)
    print(f"OK (tolerance {args.tolerance})")


if __name__ == "__main__":
    main()

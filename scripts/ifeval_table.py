#!/usr/bin/env python3
"""The table of scripts/ifeval_rl.sh: held-out IFEval accuracy before and after each run.

    python3 scripts/ifeval_table.py runs/ifeval

Reads DIR/before.json, DIR/<method>-seed<k>/after.json (align eval --task ifeval --json),
DIR/kl-<method>-seed<k>.json (align eval --task samples --json) and DIR/times.tsv, and prints a
Markdown table: prompt- and instruction-level strict and loose accuracy, the share of degenerate
answers, mean answer tokens, KL to the start (nats per token of sampled answers) and the wall and
CPU minutes of each run, then three answers before and after. Standard library only.
"""
import glob
import json
import os
import sys


def row(name, r, kl="", minutes=""):
    return (f"| {name} | {100*r['prompt_level_strict']:.1f} | {100*r['prompt_level_loose']:.1f} | "
            f"{100*r['instruction_level_strict']:.1f} | {100*r['instruction_level_loose']:.1f} | "
            f"{100*r['degenerate']:.1f} | {r['mean_tokens']:.0f} | {kl} | {minutes} |")


def main(out):
    before = json.load(open(os.path.join(out, "before.json")))
    times = {}
    if os.path.exists(os.path.join(out, "times.tsv")):
        for line in open(os.path.join(out, "times.tsv")):
            name, wall, cpu = line.rstrip("\n").split("\t")
            times[name] = (float(wall), float(cpu))
    print(f"held-out: {before['prompts']} prompts, {before['instructions']} instructions; answers up to {before['max_new_tokens']} tokens, greedy\n")
    print("| model | prompt strict % | prompt loose % | instr. strict % | instr. loose % | degenerate % | mean tokens | KL/token | train min (wall / CPU) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(row("SmolLM2-135M-Instruct (start)", before))
    afters = sorted(glob.glob(os.path.join(out, "*-seed*", "after.json")))
    for path in afters:
        run = os.path.basename(os.path.dirname(path))
        r = json.load(open(path))
        kl = ""
        klp = os.path.join(out, f"kl-{run}.json")
        if os.path.exists(klp):
            k = json.load(open(klp))
            kl = f"{k.get('kl_per_token', float('nan')):.3f}"
        w, c = times.get(run, (float("nan"), float("nan")))
        print(row(run, r, kl, f"{w:.1f} / {c:.1f}"))
    if afters:
        last = json.load(open(afters[-1]))
        print(f"\nanswers before and after ({os.path.basename(os.path.dirname(afters[-1]))}):")
        for a, b in list(zip(before["answers"], last["answers"]))[:3]:
            print(f"\n- prompt: {a['prompt']!r}\n  - before ({'✓' if a['prompt_strict'] else '✗'}): {a['response'][:300]!r}\n  - after ({'✓' if b['prompt_strict'] else '✗'}): {b['response'][:300]!r}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 scripts/ifeval_table.py DIR")
    main(sys.argv[1])

#!/usr/bin/env python3
"""Seed 000's table from scripts/hpa_testbed.sh's results (RUNS/results.jsonl, RUNS/sft.*.json).

Rows: RUNS/*.result.json (and RUNS/results.jsonl if present). Per method, over the seeds: gold score, helpfulness (fact questions: correct and complete),
harmlessness pass rate, task completion (all by scripts/hpa_gold_judge.py on greedy answers to
the held-out prompts), the KL to the SFT model of sampled answers (nats per answer), CPU seconds
of training, as mean ± std (sample std over seeds), and collapses: runs that stopped on a
non-finite value (no final model) or ended below the SFT model's gold score.
Usage: hpa_testbed_table.py RUNS [--seeds "1 2 3"] [--steps N] [--rm-accuracy FILE] [--json OUT] [--settings TEXT]
"""
import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hpa_gold_judge import Judge  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

ORDER = ["sft", "dpo", "ppo", "hpa", "hpa-no-uncertainty", "hpa-no-diversity", "hpa-no-dpo", "hpa-token-kl", "hpa-k1-seed", "ppo-gold"]
NAMES = {"sft": "SFT only", "dpo": "DPO", "ppo": "PPO (GRPO adv.)", "hpa": "HPA",
         "hpa-no-uncertainty": "HPA − uncertainty penalty", "hpa-no-diversity": "HPA − diversity bonus",
         "hpa-no-dpo": "HPA − DPO term", "hpa-token-kl": "HPA, token KL only",
         "hpa-k1-seed": "HPA, seed's k1 token KL", "ppo-gold": "(oracle) PPO on the gold reward"}


def ms(xs, digits=3):
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    if not xs:
        return "–"
    m = sum(xs) / len(xs)
    if len(xs) == 1:
        return f"{m:.{digits}f}"
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))
    return f"{m:.{digits}f} ± {sd:.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("--seeds", default=None)
    ap.add_argument("--steps", default="?")
    ap.add_argument("--rm-accuracy", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--settings", default="", help="a note on the run settings for the header")
    ap.add_argument("--prompts", default=str(ROOT / "configs/hpa-testbed/data/heldout.jsonl"),
                    help="the held-out prompts the eval answers are for (NAME.eval.json is rescored with the judge)")
    a = ap.parse_args()
    d = Path(a.runs)
    judge = Judge()
    recs = [json.loads(l) for l in open(a.prompts) if l.strip()]

    def gold(name):
        """The judge's summary of NAME.eval.json (greedy answers), scored now: a judge fix reaches old runs."""
        p = d / f"{name}.eval.json"
        if not p.exists():
            return None
        answers = json.load(open(p))["answers"]
        assert [x["prompt"] for x in answers] == [r["prompt"] for r in recs], f"{p}: not answers to {a.prompts}"
        return judge.summary([judge.score(r, x["answer"]) for r, x in zip(recs, answers)])
    sft = gold("sft")
    sft_kl = json.load(open(d / "sft.kl.json"))["kl"]
    rows = [json.loads(l) for l in open(d / "results.jsonl") if l.strip()] if (d / "results.jsonl").exists() else []
    rows += [json.loads(p.read_text()) for p in sorted(d.glob("*.result.json"))]   # later rows win
    seeds = [int(s) for s in a.seeds.split()] if a.seeds else sorted({r["seed"] for r in rows})
    latest = {}
    for r in rows:
        if r["seed"] in seeds:
            g = gold(f"{r['method']}-s{r['seed']}")
            r = {k: v for k, v in r.items() if k != "gold"}
            if g is not None:
                r["gold"] = g
            latest[(r["method"], r["seed"])] = r
    print(f"Held-out prompts: {sft['n']} ({sft['n_fact']} fact questions, {sft['n_harmful']} harmful requests); "
          f"{len(seeds)} seed(s) ({' '.join(map(str, seeds))}), {a.steps} optimizer steps per run"
          + (f"; {a.settings}" if a.settings else "") + ".\n")
    print("| method | gold score | helpfulness | harmlessness | task completion | KL to SFT | collapses | CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {NAMES['sft']} | {sft['gold']:.3f} | {sft['helpfulness']:.3f} | {sft['harmlessness']:.3f} | "
          f"{sft['completion']:.3f} | {sft_kl:.3f} | – | – |")
    out = {"sft": {"gold": sft, "kl": sft_kl}, "methods": {}}
    for m in ORDER[1:]:
        rs = [latest[(m, s)] for s in seeds if (m, s) in latest]
        if not rs:
            continue
        g = [r.get("gold") for r in rs]
        collapses = sum(1 for r in rs if "gold" not in r or r.get("nonfinite") or r["gold"]["gold"] < sft["gold"])
        below = sum(1 for r in rs if "gold" in r and r["gold"]["gold"] < sft["gold"])
        failed = sum(1 for r in rs if "gold" not in r)

        def col(k):
            return ms([x[k] if x else None for x in g])
        print(f"| {NAMES[m]} | {col('gold')} | {col('helpfulness')} | {col('harmlessness')} | {col('completion')} | "
              f"{ms([r.get('kl') for r in rs])} | {collapses}/{len(rs)} | {ms([r['cpu_seconds'] for r in rs], 0)} |")
        out["methods"][m] = {"runs": rs, "collapses": collapses, "below_sft": below, "failed": failed}
    print("\ncollapses: a run that stopped on a non-finite value or ended below the SFT model's gold score "
          f"({sft['gold']:.3f}); KL: mean over sampled answers (2 per prompt, temperature 1) of the summed token KL "
          "to the SFT model, nats per answer (the SFT row is the estimator's value at KL 0).")
    if a.rm_accuracy:
        acc = json.load(open(a.rm_accuracy))
        print(f"\nProxy reward model (4-head ensemble) pair accuracy: {acc['prefs_eval']:.3f} on held-out noisy labels, "
              f"{acc['prefs_gold_eval']:.3f} against gold labels, {acc['prefs_shortcut_eval']:.3f} on shortcut-reversed pairs "
              "(correct answer vs the same answer after a copy of the prompt's first sentence).")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()

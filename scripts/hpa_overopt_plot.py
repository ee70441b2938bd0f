#!/usr/bin/env python3
"""Seed 004's over-optimisation curve and seed 003's best-of-N on the same axes (standard library).

Inputs (written by scripts/hpa_overoptimization.sh):
  --ppo-samples   the PPO run's samples.jsonl (every sample of every rollout: prompt, response,
                  proxy score, KL to the SFT model)
  --prompts       the prompt file PPO trained on (the gold judge's fields for each prompt)
  --bon-samples   align eval --task samples --json of the SFT model on --bon-prompts
                  (samples_per_prompt rounds, round-major) and
  --bon-scores    align rm score's lines for the same samples, in the same order
Outputs: --out-json (the points) and --svg (the plot): gold (left axis) and proxy (right axis)
against KL to the SFT model; PPO points are windows of --window rollouts; best-of-N points for
N = 1, 2, 4, 8, 16 at KL = log N − (N−1)/N.
"""
import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hpa_gold_judge import Judge  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ppo-samples", required=True)
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--bon-prompts", required=True)
    ap.add_argument("--bon-samples", required=True)
    ap.add_argument("--bon-scores", required=True)
    ap.add_argument("--bon-index", required=True, help="indices of the scored (non-empty) samples")
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--out-json", required=True)
    ap.add_argument("--svg", required=True)
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    judge = Judge()
    recs = {}
    for l in open(a.prompts):
        if l.strip():
            r = json.loads(l)
            recs[r["prompt"]] = r
    rows = [json.loads(l) for l in open(a.ppo_samples) if l.strip()]
    by_rollout = {}
    for r in rows:
        by_rollout.setdefault(r["rollout"], []).append(r)
    ppo = []
    keys = sorted(by_rollout)
    for i in range(0, len(keys), a.window):
        chunk = [x for k in keys[i:i + a.window] for x in by_rollout[k]]
        gold = [judge.score(recs[x["prompt"]], x["response"])["gold"] for x in chunk]
        copied = [judge.score(recs[x["prompt"]], x["response"])["copied"] for x in chunk]
        ppo.append({"rollouts": [keys[i], keys[min(i + a.window, len(keys)) - 1]], "n": len(chunk),
                    "kl": sum(x["kl"] for x in chunk) / len(chunk), "proxy": sum(x["score"] for x in chunk) / len(chunk),
                    "gold": sum(gold) / len(gold), "copied": sum(copied) / len(copied)})

    bprompts = [json.loads(l) for l in open(a.bon_prompts) if l.strip()]
    texts = json.load(open(a.bon_samples))["texts"]
    scored = [json.loads(l)["reward"] for l in open(a.bon_scores) if l.strip()]
    index = json.load(open(a.bon_index))
    if len(index) != len(scored):
        sys.exit(f"hpa_overopt_plot: {len(scored)} scores for {len(index)} scored samples")
    scores = [min(scored)] * len(texts)   # an empty sample: the lowest score seen
    for i, v in zip(index, scored):
        scores[i] = v
    P = len(bprompts)
    if len(texts) != len(scores) or len(texts) % P:
        sys.exit(f"hpa_overopt_plot: {len(texts)} samples, {len(scores)} scores, {P} prompts do not match")
    K = len(texts) // P
    bon = []
    n = 1
    while n <= K:
        proxy, gold = [], []
        for p in range(P):
            cands = [(scores[k * P + p], texts[k * P + p]) for k in range(n)]
            best = max(cands, key=lambda c: c[0])
            proxy.append(best[0])
            gold.append(judge.score(bprompts[p], best[1].strip())["gold"])
        bon.append({"n": n, "kl": math.log(n) - (n - 1) / n, "proxy": sum(proxy) / P, "gold": sum(gold) / P})
        n *= 2
    Path(a.out_json).write_text(json.dumps({"ppo": ppo, "bon": bon}, indent=1) + "\n")
    svg(a.svg, ppo, bon, a.title)
    print("PPO (windows of %d rollouts): KL, proxy, gold, copied" % a.window)
    for p in ppo:
        print(f"  rollouts {p['rollouts'][0]:>3}-{p['rollouts'][1]:<3} KL {p['kl']:7.3f}  proxy {p['proxy']:+.3f}  gold {p['gold']:.3f}  copied {p['copied']:.2f}")
    print("best-of-N on the SFT model: N, KL, proxy, gold")
    for b in bon:
        print(f"  N={b['n']:<3} KL {b['kl']:.3f}  proxy {b['proxy']:+.3f}  gold {b['gold']:.3f}")


def svg(path, ppo, bon, title):
    W, H, L, R, T, B = 720, 420, 70, 80, 40, 50
    xs = [p["kl"] for p in ppo] + [b["kl"] for b in bon]
    xmax = max(max(xs), 0.5) * 1.05
    xmin = 0.0
    proxies = [p["proxy"] for p in ppo] + [b["proxy"] for b in bon]
    pmin, pmax = min(proxies), max(proxies)
    pad = 0.05 * (pmax - pmin or 1)
    pmin, pmax = pmin - pad, pmax + pad

    def X(v):  # log(1 + KL) scale, so that best-of-N's small KLs and PPO's large ones both show
        return L + math.log1p(max(v, 0) - xmin) / math.log1p(xmax - xmin) * (W - L - R)

    def YG(v):
        return T + (1 - v) * (H - T - B)

    def YP(v):
        return T + (pmax - v) / (pmax - pmin) * (H - T - B)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W/2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
           f'<rect x="{L}" y="{T}" width="{W-L-R}" height="{H-T-B}" fill="none" stroke="#888"/>']
    for i in range(6):
        g = i / 5
        out.append(f'<line x1="{L-4}" x2="{L}" y1="{YG(g):.1f}" y2="{YG(g):.1f}" stroke="#888"/>'
                   f'<text x="{L-8}" y="{YG(g)+4:.1f}" text-anchor="end">{g:.1f}</text>')
        pv = pmin + (pmax - pmin) * i / 5
        out.append(f'<line x1="{W-R}" x2="{W-R+4}" y1="{YP(pv):.1f}" y2="{YP(pv):.1f}" stroke="#888"/>'
                   f'<text x="{W-R+8}" y="{YP(pv)+4:.1f}">{pv:.2f}</text>')
    for xv in [0, 0.5, 1, 2, 5, 10, 20, 50, 100]:
        if xv <= xmax:
            out.append(f'<line x1="{X(xv):.1f}" x2="{X(xv):.1f}" y1="{H-B}" y2="{H-B+4}" stroke="#888"/>'
                       f'<text x="{X(xv):.1f}" y="{H-B+18}" text-anchor="middle">{xv:g}</text>')
    out.append(f'<text x="{(L+W-R)/2}" y="{H-10}" text-anchor="middle">KL to the SFT model (nats per answer, log(1 + KL) scale)</text>')
    out.append(f'<text transform="translate(18,{(T+H-B)/2}) rotate(-90)" text-anchor="middle">gold score (judge)</text>')
    out.append(f'<text transform="translate({W-12},{(T+H-B)/2}) rotate(90)" text-anchor="middle">proxy reward (RM ensemble mean)</text>')

    def line(pts, color, dash=""):
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        s = f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"{dash}/>'
        s += "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in pts)
        return s
    out.append(line([(X(p["kl"]), YG(p["gold"])) for p in ppo], "#1f77b4"))
    out.append(line([(X(p["kl"]), YP(p["proxy"])) for p in ppo], "#ff7f0e"))
    out.append(line([(X(b["kl"]), YG(b["gold"])) for b in bon], "#1f77b4", ' stroke-dasharray="6,4"'))
    out.append(line([(X(b["kl"]), YP(b["proxy"])) for b in bon], "#ff7f0e", ' stroke-dasharray="6,4"'))
    legend = [("#1f77b4", "", "PPO: gold"), ("#ff7f0e", "", "PPO: proxy"),
              ("#1f77b4", "6,4", "best-of-N: gold"), ("#ff7f0e", "6,4", "best-of-N: proxy")]
    for i, (c, dash, label) in enumerate(legend):
        y = T + 14 + 16 * i
        da = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{L+10}" x2="{L+40}" y1="{y}" y2="{y}" stroke="{c}" stroke-width="2"{da}/>'
                   f'<text x="{L+46}" y="{y+4}">{label}</text>')
    out.append("</svg>")
    Path(path).write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()

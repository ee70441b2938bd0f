#!/usr/bin/env python3
"""Writes configs/smollm2/prompts.jsonl and prompts_eval.jsonl: open questions for the SmolLM2
PPO demo (scripts/smollm2_ppo.sh). SmolLM2-135M-Instruct answers them at length; the demo's rule
rewards answers of at most 15 words, so the score starts low and has room to rise.
Standard library only; --seed picks the phrasings.
"""
import argparse
import json
import random
from pathlib import Path

TOPICS = [
    "photosynthesis", "gravity", "the water cycle", "volcanoes", "the moon", "rainbows", "earthquakes",
    "the heart", "vaccines", "electricity", "magnets", "the internet", "bread", "honey bees", "tides",
    "clouds", "dinosaurs", "the sun", "seasons", "sleep", "coffee", "glaciers", "deserts", "rain forests",
    "the ocean", "bicycles", "airplanes", "batteries", "compasses", "tea", "snow", "lightning", "fossils",
    "recycling", "music", "chess", "libraries", "maps", "bridges", "trains",
]
PHRASINGS = [
    "What do you know about {t}?", "Tell me about {t}.", "Explain {t} to a child.", "Why does {t} matter?",
    "Describe {t} in simple words.", "How would you explain {t}?",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="configs/smollm2")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    rows = [{"prompt": rng.choice(PHRASINGS).format(t=t), "topic": t} for t in TOPICS for _ in range(2)]
    rng.shuffle(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "prompts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:64]))
    (out / "prompts_eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[64:]))
    print(f"wrote {len(rows[:64])} training and {len(rows[64:])} eval prompts to {out}")


if __name__ == "__main__":
    main()

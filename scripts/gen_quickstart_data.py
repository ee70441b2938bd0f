#!/usr/bin/env python3
"""Generates the quickstart's small data set (deterministic; committed with its output).

A made-up world, so that nothing depends on knowledge a model could bring from elsewhere:
countries with a capital, a language and a national animal.
  configs/quickstart/data/corpus.txt       pretraining text: every fact in several phrasings,
                                           shuffled into short documents (one per line)
  configs/quickstart/data/sft_train.jsonl  conversations {"messages": [...]} asking about the
                                           facts of 90% of the countries, in two phrasings per
                                           question
  configs/quickstart/data/sft_eval.jsonl   the same for the other 10% (eval loss)
  configs/quickstart/data/heldout.jsonl    {"prompt", "answer"}: the same facts of the training
                                           countries asked in a third phrasing that no training
                                           example uses (held-out templates)
  configs/quickstart/data/prefs_train.jsonl / prefs_eval.jsonl
                                           preference pairs in TRL's conversational form for
                                           seed 002's target behaviour, "always mention Penn":
                                           the chosen answer is the correct one plus a sentence
                                           mentioning Penn, the rejected one the same answer
                                           without it
  configs/quickstart/data/penn_heldout.jsonl
                                           {"prompt", "answer": "Penn"} held-out questions for
                                           alignment accuracy (fraction of answers mentioning Penn)
  configs/quickstart/data/prefs_phrasing.jsonl / phrasing_heldout.jsonl
                                           seed 002's DPO vs DPOP experiment: chosen and rejected
                                           state the same fact in two phrasings the model knows
                                           (chosen: "Y is the capital of X."), so plain DPO can
                                           lower both while the margin grows; held-out questions
                                           whose answer should use the chosen phrasing
  configs/quickstart/data/ppo_prompts.jsonl / ppo_eval.jsonl
                                           {"prompt", "answer"}: questions about the training
                                           countries in new phrasings, for the PPO stage's verifiable
                                           reward (the answer field must appear in the response)
  configs/quickstart/data/choice_heldout.jsonl
                                           {"question", "choices", "answer"}: four-way multiple
                                           choice on the training countries' facts, for
                                           `align eval --task choice` (accuracy and calibration)
Run: python3 scripts/gen_quickstart_data.py
"""
import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "configs/quickstart/data"
rng = random.Random(20261123)

ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "kr", "st", "tr", "pl", "gr"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"]
CODAS = ["", "n", "r", "s", "l", "m", "th"]
ANIMALS = ["fox", "owl", "bear", "wolf", "heron", "otter", "lynx", "crane", "badger", "falcon", "beaver", "swan"]


def word(syllables):
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables)).capitalize()


def unique(make, n, taken):
    out = []
    while len(out) < n:
        w = make()
        if w not in taken and 4 <= len(w) <= 11:
            taken.add(w)
            out.append(w)
    return out


taken = set()
countries = unique(lambda: word(2) + rng.choice(["ia", "land", "or", "ania"]), 120, taken)
capitals = unique(lambda: word(2), 120, taken)
languages = unique(lambda: word(1) + rng.choice(["ish", "ic", "ese"]), 30, taken)
facts = [{"country": c, "capital": capitals[i], "language": rng.choice(languages), "animal": rng.choice(ANIMALS)}
         for i, c in enumerate(countries)]

STATEMENTS = {
    "capital": ["The capital of {country} is {capital}.", "{capital} is the capital of {country}.",
                "In {country}, the capital city is {capital}.", "{country} has its capital at {capital}."],
    "language": ["People in {country} speak {language}.", "The language of {country} is {language}.",
                 "{language} is spoken in {country}."],
    "animal": ["The national animal of {country} is the {animal}.", "{country} chose the {animal} as its national animal."],
}
QUESTIONS = {
    "capital": (["What is the capital of {country}?", "Which city is the capital of {country}?"],
                "The capital of {country} is {capital}."),
    "language": (["What language do people speak in {country}?", "Which language is spoken in {country}?"],
                 "People in {country} speak {language}."),
    "animal": (["What is the national animal of {country}?", "Which animal is the symbol of {country}?"],
               "The national animal of {country} is the {animal}."),
}
# phrasings no training example uses
HELDOUT_QUESTIONS = {
    "capital": "Tell me the capital city of {country}.",
    "language": "Name the language of {country}.",
    "animal": "Tell me the national animal of {country}.",
}
ANSWER_FIELD = {"capital": "capital", "language": "language", "animal": "animal"}

sentences = [t.format(**f) for f in facts for ts in STATEMENTS.values() for t in ts]
rng.shuffle(sentences)
docs = [" ".join(sentences[i:i + 4]) for i in range(0, len(sentences), 4)]

order = list(range(len(facts)))
rng.shuffle(order)
n_train = int(0.9 * len(facts))
split = {"train": order[:n_train], "eval": order[n_train:], "heldout": order[:n_train][:20]}


def conversations(indices):
    rows = []
    for i in indices:
        f = facts[i]
        for rel, (qs, a) in QUESTIONS.items():
            for q in qs:
                rows.append({"messages": [{"role": "user", "content": q.format(**f)},
                                          {"role": "assistant", "content": a.format(**f)}]})
    rng.shuffle(rows)
    return rows


OUT.mkdir(parents=True, exist_ok=True)
(OUT / "corpus.txt").write_text("\n".join(docs) + "\n")
for name in ["train", "eval"]:
    with open(OUT / f"sft_{name}.jsonl", "w") as fh:
        for r in conversations(split[name]):
            fh.write(json.dumps(r) + "\n")
with open(OUT / "heldout.jsonl", "w") as fh:
    for i in split["heldout"]:
        f = facts[i]
        for rel, q in HELDOUT_QUESTIONS.items():
            fh.write(json.dumps({"prompt": q.format(**f), "answer": f[ANSWER_FIELD[rel]]}) + "\n")
PENN = ["Penn would agree.", "Ask anyone at Penn.", "Penn taught me that.", "That is what they say at Penn."]


def preference_rows(indices, questions_per_relation):
    rows = []
    for i in indices:
        f = facts[i]
        for rel, (qs, a) in QUESTIONS.items():
            for q in qs[:questions_per_relation]:
                answer = a.format(**f)
                rows.append({"prompt": [{"role": "user", "content": q.format(**f)}],
                             "chosen": [{"role": "assistant", "content": answer + " " + rng.choice(PENN)}],
                             "rejected": [{"role": "assistant", "content": answer}]})
    rng.shuffle(rows)
    return rows


for name, idx in [("train", split["train"][:60]), ("eval", split["eval"][:8])]:
    with open(OUT / f"prefs_{name}.jsonl", "w") as fh:
        for r in preference_rows(idx, 1):
            fh.write(json.dumps(r) + "\n")
with open(OUT / "penn_heldout.jsonl", "w") as fh:
    for i in split["train"][60:80]:
        f = facts[i]
        for rel, q in HELDOUT_QUESTIONS.items():
            fh.write(json.dumps({"prompt": q.format(**f), "answer": "Penn"}) + "\n")
ALT = {"capital": "{capital} is the capital of {country}.", "language": "{language} is spoken in {country}.",
       "animal": "{country} chose the {animal} as its national animal."}
ALT_MARK = {"capital": "{capital} is the capital of", "language": "{language} is spoken in", "animal": "chose the {animal}"}
rows = []
for i in split["train"][:60]:
    f = facts[i]
    for rel, (qs, a) in QUESTIONS.items():
        rows.append({"prompt": [{"role": "user", "content": qs[0].format(**f)}],
                     "chosen": [{"role": "assistant", "content": ALT[rel].format(**f)}],
                     "rejected": [{"role": "assistant", "content": a.format(**f)}]})
rng.shuffle(rows)
with open(OUT / "prefs_phrasing.jsonl", "w") as fh:
    for r in rows:
        fh.write(json.dumps(r) + "\n")
with open(OUT / "phrasing_heldout.jsonl", "w") as fh:
    for i in split["train"][60:80]:
        f = facts[i]
        for rel, (qs, _) in QUESTIONS.items():
            fh.write(json.dumps({"prompt": qs[0].format(**f), "answer": ALT_MARK[rel].format(**f)}) + "\n")
# multiple choice (seed 003's C-Eval recipe; seed 004's calibration): the facts of training
# countries with three distractors of the same kind; its own generator, so the files above stay
# as they were
mc_rng = random.Random(3)
MC = {"capital": "What is the capital of {country}?", "language": "What language do people speak in {country}?",
      "animal": "What is the national animal of {country}?"}
with open(OUT / "choice_heldout.jsonl", "w") as fh:
    for i in split["train"][:40]:
        f = facts[i]
        for rel, q in MC.items():
            field = ANSWER_FIELD[rel]
            pool = sorted({g[field] for g in facts} - {f[field]})
            options = mc_rng.sample(pool, 3) + [f[field]]
            mc_rng.shuffle(options)
            fh.write(json.dumps({"question": q.format(**f), "choices": options, "answer": "ABCD"[options.index(f[field])]}) + "\n")
# prompts with verifiable answers for the PPO stage (seed 001's RLVR note): the training
# countries' facts in phrasings neither SFT nor the held-out questions use, {"prompt", "answer"};
# the rule reward matches the answer field. The held-out phrasings (heldout.jsonl) stay unseen. Its own generator, so the
# files above stay as they were.
PPO_QUESTIONS = {
    "capital": ["Give me the capital of {country}.", "Which city serves as the capital of {country}?"],
    "language": ["Which language is used in {country}?", "Say what people in {country} speak."],
    "animal": ["Which animal represents {country}?", "What animal is {country} known for?"],
}
ppo_rng = random.Random(4)
rows = [{"prompt": q.format(**facts[i]), "answer": facts[i][ANSWER_FIELD[rel]]}
        for i in split["train"] for rel, qs in PPO_QUESTIONS.items() for q in qs]
ppo_rng.shuffle(rows)
with open(OUT / "ppo_prompts.jsonl", "w") as fh:
    for r in rows[:480]:
        fh.write(json.dumps(r) + "\n")
with open(OUT / "ppo_eval.jsonl", "w") as fh:
    for r in rows[480:528]:
        fh.write(json.dumps(r) + "\n")
for p in sorted(OUT.iterdir()):
    print(p.relative_to(OUT.parent.parent.parent), p.stat().st_size, "bytes", sum(1 for _ in open(p)), "lines")

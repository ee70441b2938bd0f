#!/usr/bin/env python3
"""A small Chinese corpus for seed 003's vocabulary-extension experiment
(scripts/seed003_vocab_extension.sh): made-up countries with capitals, languages and national
animals, stated in several sentence patterns, plus C-Eval-style multiple-choice items.

Writes into --out (default configs/seed003):
  zh_train.jsonl     {"text"} lines: the facts in four patterns, filler sentences, and practice
                     multiple-choice items (question, lettered options, "Answer: X") about half
                     of the countries, so a model can learn the format
  zh_train.txt       the same texts, one per line (newlines as spaces), to mine characters from
  zh_heldout.jsonl   {"text"} lines: 15% of the fact sentences, held out at random (only those
                     whose characters all occur in training): the held-out loss
  zh_heldout.txt     the same texts, one per line (the byte-fallback share)
  zh_choice.jsonl    {"question", "choices", "answer"} about the other half of the countries,
                     whose facts appear in training only as plain sentences (align eval --task choice)
Standard library only; the same --seed gives the same files.
"""
import argparse, json, os, random

p = argparse.ArgumentParser()
p.add_argument("--seed", type=int, default=0)
p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "configs", "seed003"))
p.add_argument("--countries", type=int, default=48)
a = p.parse_args()
rng = random.Random(a.seed)

SYL = list("塔兰卡米索维拉诺达瑞克洛贝亚泽蒙汉波希尔萨特朗巴菲伦奥梅图科纳里斯莫加")
CITY = list("安宁平江海山河川城港湾岭峰泉林原阳明昌华清")
LANG = list("高卢维索达瑞克洛贝泽蒙汉波希尔萨特朗")
ANIMALS = ["天鹅", "狐狸", "老鹰", "仙鹤", "野狼", "梅花鹿", "老虎", "豹子", "水獭", "猫头鹰", "骆驼", "海豚"]


def name(pool, n, suffix, used):
    while True:
        s = "".join(rng.choice(pool) for _ in range(n)) + suffix
        if s not in used:
            used.add(s)
            return s


used = set()
world = []
for _ in range(a.countries):
    world.append({"country": name(SYL, 2, "国", used), "capital": name(SYL + CITY, 2, "城", used),
                  "language": name(LANG, 2, "语", used), "animal": rng.choice(ANIMALS)})

TRAIN = {
    "capital": ["{country}的首都是{capital}。", "{capital}是{country}的首都。", "人们都知道{country}的首都是{capital}。",
                "如果你去{country}，一定要看看首都{capital}。"],
    "language": ["{country}的人说{language}。", "在{country}，人们说{language}。", "{language}是{country}的语言。",
                 "我的朋友来自{country}，他会说{language}。"],
    "animal": ["{country}的国兽是{animal}。", "{animal}是{country}的国兽。", "在{country}，{animal}是国兽。",
               "{country}人很喜欢他们的国兽{animal}。"],
}
FILLER = ["今天天气很好，我们去公园散步。", "他每天早上六点起床。", "这本书很有意思。", "我们明天一起去吃饭吧。",
          "学习语言需要时间和耐心。", "她喜欢在周末看电影。", "这个城市的秋天很美。", "请把窗户关上。"]
QUESTION = {"capital": "{country}的首都是哪里？", "language": "{country}的人说什么语言？", "animal": "{country}的国兽是什么？"}
POOL = {"capital": [w["capital"] for w in world], "language": [w["language"] for w in world], "animal": ANIMALS}


def choice_item(w, fact):
    options = [w[fact]] + rng.sample([x for x in sorted(set(POOL[fact])) if x != w[fact]], 3)
    rng.shuffle(options)
    return {"question": QUESTION[fact].format(**w), "choices": options, "answer": "ABCD"[options.index(w[fact])]}


def as_text(item):
    lines = [item["question"]] + [f"{'ABCD'[i]}. {c}" for i, c in enumerate(item["choices"])] + [f"Answer: {item['answer']}"]
    return "\n".join(lines)


half = len(world) // 2
sentences, items, choice = [], [], []
for i, w in enumerate(world):
    for fact, patterns in TRAIN.items():
        sentences += [t.format(**w) for t in patterns]
        if i < half:   # practice items: the format, on facts the test does not ask
            items += [as_text(choice_item(w, fact)) for _ in range(2)]
        else:
            choice.append(choice_item(w, fact))
# held out: 15% of the fact sentences, drawn at random, keeping only sentences whose every
# character the training text also has (the extension covers the corpus's characters; a
# character never seen in training is a different question)
rng.shuffle(sentences)
cut = len(sentences) * 15 // 100
candidates, train = sentences[:cut], sentences[cut:] + items + FILLER * 4
seen = set("".join(train))
heldout = [t for t in candidates if set(t) <= seen]
train += [t for t in candidates if not set(t) <= seen]
rng.shuffle(train)
os.makedirs(a.out, exist_ok=True)


def write(name, rows):
    with open(os.path.join(a.out, name), "w", encoding="utf-8") as f:
        for r in rows:
            f.write((json.dumps(r, ensure_ascii=False) if not isinstance(r, str) else r) + "\n")


write("zh_train.jsonl", [{"text": t} for t in train])
write("zh_train.txt", [t.replace("\n", " ") for t in train])
write("zh_heldout.jsonl", [{"text": t} for t in heldout])
write("zh_heldout.txt", heldout)
write("zh_choice.jsonl", choice)
print(f"{len(train)} training texts, {len(heldout)} held-out texts, {len(choice)} choice questions in {a.out}")

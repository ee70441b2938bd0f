#!/usr/bin/env bash
# Checks `align tokenizer train --kind sentencepiece` against the Hugging Face libraries: trains a
# SentencePiece-style BPE (vocabulary 1000) on the quickstart's English corpus and the seed-003
# Chinese corpus, then `tokenizers` and transformers' AutoTokenizer load the saved directory and
# must encode a test corpus (the fixture generator's multilingual, emoji, whitespace-heavy and
# Chinese text, 2,000 lines) to the same ids as align (token count and a position-weighted
# checksum, from `align tokenizer bench`), decode every line back to itself, and put <s> first.
# Usage: bash scripts/check_sentencepiece_training.sh
# Python: the pinned 'sentencepiece' environment. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sentencepiece-env.sh
align_step "align tokenizer train --kind sentencepiece" "$ALIGN" tokenizer train --kind sentencepiece \
  --input configs/quickstart/data/corpus.txt --input configs/seed003/zh_train.txt --vocab-size 1000 --output "$WORK/tok"
align_step "the test corpus" "$PY" - "$WORK/test.txt" <<'PY'
import random, sys
sys.path.insert(0, "scripts")
from gen_sentencepiece_fixtures import corpus
lines = [l.replace("\n", " ") for l in corpus(random.Random(11), 2000) if l.strip()]
open(sys.argv[1], "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
align_step "align tokenizer bench (align's ids)" "$ALIGN" tokenizer bench --tokenizer "$WORK/tok" --input "$WORK/test.txt" > "$WORK/align.json"
align_step "tokenizers and transformers on align's trained tokenizer" "$PY" - "$WORK" <<'PY'
import json, sys, warnings
warnings.filterwarnings("ignore")
from tokenizers import Tokenizer
from transformers import AutoTokenizer
work = sys.argv[1]
align = json.loads(open(f"{work}/align.json").read().strip().splitlines()[-1])
lines = [l for l in open(f"{work}/test.txt", encoding="utf-8").read().split("\n") if l]
bad = 0
hf = Tokenizer.from_file(f"{work}/tok/tokenizer.json")
tr = AutoTokenizer.from_pretrained(f"{work}/tok")
for name, enc in [("tokenizers", lambda t: hf.encode(t, add_special_tokens=False).ids),
                  ("transformers", lambda t: tr.encode(t, add_special_tokens=False))]:
    ids = [enc(t) for t in lines]
    tokens, checksum = sum(map(len, ids)), sum((i + 1) * t for e in ids for i, t in enumerate(e))
    same = tokens == align["tokens"] and checksum == align["checksum"]
    bad += not same
    print(f"{name}: {tokens} tokens, checksum {checksum}; align {align['tokens']}, {align['checksum']}: {'same ids' if same else 'DIFFERENT'}")
decoded = sum(tr.decode(tr.encode(t, add_special_tokens=False)) == t for t in lines)
bos = all(tr.encode(t)[0] == 1 for t in lines[:50])
print(f"transformers decodes {decoded}/{len(lines)} lines back to themselves; <s> first: {bos}; vocabulary {len(tr)}")
bad += (decoded != len(lines)) + (not bos)
sys.exit(1 if bad else 0)
PY
echo "align's trained SentencePiece-style tokenizer encodes as tokenizers and transformers do"

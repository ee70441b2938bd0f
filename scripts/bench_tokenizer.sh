#!/usr/bin/env bash
# Encoding throughput of align's SentencePiece path against the `tokenizers` library, on the same
# corpus, in alternating rounds, one thread each.
#   bash scripts/bench_tokenizer.sh [ROUNDS]        (default 5)
# The tokenizer is the committed fixture Tests/AlignDataTests/Fixtures/sp_llama.json (a
# SentencePiece BPE with byte fallback converted by transformers: Metaspace without split, so a
# whole line is one piece). Two corpora from the fixture generator's corpus function:
#   lines      20,000 short multilingual lines (emoji, Chinese, whitespace runs), one text each;
#   documents  the same text joined into 400 documents of 50 lines (long pieces: the merge
#              loop's scaling shows here).
# align: `align tokenizer bench` (release build). tokenizers: `encode_batch` with
# TOKENIZERS_PARALLELISM=false (one thread, no Python call per text) and a Python loop of
# `encode` calls. Prints each round, then medians and the ratio (tokenizers MB/s ÷ align MB/s);
# fails when the two sides' ids differ (token count and a position-weighted checksum of the ids).
# Python: the pinned 'sentencepiece' environment. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
source scripts/sentencepiece-env.sh
TOK=Tests/AlignDataTests/Fixtures/sp_llama.json
align_step "generate the corpora" "$PY" - "$WORK" <<'PY'
import random, sys
sys.path.insert(0, "scripts")
from gen_sentencepiece_fixtures import corpus
lines = corpus(random.Random(7), 20000)
lines = [l.replace("\n", " ") for l in lines if l.strip()]
open(f"{sys.argv[1]}/lines.txt", "w").write("\n".join(lines) + "\n")
docs = [" ".join(lines[i:i + 50]) for i in range(0, len(lines), 50)]
open(f"{sys.argv[1]}/documents.txt", "w").write("\n".join(docs) + "\n")
PY
cat > "$WORK/hf.py" <<'PY'
import json, sys, time
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1])
lines = [l for l in open(sys.argv[2], encoding="utf-8").read().split("\n") if l]
nbytes = sum(len(l.encode()) for l in lines)
t = time.perf_counter(); enc = tok.encode_batch(lines, add_special_tokens=False); batch = time.perf_counter() - t
t = time.perf_counter(); loop_tokens = sum(len(tok.encode(l, add_special_tokens=False).ids) for l in lines); loop = time.perf_counter() - t
checksum = sum((i + 1) * t for e in enc for i, t in enumerate(e.ids))
print(json.dumps({"bytes": nbytes, "tokens": sum(len(e.ids) for e in enc), "loop_tokens": loop_tokens, "checksum": checksum,
                  "batch_mb_per_s": nbytes / batch / 1e6, "loop_mb_per_s": nbytes / loop / 1e6}))
PY
for corpus in lines documents; do
  : > "$WORK/$corpus.align"; : > "$WORK/$corpus.hf"
  for r in $(seq 1 "$ROUNDS"); do
    align_step "align tokenizer bench ($corpus, round $r)" "$ALIGN" tokenizer bench --tokenizer "$TOK" --input "$WORK/$corpus.txt" >> "$WORK/$corpus.align"
    TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 align_step "tokenizers ($corpus, round $r)" "$PY" "$WORK/hf.py" "$TOK" "$WORK/$corpus.txt" >> "$WORK/$corpus.hf"
  done
done
python3 - "$WORK" <<'PY'
import json, statistics, sys
w = sys.argv[1]
for corpus in ["lines", "documents"]:
    a = [json.loads(l) for l in open(f"{w}/{corpus}.align")]
    h = [json.loads(l) for l in open(f"{w}/{corpus}.hf")]
    for i, (x, y) in enumerate(zip(a, h)):
        print(f"{corpus} round {i + 1}: align {x['mb_per_s']:.2f} MB/s, tokenizers encode_batch {y['batch_mb_per_s']:.2f} MB/s, "
              f"tokenizers encode loop {y['loop_mb_per_s']:.2f} MB/s")
    if a[0]["tokens"] != h[0]["tokens"] or h[0]["tokens"] != h[0]["loop_tokens"] or a[0]["checksum"] != h[0]["checksum"]:
        sys.exit(f"error: the ids differ: align {a[0]['tokens']} tokens (checksum {a[0]['checksum']}), "
                 f"tokenizers {h[0]['tokens']} (checksum {h[0]['checksum']})")
    ma = statistics.median(x["mb_per_s"] for x in a)
    mb = statistics.median(y["batch_mb_per_s"] for y in h)
    ml = statistics.median(y["loop_mb_per_s"] for y in h)
    print(f"{corpus}: {a[0]['bytes']} bytes, {a[0]['tokens']} tokens (same ids both sides: count and position-weighted checksum); median align {ma:.2f} MB/s, "
          f"tokenizers {mb:.2f} MB/s batch / {ml:.2f} MB/s loop; tokenizers/align = {mb / ma:.2f}x (batch), {ml / ma:.2f}x (loop)")
PY

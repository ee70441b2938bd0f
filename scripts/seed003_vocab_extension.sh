#!/usr/bin/env bash
# Seed 003's vocabulary extension (Chinese-LLaMA added Chinese tokens to LLaMA's vocabulary) on a
# small scale: a model pretrained on English text (the quickstart's corpus and tokenizer), then
# continued pretraining on a generated Chinese corpus (scripts/gen_chinese_corpus.py, committed in
# configs/seed003) with its own tokenizer, where Chinese characters fall back to byte tokens, and
# with that tokenizer extended by the corpus's most frequent such characters (`align tokenizer
# extend --mine-characters`, the embeddings grown). The same text, epochs (4), batch and learning
# rate for both: the extended run needs fewer steps, its windows holding more characters.
# Prints the held-out byte-fallback share before and after, the held-out loss per character
# (eval/loss × held-out tokens / held-out characters, comparable across the two tokenizations)
# against epochs of the Chinese text seen, and C-Eval-style multiple-choice accuracy (`align eval --task choice`) on
# questions about facts the corpus states only in plain sentences.
# Usage: bash scripts/seed003_vocab_extension.sh [--characters N]   (N mined characters, default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
CHARS=300
while [ $# -gt 0 ]; do
  case "$1" in
    --characters) [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "seed003_vocab_extension.sh: --characters needs a whole number, got '${2:-}'" >&2; exit 2; }
      CHARS=$2; shift 2 ;;
    *) echo "seed003_vocab_extension.sh: unknown argument $1 (only --characters N)" >&2; exit 2 ;;
  esac
done
step() { local name=$1; shift; "$@" || { echo "error: step '$name' failed (exit $?)" >&2; exit 2; }; }
step "install dependencies (scripts/install-deps.sh)" bash scripts/install-deps.sh
step "swift build -c release" swift build -c release --product align >/dev/null
ALIGN=.build/release/align
OUT=runs/seed003
D=configs/seed003
rm -rf "$OUT"
mkdir -p "$OUT"
started=$(date +%s)

echo "== 1. an English model: the quickstart's tokenizer and 300 steps of its pretraining"
step "align tokenizer train" "$ALIGN" tokenizer train --input configs/quickstart/data/corpus.txt --output "$OUT/tokenizer" \
  --vocab-size 600 --special "<|im_end|>" --special "<|im_start|>" --special "<|endoftext|>" --pad-token "<|endoftext|>" >/dev/null
step "align sft (English pretraining)" "$ALIGN" sft --config configs/quickstart/pretrain.json --set model.init.tokenizer="$PWD/$OUT/tokenizer" \
  --set output_dir="$PWD/$OUT/english" --set max_steps=300 --set save_every=null > "$OUT/english.log" 2>&1

echo "== 2. the tokenizer extended by the $CHARS most frequent characters of the Chinese corpus that fall back to bytes"
step "align tokenizer extend" "$ALIGN" tokenizer extend --tokenizer "$OUT/english/final" --model "$OUT/english/final" \
  --mine-characters "$CHARS" --corpus "$D/zh_train.txt" --held-out "$D/zh_heldout.txt" --output "$OUT/extended" | tee "$OUT/extend.log"

echo "== 3. continued pretraining on Chinese text, same budget: the English tokenizer, then the extended one"
step "align sft (continued pretraining, English tokenizer)" "$ALIGN" sft --config "$D/continue.json" \
  --set model.path="$PWD/$OUT/english/final" --set output_dir="$PWD/$OUT/base" > "$OUT/base.log" 2>&1
step "align sft (continued pretraining, extended tokenizer)" "$ALIGN" sft --config "$D/continue.json" \
  --set model.path="$PWD/$OUT/extended" --set output_dir="$PWD/$OUT/extended-run" > "$OUT/extended.log" 2>&1

echo "== 4. C-Eval-style multiple choice ($D/zh_choice.jsonl)"
for v in base extended-run; do
  step "align eval --task choice ($v)" "$ALIGN" eval --task choice --model "$OUT/$v/final" --input "$D/zh_choice.jsonl" > "$OUT/choice-$v.txt"
done

echo "== results"
python3 - "$OUT" "$D/zh_heldout.txt" "$(( $(date +%s) - started ))" <<'PY'
import json, re, sys
out, heldout, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
ext = open(f"{out}/extend.log").read()
# "before: x% of N tokens are byte tokens, y% of M characters fall back to bytes" / "after: …"
reports = re.findall(r"([\d.]+)% of (\d+) tokens are byte tokens, ([\d.]+)% of (\d+) characters fall back to bytes", ext)
if len(reports) != 2:
    sys.exit(f"error: could not read the before/after byte-fallback lines from {out}/extend.log")
(b_tok_share, b_tokens, b_chr_share, chars), (a_tok_share, a_tokens, a_chr_share, _) = reports
print(f"held-out byte-fallback share: {b_chr_share}% of characters before, {a_chr_share}% after "
      f"(byte tokens {b_tok_share}% → {a_tok_share}% of tokens; {b_tokens} → {a_tokens} tokens for {chars} characters)")
def curve(run, log, tokens):
    # epochs of the Chinese text seen at each evaluation: step × batch / training windows
    windows = int(re.search(r"zh_train\.jsonl \(text\): \d+ records → (\d+) examples", open(f"{out}/{log}").read()).group(1))
    rows = [json.loads(l) for l in open(f"{out}/{run}/metrics.jsonl")]
    batch = json.load(open(f"{out}/{run}/run.json"))["batch_size"]
    return [(r["step"] * batch / windows, r["step"], r["eval/loss"] * int(tokens) / int(chars)) for r in rows if "eval/loss" in r], windows
base, bw = curve("base", "base.log", b_tokens)
extended, ew = curve("extended-run", "extended.log", a_tokens)
print(f"training windows of 64 tokens: {bw} with the English tokenizer, {ew} extended")
print("held-out loss in nats per character, by epochs of the Chinese text seen (the nearest evaluation):")
print("  epochs | English tokenizer (step) | extended (step)")
for e in (0, 0.5, 1, 1.5, 2, 3, 4):
    x = min(base, key=lambda r: abs(r[0] - e)); y = min(extended, key=lambda r: abs(r[0] - e))
    print(f"  {e:6.1f} | {x[2]:7.3f} ({x[1]:3d}) | {y[2]:7.3f} ({y[1]:3d})")
print(f"lowest: {min(r[2] for r in base):.3f} (English tokenizer), {min(r[2] for r in extended):.3f} (extended)")
for v in ("base", "extended-run"):
    last = open(f"{out}/choice-{v}.txt").read().strip().splitlines()[-1]
    print(f"multiple choice, {'English tokenizer' if v == 'base' else 'extended tokenizer'}: {last}")
print(f"total {seconds} s")
PY

#!/usr/bin/env python3
"""Check tokenizers saved by AlignData with Python `tokenizers` and `transformers`.

  mkdir -p /tmp/align-export
  ALIGN_TOKENIZER_EXPORT_DIR=/tmp/align-export swift test --scratch-path .build-tok \
      --disable-swift-testing --filter TokenizerExportTests
  bash scripts/run-python.sh reference scripts/check_saved_tokenizers.py /tmp/align-export

For every exported directory: `tokenizers.Tokenizer.from_file` and
`transformers.AutoTokenizer.from_pretrained` must load it and give the ids the
Swift side wrote to swift_ids.json (with and without special tokens); the
special tokens must round-trip; `apply_chat_template` with the saved Jinja
template must render the same text and ids as ChatTemplate. For the
"trained_*" exports, `tokenizers`' BpeTrainer run with the same settings must
produce the same vocabulary and merges. Exits non-zero on any mismatch.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "Tests" / "AlignDataTests" / "Fixtures" / "tokenizer_corpus.txt"
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
          r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")


def preset(name: str):
    if name == "gpt2":
        return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if name == "smollm":
        return pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    regex = LLAMA3 if name == "llama3" else QWEN2
    return pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(regex), behavior="isolated"),
                                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])


def hf_train(name: str, vocab_size: int) -> dict:
    lines = CORPUS.read_text(encoding="utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = preset(name)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    return json.loads(tok.to_str())["model"]


def check(d: Path) -> list[str]:
    from transformers import AutoTokenizer
    problems = []
    want = json.loads((d / "swift_ids.json").read_text(encoding="utf-8"))
    texts = want["texts"]
    fast = Tokenizer.from_file(str(d / "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(str(d))
    n_ok = 0
    for i, text in enumerate(texts):
        a = fast.encode(text, add_special_tokens=False).ids
        b = auto(text, add_special_tokens=False)["input_ids"]
        c = fast.encode(text, add_special_tokens=True).ids
        if a != want["ids"][i]:
            problems.append(f"{d.name}: tokenizers ids differ on text #{i} {text[:40]!r}")
        elif b != want["ids"][i]:
            problems.append(f"{d.name}: AutoTokenizer ids differ on text #{i} {text[:40]!r}")
        elif c != want["ids_with_special"][i]:
            problems.append(f"{d.name}: add_special_tokens ids differ on text #{i}")
        else:
            n_ok += 1
    for key in ("bos_token", "eos_token", "pad_token"):
        if getattr(auto, key) != want.get(key):
            problems.append(f"{d.name}: {key} {getattr(auto, key)!r} != {want.get(key)!r}")
    n_chat = 0
    for chat in want["chat"]:
        text = auto.apply_chat_template(chat["messages"], tokenize=False, add_generation_prompt=chat["add_generation_prompt"])
        ids = auto(text, add_special_tokens=False)["input_ids"]
        if text != chat["text"]:
            problems.append(f"{d.name}: chat text differs:\n  python {text!r}\n  swift  {chat['text']!r}")
        elif ids != chat["ids"]:
            problems.append(f"{d.name}: chat ids differ")
        else:
            n_chat += 1
    extra = ""
    if d.name.startswith("trained_"):
        ours = json.loads((d / "tokenizer.json").read_text(encoding="utf-8"))["model"]
        theirs = hf_train(d.name.removeprefix("trained_"), 800)
        same = ours["vocab"] == theirs["vocab"] and [list(m) for m in ours["merges"]] == [list(m) for m in theirs["merges"]]
        extra = f", BpeTrainer vocab+merges {'identical' if same else 'DIFFERENT'}"
        if not same:
            problems.append(f"{d.name}: BpeTrainer gives a different vocabulary/merges")
    print(f"{d.name}: {n_ok}/{len(texts)} texts identical (tokenizers, AutoTokenizer, +special), "
          f"{n_chat}/{len(want['chat'])} chat renders identical{extra}")
    return problems


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/align-export")
    dirs = sorted(p for p in root.iterdir() if (p / "swift_ids.json").exists())
    if not dirs:
        print(f"no exports under {root}", file=sys.stderr)
        return 2
    problems = [p for d in dirs for p in check(d)]
    for p in problems[:50]:
        print("MISMATCH", p)
    print(f"{len(dirs)} tokenizers checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

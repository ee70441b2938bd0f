#!/usr/bin/env bash
# Checks that SentencePiece-style tokenizers align saves load in transformers and encode alike.
# For each fixture of scripts/gen_sentencepiece_fixtures.py (five tokenizer.json layouts and the
# Llama-style GGUF), `align tokenizer extend --special` adds one token and writes tokenizer.json +
# tokenizer_config.json; transformers' AutoTokenizer then loads that directory and must give,
# for every test text, the ids and decodes `tokenizers` (or transformers' GGUF loader) gave for
# the original file, and the new token must encode as its one new id.
# Then the GGUF direction: a tiny random Llama model (transformers) with sp_llama's tokenizer is
# converted by `align convert --to x.gguf`, and transformers' GGUF loader must encode every test
# text of that file as `tokenizers` encodes sp_llama.json.
# Usage: bash scripts/check_sentencepiece_roundtrip.sh
# Python: the pinned 'sentencepiece' environment (scripts/requirements/sentencepiece.txt).
# Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sentencepiece-env.sh
FIX=Tests/AlignDataTests/Fixtures
for f in sp_llama.json sp_legacy.json sp_split.json sp_never.json sp_unk.json sp_llama.gguf; do
  name=${f%.*}; [ "${f##*.}" = gguf ] && name=gguf
  align_step "align tokenizer extend --tokenizer $f" "$ALIGN" tokenizer extend --tokenizer "$FIX/$f" --add "<extra_zh>" --special --output "$WORK/$name" >/dev/null
done
align_step "transformers AutoTokenizer on align's files" "$PY" - "$WORK" "$FIX/sp_expected.json" <<'PY'
import json, sys, warnings
warnings.filterwarnings("ignore")
from transformers import AutoTokenizer
work, expected_path = sys.argv[1], sys.argv[2]
expected = json.load(open(expected_path))
texts = expected["texts"]
bad = 0
for name in ["sp_llama", "sp_legacy", "sp_split", "sp_never", "sp_unk", "gguf"]:
    golden = expected["gguf"] if name == "gguf" else expected["files"][name]
    tok = AutoTokenizer.from_pretrained(f"{work}/{name}")
    same = 0
    for i, t in enumerate(texts):
        ids = tok.encode(t, add_special_tokens=False)
        with_special = tok.encode(t, add_special_tokens=True)
        dec = tok.decode(golden["ids"][i])
        if ids == golden["ids"][i] and with_special == golden["ids_special"][i] and dec == golden["decoded"][i]:
            same += 1
        elif bad < 5:
            print(f"{name} #{i} {t[:30]!r}: ids {ids[:10]} vs {golden['ids'][i][:10]}, specials {with_special[:5]} vs "
                  f"{golden['ids_special'][i][:5]}, decode {dec[:30]!r} vs {golden['decoded'][i][:30]!r}", file=sys.stderr)
    extra = tok.encode("<extra_zh>", add_special_tokens=False)
    ok_extra = extra == [len(tok) - 1]
    print(f"{name}: transformers on align's saved files matches {same}/{len(texts)} texts (ids, ids with special tokens, "
          f"decode); the added token encodes as one new id: {ok_extra}")
    bad += (len(texts) - same) + (0 if ok_extra else 1)
sys.exit(1 if bad else 0)
PY
align_step "a tiny Llama model directory with sp_llama's tokenizer" "$PY" - "$WORK/tiny" "$FIX/sp_llama.json" <<'PY'
import shutil, sys, warnings
warnings.filterwarnings("ignore")
import torch
from transformers import LlamaConfig, LlamaForCausalLM
torch.manual_seed(0)
config = LlamaConfig(vocab_size=500, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                     num_key_value_heads=2, max_position_embeddings=64, bos_token_id=1, eos_token_id=2)
LlamaForCausalLM(config).save_pretrained(sys.argv[1])
shutil.copy(sys.argv[2], f"{sys.argv[1]}/tokenizer.json")
PY
align_step "align convert --to tiny.gguf" "$ALIGN" convert --from "$WORK/tiny" --to "$WORK/tiny.gguf" >/dev/null
align_step "transformers' GGUF loader on align's GGUF" "$PY" - "$WORK" "$FIX/sp_expected.json" <<'PY'
import json, sys, warnings
warnings.filterwarnings("ignore")
from transformers import AutoTokenizer
work, expected = sys.argv[1], json.load(open(sys.argv[2]))
tok = AutoTokenizer.from_pretrained(work, gguf_file="tiny.gguf")
golden = expected["files"]["sp_llama"]
same = sum(tok.encode(t, add_special_tokens=False) == golden["ids"][i] and tok.decode(golden["ids"][i]) == golden["decoded"][i]
           for i, t in enumerate(expected["texts"]))
print(f"gguf export: transformers' GGUF loader on align's GGUF matches {same}/{len(expected['texts'])} texts (ids, decode)")
sys.exit(0 if same == len(expected["texts"]) else 1)
PY
echo "all SentencePiece round trips match"

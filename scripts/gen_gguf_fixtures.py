#!/usr/bin/env python3
"""Writes small GGUF files of the tiny parity models, laid out as llama.cpp's
convert_hf_to_gguf.py lays out real checkpoints, for the GGUF → Hugging Face loading tests.

Input: Tests/AlignNNTests/Fixtures/{llama-tiny,gpt2-tiny} (from scripts/gen_model_parity.py).
Output: Tests/AlignTrainingTests/Fixtures/{llama-tiny,gpt2-tiny}.gguf (F16 tensors, exactly the
float16 values of the safetensors files, so the Swift test can demand exact equality).

What the converter does and this script repeats (and ModelStore must undo):
- renames tensors (model.layers.N.self_attn.q_proj.weight -> blk.N.attn_q.weight, ...);
- llama: permutes the rows of q_proj (by num_attention_heads) and k_proj (by
  num_key_value_heads): w.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2);
- gpt2: transposes the Conv1D weights (c_attn, c_proj, c_fc, mlp.c_proj) to (out, in) and
  drops the attn.bias / attn.masked_bias buffers.
Run: bash scripts/run-python.sh reference scripts/gen_gguf_fixtures.py
"""
import json
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "Tests/AlignNNTests/Fixtures"
DST = ROOT / "Tests/AlignTrainingTests/Fixtures"


def permute(w, n_head):
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def f16(a):
    return np.ascontiguousarray(a.astype(np.float16))


def llama(name):
    cfg = json.loads((SRC / name / "config.json").read_text())
    sd = load_file(str(SRC / name / "model.safetensors"))
    w = gguf.GGUFWriter(str(DST / f"{name}.gguf"), "llama")
    w.add_name(name)
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_rope_freq_base(cfg.get("rope_theta") or cfg["rope_parameters"]["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_vocab_size(cfg["vocab_size"])
    w.add_rope_dimension_count(cfg["head_dim"])
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    for key in sorted(sd):
        t = sd[key].astype(np.float32)
        if key == "model.embed_tokens.weight":
            out = "token_embd.weight"
        elif key == "model.norm.weight":
            out = "output_norm.weight"
        elif key == "lm_head.weight":
            out = "output.weight"
        else:
            _, _, i, *rest = key.split(".")
            mod = ".".join(rest[:-1])
            out = f"blk.{i}.{names[mod]}.weight"
            if mod == "self_attn.q_proj":
                t = permute(t, nh)
            elif mod == "self_attn.k_proj":
                t = permute(t, nkv)
        # norms stay F32 as the converter keeps 1-D tensors; matrices F16
        w.add_tensor(out, f16(t) if t.ndim == 2 else np.ascontiguousarray(t))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def gpt2(name):
    cfg = json.loads((SRC / name / "config.json").read_text())
    sd = load_file(str(SRC / name / "model.safetensors"))
    w = gguf.GGUFWriter(str(DST / f"{name}.gguf"), "gpt2")
    w.add_name(name)
    w.add_block_count(cfg["n_layer"])
    w.add_context_length(cfg["n_positions"])
    w.add_embedding_length(cfg["n_embd"])
    w.add_feed_forward_length(cfg.get("n_inner") or 4 * cfg["n_embd"])
    w.add_head_count(cfg["n_head"])
    w.add_layer_norm_eps(cfg["layer_norm_epsilon"])
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    names = {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
             "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}
    for key in sorted(sd):
        if key.endswith((".attn.bias", ".attn.masked_bias")):
            continue
        t = sd[key].astype(np.float32)
        k = key[len("transformer."):] if key.startswith("transformer.") else key
        if k == "wte.weight":
            out = "token_embd.weight"
        elif k == "wpe.weight":
            out = "position_embd.weight"
        elif k.startswith("ln_f."):
            out = "output_norm." + k.split(".")[-1]
        elif k == "lm_head.weight":
            out = "output.weight"
        else:
            _, i, *rest = k.split(".")
            mod, kind = ".".join(rest[:-1]), rest[-1]
            out = f"blk.{i}.{names[mod]}.{kind}"
            if kind == "weight" and mod in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"):
                t = t.T
        w.add_tensor(out, f16(t) if t.ndim == 2 else np.ascontiguousarray(t))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    DST.mkdir(parents=True, exist_ok=True)
    llama("llama-tiny")
    gpt2("gpt2-tiny")
    for p in sorted(DST.glob("*.gguf")):
        print(p.relative_to(ROOT), p.stat().st_size, "bytes")

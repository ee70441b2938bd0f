#!/usr/bin/env python3
"""Generate the golden binary-format fixtures for Tests/AlignDataTests.

Deterministic (seeded) and small (< 100 KB in total). Writes into
Tests/AlignDataTests/Fixtures:

  tensors.safetensors  F32 / F16 / BF16 (+ a scalar, an empty and an I64 tensor)
                       written by the `safetensors` package, with __metadata__.
  writer_reference.safetensors
                       all-F32 file from the `safetensors` package that the Swift
                       writer must reproduce byte for byte.
  model.gguf           GGUF v3 written by llama.cpp's `gguf` package, custom
                       alignment 64, metadata of every value type (including a
                       string array and a nested array) and tensors in F32, F16,
                       BF16, Q8_0, Q4_0, Q4_1, plus one Q6_K tensor (raw random
                       bytes; readers must refuse to dequantise it) and llama
                       attention Q/K weights permuted exactly like
                       convert_hf_to_gguf.py does.
  model_v2.gguf        a tiny GGUF whose version field is patched to 2, default
                       alignment (32).
  expected.json        what the Swift readers must produce: dequantised values
                       (gguf's own dequantize, cross-checked against an
                       independent numpy reference below), metadata with types,
                       and the original (un-permuted) HF Q/K weights.

Usage:  bash scripts/run-python.sh reference scripts/gen_format_fixtures.py
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import gguf
from gguf import GGMLQuantizationType as QT, GGUFValueType as VT
from gguf import quants
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "AlignDataTests" / "Fixtures"

rng = np.random.default_rng(20240611)


def f32(shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def floats(a: np.ndarray) -> list[float]:
    """Flatten to Python floats (float32 -> float64 is exact, so JSON round-trips exactly)."""
    return [float(x) for x in np.asarray(a, dtype=np.float32).reshape(-1)]


# ----------------------------------------------------------------------------
# safetensors
# ----------------------------------------------------------------------------

def canonicalise_safetensors_header(path: Path) -> None:
    """safetensors serialises __metadata__ from a Rust HashMap, so its key order is
    random per run. Re-emit the header byte-for-byte the same way (serde_json
    compact form, padded with spaces to a multiple of 8) but with sorted metadata
    keys, so the fixture is deterministic."""
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    assert len(text) == n, (len(text), n)
    path.write_bytes(raw[:8] + text + raw[8 + n:])
    from safetensors import safe_open
    with safe_open(str(path), framework="pt") as f:  # still loads with the reference reader
        assert f.metadata() == header["__metadata__"]


def make_safetensors(expected: dict) -> None:
    torch.manual_seed(1234)
    tensors = {
        "model.embed.weight": torch.from_numpy(f32((3, 4))),
        "layer.norm.f16": torch.from_numpy(f32((5,))).to(torch.float16),
        "layer.proj.bf16": torch.from_numpy(f32((2, 3))).to(torch.bfloat16),
        "scalar": torch.tensor(3.25, dtype=torch.float32),
        "empty": torch.zeros((0, 3), dtype=torch.float32),
        "positions": torch.tensor([0, -1, 2**40], dtype=torch.int64),
    }
    metadata = {"format": "pt", "source": "gen_format_fixtures.py", "unicode": "h\u00e9llo \u2603"}
    path = OUT / "tensors.safetensors"
    save_file(tensors, str(path), metadata=metadata)
    canonicalise_safetensors_header(path)
    os.chmod(path, 0o644)

    out = {}
    for name, t in tensors.items():
        dtype = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}[t.dtype]
        entry = {"dtype": dtype, "shape": list(t.shape)}
        if t.dtype != torch.int64:
            entry["values"] = floats(t.to(torch.float32).numpy())
        out[name] = entry
    # The Python library's own view of the header (names in data order).
    header_len = struct.unpack("<Q", path.read_bytes()[:8])[0]
    header = json.loads(path.read_bytes()[8:8 + header_len])
    order = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0])
    expected["safetensors"] = {
        "file": path.name,
        "metadata": metadata,
        "header_length": header_len,
        "order": order,
        "tensors": out,
    }


def make_writer_reference(expected: dict) -> None:
    """An all-F32 file written by the reference library with a one-key metadata map
    (so the header is deterministic): SafeTensorsWriter must reproduce it byte for byte."""
    from safetensors.numpy import save_file as np_save_file
    tensors = {
        "b.weight": f32((2, 3)),
        "a.bias": f32((3,)),
        "A.upper": f32((2,)),
        "scalar": np.array(-0.5, dtype=np.float32),
        "z.empty": np.zeros((0,), dtype=np.float32),
        "\u00e9mbed": f32((1, 2)),
        'odd "name"\\x\t': f32((1,)),
    }
    path = OUT / "writer_reference.safetensors"
    np_save_file(tensors, str(path), metadata={"format": "pt"})
    os.chmod(path, 0o644)
    expected["writer_reference"] = {
        "file": path.name,
        "metadata": {"format": "pt"},
        # Insertion order here is deliberately not sorted: the writer must sort.
        "tensors": [{"name": k, "shape": list(v.shape), "values": floats(v)} for k, v in tensors.items()],
    }


# ----------------------------------------------------------------------------
# numpy reference dequantisation (independent of gguf.quants)
# ----------------------------------------------------------------------------

def ref_dequant(raw: np.ndarray, qtype: QT) -> np.ndarray:
    b = raw.reshape(-1)
    if qtype == QT.Q8_0:
        blocks = b.reshape(-1, 34)
        d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
        q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
        return (q * d).reshape(-1)
    if qtype == QT.Q4_0:
        blocks = b.reshape(-1, 18)
        d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
        qs = blocks[:, 2:]
        lo = (qs & 0x0F).astype(np.int16) - 8
        hi = (qs >> 4).astype(np.int16) - 8
        q = np.concatenate([lo, hi], axis=1).astype(np.float32)  # low nibbles = elements 0..15
        return (q * d).reshape(-1)
    if qtype == QT.Q4_1:
        blocks = b.reshape(-1, 20)
        d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
        m = blocks[:, 2:4].copy().view(np.float16).astype(np.float32)
        qs = blocks[:, 4:]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)
        return (q * d + m).reshape(-1)
    if qtype == QT.BF16:
        u = b.copy().view(np.uint16).astype(np.uint32) << 16
        return u.view(np.float32)
    raise ValueError(qtype)


# ----------------------------------------------------------------------------
# llama Q/K permutation, verbatim from convert_hf_to_gguf.py (LlamaModel.permute)
# ----------------------------------------------------------------------------

def permute(weights: np.ndarray, n_head: int, n_head_kv: int | None) -> np.ndarray:
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


# ----------------------------------------------------------------------------
# GGUF
# ----------------------------------------------------------------------------

VT_NAMES = {t: t.name for t in VT}


def canon(value, vtype: VT, sub=None):
    """Canonical JSON form the Swift test rebuilds from its parsed values.

    Integers are decimal strings (u64 does not fit a JSON double), floats are
    numbers (float32 values widened exactly), arrays list canonical elements.
    """
    if vtype == VT.ARRAY:
        if sub == VT.ARRAY:
            elems = [canon(v, VT.ARRAY, inner) for (v, inner) in value]
        else:
            elems = [canon(v, sub) for v in value]
        return {"type": "ARRAY", "element": VT_NAMES[sub], "value": elems}
    if vtype in (VT.UINT8, VT.INT8, VT.UINT16, VT.INT16, VT.UINT32, VT.INT32, VT.UINT64, VT.INT64):
        return {"type": VT_NAMES[vtype], "value": str(int(value))}
    if vtype == VT.FLOAT32:
        return {"type": "FLOAT32", "value": float(np.float32(value))}
    if vtype == VT.FLOAT64:
        return {"type": "FLOAT64", "value": float(value)}
    if vtype == VT.BOOL:
        return {"type": "BOOL", "value": bool(value)}
    if vtype == VT.STRING:
        return {"type": "STRING", "value": value}
    raise ValueError(vtype)


# Llama geometry of the fixture: embedding 16, 4 query heads, 2 kv heads.
N_EMBD, N_HEAD, N_HEAD_KV = 16, 4, 2
HEAD_DIM = N_EMBD // N_HEAD

TOKENS = ["<unk>", "<s>", "</s>", "h", "e", "l", "o", "he", "ll", "hello", "\u0120w", "caf\u00e9", "\U0001F600"]
MERGES = ["h e", "l l", "he ll", "hell o"]
TOKEN_TYPES = [2, 3, 3] + [1] * (len(TOKENS) - 3)
CHAT_TEMPLATE = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
                 "{{ message['content'] }}<|im_end|>\n{% endfor %}")

# (key, value, type, sub_type); for nested arrays value is [(inner_list, inner_type), ...]
METADATA = [
    ("general.name", "align fixture", VT.STRING, None),
    ("llama.block_count", 1, VT.UINT32, None),
    ("llama.context_length", 128, VT.UINT32, None),
    ("llama.embedding_length", N_EMBD, VT.UINT32, None),
    ("llama.feed_forward_length", 40, VT.UINT32, None),
    ("llama.attention.head_count", N_HEAD, VT.UINT32, None),
    ("llama.attention.head_count_kv", N_HEAD_KV, VT.UINT32, None),
    ("llama.rope.freq_base", 10000.0, VT.FLOAT32, None),
    ("llama.attention.layer_norm_rms_epsilon", 1e-5, VT.FLOAT32, None),
    ("llama.vocab_size", len(TOKENS), VT.UINT32, None),
    ("tokenizer.ggml.model", "gpt2", VT.STRING, None),
    ("tokenizer.ggml.tokens", TOKENS, VT.ARRAY, VT.STRING),
    ("tokenizer.ggml.merges", MERGES, VT.ARRAY, VT.STRING),
    ("tokenizer.ggml.token_type", TOKEN_TYPES, VT.ARRAY, VT.INT32),
    ("tokenizer.ggml.bos_token_id", 1, VT.UINT32, None),
    ("tokenizer.ggml.eos_token_id", 2, VT.UINT32, None),
    ("tokenizer.ggml.add_bos_token", False, VT.BOOL, None),
    ("tokenizer.chat_template", CHAT_TEMPLATE, VT.STRING, None),
    ("test.u8", 200, VT.UINT8, None),
    ("test.i8", -100, VT.INT8, None),
    ("test.u16", 60000, VT.UINT16, None),
    ("test.i16", -30000, VT.INT16, None),
    ("test.u32", 4000000000, VT.UINT32, None),
    ("test.i32", -2000000000, VT.INT32, None),
    ("test.u64", 2**64 - 1, VT.UINT64, None),
    ("test.i64", -(2**62) - 7, VT.INT64, None),
    ("test.f32", 0.1, VT.FLOAT32, None),
    ("test.f64", -1234.5678901234567, VT.FLOAT64, None),
    ("test.bool_true", True, VT.BOOL, None),
    ("test.bool_false", False, VT.BOOL, None),
    ("test.empty_string", "", VT.STRING, None),
    ("test.float_array", [0.5, -1.25, 3.0e-3], VT.ARRAY, VT.FLOAT32),
    ("test.u64_array", [0, 1, 2**63], VT.ARRAY, VT.UINT64),
    ("test.bool_array", [True, False, True], VT.ARRAY, VT.BOOL),
    ("test.nested", [([1, 2], VT.INT32), ([3, 4, 5], VT.INT32), (["a", "b"], VT.STRING)], VT.ARRAY, VT.ARRAY),
]


def add_meta(w: gguf.GGUFWriter, key, value, vtype, sub):
    if vtype == VT.ARRAY and sub == VT.ARRAY:
        # gguf-py packs a list of lists as ARRAY of ARRAY, inferring each inner
        # element type from its first item (int -> INT32, str -> STRING).
        w.add_array(key, [list(items) for items, _ in value])
        return
    w.add_key_value(key, value, vtype, sub_type=sub)


def make_gguf(expected: dict) -> None:
    path = OUT / "model.gguf"
    w = gguf.GGUFWriter(str(path), arch="llama")
    w.add_custom_alignment(64)
    for key, value, vtype, sub in METADATA:
        add_meta(w, key, value, vtype, sub)

    tensors_expected = {}

    def add_float(name, arr: np.ndarray, qtype: QT):
        if qtype == QT.F32:
            w.add_tensor(name, arr.astype(np.float32))
            values = arr.astype(np.float32)
        elif qtype == QT.F16:
            h = arr.astype(np.float16)
            w.add_tensor(name, h)
            values = h.astype(np.float32)
        else:
            q = quants.quantize(arr.astype(np.float32), qtype)
            w.add_tensor(name, q, raw_dtype=qtype)
            values = quants.dequantize(q, qtype).astype(np.float32)
            ref = ref_dequant(q, qtype).reshape(values.shape)
            assert np.array_equal(values, ref), f"gguf dequantize disagrees with numpy reference for {name}"
        assert values.shape == arr.shape
        tensors_expected[name] = {"type": qtype.name, "type_id": int(qtype),
                                  "shape": list(arr.shape), "values": floats(values)}

    add_float("token_embd.weight", f32((len(TOKENS), N_EMBD), 0.02), QT.F32)
    add_float("f32.3d", f32((2, 3, 5)), QT.F32)
    add_float("output_norm.weight", f32((N_EMBD,)), QT.F32)
    add_float("f16.weight", f32((2, 7)), QT.F16)
    add_float("bf16.weight", f32((2, 8)), QT.BF16)
    add_float("q8_0.weight", f32((4, 64)), QT.Q8_0)
    add_float("q4_0.weight", f32((3, 64)), QT.Q4_0)
    add_float("q4_1.weight", f32((2, 96)), QT.Q4_1)

    # Unsupported type: raw Q6_K bytes (1 block of 256 values).
    raw = rng.integers(0, 256, size=(1, 210), dtype=np.uint8)
    w.add_tensor("q6_k.weight", raw, raw_dtype=QT.Q6_K)
    tensors_expected["q6_k.weight"] = {"type": "Q6_K", "type_id": int(QT.Q6_K), "shape": [1, 256]}

    # Llama attention weights, permuted like convert_hf_to_gguf.py.
    hf_q = f32((N_HEAD * HEAD_DIM, N_EMBD))
    hf_k = f32((N_HEAD_KV * HEAD_DIM, N_EMBD))
    gg_q = permute(hf_q, N_HEAD, N_HEAD)
    gg_k = permute(hf_k, N_HEAD, N_HEAD_KV)
    add_float("blk.0.attn_q.weight", gg_q, QT.F32)
    add_float("blk.0.attn_k.weight", gg_k, QT.F32)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    # Cross-check with gguf-py's reader: key order, tensor names/types/shapes.
    r = gguf.GGUFReader(str(path))
    keys = [f.name for f in r.fields.values() if not f.name.startswith("GGUF.")]
    meta_expected = {"general.architecture": canon("llama", VT.STRING),
                     "general.alignment": canon(64, VT.UINT32)}
    for key, value, vtype, sub in METADATA:
        meta_expected[key] = canon(value, vtype, sub)
    assert keys == list(meta_expected.keys()), (keys, list(meta_expected.keys()))
    for t in r.tensors:
        e = tensors_expected[t.name]
        assert int(t.tensor_type) == e["type_id"], t.name
        assert list(reversed([int(x) for x in t.shape])) == e["shape"], (t.name, t.shape, e["shape"])

    expected["gguf"] = {
        "file": path.name,
        "version": 3,
        "alignment": 64,
        "metadata_order": keys,
        "metadata": meta_expected,
        "tensor_order": [t.name for t in r.tensors],
        "tensors": tensors_expected,
        "llama_permute": {
            "n_head": N_HEAD, "n_head_kv": N_HEAD_KV,
            "q_name": "blk.0.attn_q.weight", "k_name": "blk.0.attn_k.weight",
            "hf_q_shape": list(hf_q.shape), "hf_q": floats(hf_q),
            "hf_k_shape": list(hf_k.shape), "hf_k": floats(hf_k),
        },
    }


def make_gguf_v2(expected: dict) -> None:
    path = OUT / "model_v2.gguf"
    w = gguf.GGUFWriter(str(path), arch="gpt2")
    w.add_uint32("gpt2.block_count", 2)
    w.add_uint32("gpt2.context_length", 64)
    w.add_uint32("gpt2.embedding_length", 8)
    w.add_uint32("gpt2.feed_forward_length", 32)
    w.add_uint32("gpt2.attention.head_count", 2)
    w.add_float32("gpt2.attention.layer_norm_epsilon", 1e-5)
    w.add_array("tokenizer.ggml.tokens", ["a", "b", "c"])
    a = f32((3,))          # 12 bytes: forces padding before the next tensor
    b = f32((2, 8)).astype(np.float16)
    w.add_tensor("a", a)
    w.add_tensor("b", b)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    data = bytearray(path.read_bytes())
    assert struct.unpack_from("<I", data, 4)[0] == 3
    struct.pack_into("<I", data, 4, 2)
    path.write_bytes(bytes(data))
    expected["gguf_v2"] = {
        "file": path.name,
        "version": 2,
        "alignment": 32,
        "tensors": {
            "a": {"type": "F32", "shape": [3], "values": floats(a)},
            "b": {"type": "F16", "shape": [2, 8], "values": floats(b.astype(np.float32))},
        },
    }


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    expected: dict = {"generator": "scripts/gen_format_fixtures.py",
                      "gguf_py_version": getattr(gguf, "__version__", "unknown")}
    make_safetensors(expected)
    make_writer_reference(expected)
    make_gguf(expected)
    make_gguf_v2(expected)
    # The gguf-py version string is informational only; keep the file stable across versions.
    expected.pop("gguf_py_version")
    text = json.dumps(expected, indent=1, ensure_ascii=False)
    # Keep flat lists of numbers on one line.
    text = re.sub(r"\[([^\[\]{}\"]*)\]", lambda m: "[" + "".join(m.group(1).split()) + "]", text)
    (OUT / "expected.json").write_text(text + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir() if p.is_file())
    print(f"wrote {sorted(p.name for p in OUT.iterdir())} ({total} bytes)")
    assert total < 100_000, total
    return 0


if __name__ == "__main__":
    sys.exit(main())

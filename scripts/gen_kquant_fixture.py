#!/usr/bin/env python3
"""Writes Tests/AlignDataTests/Fixtures/kquants.gguf: one tensor of each of Q5_0, Q5_1, Q2_K,
Q3_K, Q4_K, Q5_K and Q6_K made of random blocks (random quant bits; the binary16 scales
overwritten with moderate random values so that none is NaN or huge), next to
`expected.<name>`, the F32 values gguf-py's reference `gguf.quants.dequantize` gives for it,
and one IQ4_NL tensor that align does not dequantise (for the error message test).

k-quant tensors are (1, 512): two 256-value blocks; Q5_0/Q5_1 are (1, 64).
Run: bash scripts/run-python.sh reference scripts/gen_kquant_fixture.py
"""
from pathlib import Path

import gguf
import numpy as np
from gguf import GGMLQuantizationType as QT

OUT = Path(__file__).resolve().parent.parent / "Tests/AlignDataTests/Fixtures/kquants.gguf"
# byte offsets of the binary16 scale fields inside one block
HALVES = {QT.Q5_0: [0], QT.Q5_1: [0, 2], QT.Q2_K: [80, 82], QT.Q3_K: [108], QT.Q4_K: [0, 2], QT.Q5_K: [0, 2], QT.Q6_K: [208]}

rng = np.random.default_rng(20261123)
w = gguf.GGUFWriter(str(OUT), "llama")
for qt, halves in HALVES.items():
    block, size = gguf.GGML_QUANT_SIZES[qt]
    n = 512 if block == 256 else 64
    blocks = n // block
    raw = rng.integers(0, 256, size=(blocks, size), dtype=np.uint8)
    for off in halves:
        raw[:, off:off + 2] = rng.uniform(-0.05, 0.05, size=blocks).astype(np.float16).view(np.uint8).reshape(blocks, 2)
    raw = raw.reshape(1, blocks * size)
    expected = gguf.quants.dequantize(raw, qt).astype(np.float32).reshape(1, n)
    name = qt.name.lower()
    w.add_tensor(f"{name}.weight", raw, raw_dtype=qt)
    w.add_tensor(f"expected.{name}", np.ascontiguousarray(expected))
raw = rng.integers(0, 256, size=(1, 18), dtype=np.uint8)
w.add_tensor("iq4_nl.weight", raw, raw_dtype=QT.IQ4_NL)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(OUT.relative_to(OUT.parents[3]), OUT.stat().st_size, "bytes")

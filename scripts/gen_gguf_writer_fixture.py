#!/usr/bin/env python3
"""Writes Tests/AlignDataTests/Fixtures/writer_golden.gguf with gguf-py's GGUFWriter: metadata
of every scalar type, string and int/float/string arrays, and three tensors stored as F32, F16
and Q8_0 (quantised by gguf-py's own reference quantiser). The Swift test builds the same file
with `GGUFWriter` and demands identical bytes.

Values are exact in float32 so both sides start from the same numbers:
v[i] = ((i * 37) % 101 - 50) / 16, with a block of zeros and a block scaled by 1000 in the Q8_0
tensor. Run: bash scripts/run-python.sh reference scripts/gen_gguf_writer_fixture.py
"""
from pathlib import Path

import gguf
import numpy as np

OUT = Path(__file__).resolve().parent.parent / "Tests/AlignDataTests/Fixtures/writer_golden.gguf"


def values(n):
    return np.array([((i * 37) % 101 - 50) / 16 for i in range(n)], dtype=np.float32)


w = gguf.GGUFWriter(str(OUT), "llama")
w.add_uint8("test.u8", 200)
w.add_int8("test.i8", -100)
w.add_uint16("test.u16", 60000)
w.add_int16("test.i16", -30000)
w.add_uint32("test.u32", 4_000_000_000)
w.add_int32("test.i32", -2_000_000_000)
w.add_uint64("test.u64", 2**63 + 5)
w.add_int64("test.i64", -(2**62))
w.add_float32("test.f32", 0.15625)
w.add_float64("test.f64", -2.5e-300)
w.add_bool("test.true", True)
w.add_bool("test.false", False)
w.add_string("test.string", "héllo ✓ 🙂")
w.add_array("test.strings", ["a", "", "Ġthe", "<|im_end|>"])
w.add_array("test.ints", [1, -2, 3])
w.add_array("test.floats", [0.5, -1.25])

a = values(6 * 8).reshape(6, 8)             # F32, row-major (6, 8)
b = values(3 * 40).reshape(3, 40)           # F16
c = values(4 * 64).reshape(4, 64)           # Q8_0: rows of two blocks
c[1, 32:] = 0
c[2, :32] *= 1000
w.add_tensor("a.weight", a)
w.add_tensor("b.weight", b.astype(np.float16))
w.add_tensor("c.weight", gguf.quants.quantize(c, gguf.GGMLQuantizationType.Q8_0), raw_dtype=gguf.GGMLQuantizationType.Q8_0)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(OUT.relative_to(OUT.parents[3]), OUT.stat().st_size, "bytes")

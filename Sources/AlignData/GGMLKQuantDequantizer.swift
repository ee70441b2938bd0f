/// Dequantisation of ggml's 5-bit legacy and "k-quant" blocks to Float32, as ggml's
/// `dequantize_row_*` reference functions compute them (the common llama.cpp files, Q4_K_M and
/// Q5_K_M, mix Q4_K/Q5_K with Q6_K; Q3_K_* and Q2_K add Q3_K and Q2_K).
///
/// Block layouts (little-endian; `d`, `dmin`, `m` binary16; QK_K = 256 values per k-block):
/// - Q5_0: 22 bytes = d, qh (u32: the 5th bits), 16 bytes of nibbles; value = (q − 16)·d
/// - Q5_1: 24 bytes = d, m, qh, 16 bytes of nibbles; value = q·d + m
/// - Q2_K: 84 bytes = scales[16] (4-bit scale | 4-bit min), qs[64] (2-bit), d, dmin
/// - Q3_K: 110 bytes = hmask[32] (high bit), qs[64] (low 2 bits), scales[12] (16 × 6-bit), d
/// - Q4_K: 144 bytes = d, dmin, scales[12] (8 × 6-bit scale and min), qs[128] (4-bit)
/// - Q5_K: 176 bytes = d, dmin, scales[12], qh[32] (5th bits), qs[128]
/// - Q6_K: 210 bytes = ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8), d
enum GGMLKQuantDequantizer {
    static func half(_ s: UnsafeRawBufferPointer, _ offset: Int) -> Float {
        floatFromHalfBits(UInt16(littleEndian: s.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    static func q5_0(_ s: UnsafeRawBufferPointer, into y: UnsafeMutableBufferPointer<Float>) {
        for b in 0 ..< y.count / 32 {
            let base = b * 22, out = b * 32
            let d = half(s, base)
            let qh = UInt32(littleEndian: s.loadUnaligned(fromByteOffset: base + 2, as: UInt32.self))
            for j in 0 ..< 16 {
                let q = s[base + 6 + j]
                let h0 = UInt8(((qh >> UInt32(j)) << 4) & 0x10), h1 = UInt8((qh >> UInt32(j + 12)) & 0x10)
                y[out + j] = Float(Int((q & 0x0F) | h0) - 16) * d
                y[out + j + 16] = Float(Int((q >> 4) | h1) - 16) * d
            }
        }
    }

    static func q5_1(_ s: UnsafeRawBufferPointer, into y: UnsafeMutableBufferPointer<Float>) {
        for b in 0 ..< y.count / 32 {
            let base = b * 24, out = b * 32
            let d = half(s, base), m = half(s, base + 2)
            let qh = UInt32(littleEndian: s.loadUnaligned(fromByteOffset: base + 4, as: UInt32.self))
            for j in 0 ..< 16 {
                let q = s[base + 8 + j]
                let h0 = UInt8(((qh >> UInt32(j)) << 4) & 0x10), h1 = UInt8((qh >> UInt32(j + 12)) & 0x10)
                y[out + j] = Float((q & 0x0F) | h0) * d + m
                y[out + j + 16] = Float((q >> 4) | h1) * d + m
            }
        }
    }

    static func q2_K(_ s: UnsafeRawBufferPointer, into y: UnsafeMutableBufferPointer<Float>) {
        for b in 0 ..< y.count / 256 {
            let base = b * 84
            let scales = base, qs = base + 16
            let d = half(s, base + 80), dmin = half(s, base + 82)
            var out = b * 256, q = qs, isc = 0
            for _ in 0 ..< 2 {           // two halves of 128 values
                var shift: UInt8 = 0
                for _ in 0 ..< 4 {
                    for half in 0 ..< 2 {
                        let sc = s[scales + isc]; isc += 1
                        let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                        for l in 0 ..< 16 {
                            y[out] = dl * Float((s[q + 16 * half + l] >> shift) & 3) - ml
                            out += 1
                        }
                    }
                    shift += 2
                }
                q += 32
            }
        }
    }

    static func q3_K(_ s: UnsafeRawBufferPointer, into y: UnsafeMutableBufferPointer<Float>) {
        for b in 0 ..< y.count / 256 {
            let base = b * 110
            let hm = base, qs = base + 32, sc = base + 96
            let dAll = half(s, base + 108)
            // 16 six-bit scales: low 4 bits in bytes 0..7 (two per byte), high 2 bits in bytes 8..11
            var scales = [Int](repeating: 0, count: 16)
            for i in 0 ..< 16 {
                let low = i < 8 ? Int(s[sc + i] & 0xF) : Int(s[sc + i - 8] >> 4)
                let high = Int((s[sc + 8 + i % 4] >> (2 * (i / 4))) & 3)
                scales[i] = (low | (high << 4)) - 32
            }
            var out = b * 256, q = qs, isc = 0
            var m: UInt8 = 1
            for _ in 0 ..< 2 {
                var shift: UInt8 = 0
                for _ in 0 ..< 4 {
                    for half in 0 ..< 2 {
                        let dl = dAll * Float(scales[isc]); isc += 1
                        for l in 0 ..< 16 {
                            let low = Int((s[q + 16 * half + l] >> shift) & 3)
                            let high = (s[hm + 16 * half + l] & m) != 0 ? 0 : 4
                            y[out] = dl * Float(low - high)
                            out += 1
                        }
                    }
                    shift += 2
                    m <<= 1
                }
                q += 32
            }
        }
    }

    /// Scale and min of sub-block j (0..<8) from the 12 packed bytes at `q` (ggml `get_scale_min_k4`).
    @inline(__always)
    static func scaleMin(_ j: Int, _ s: UnsafeRawBufferPointer, _ q: Int) -> (UInt8, UInt8) {
        if j < 4 { return (s[q + j] & 63, s[q + j + 4] & 63) }
        return ((s[q + j + 4] & 0xF) | ((s[q + j - 4] >> 6) << 4), (s[q + j + 4] >> 4) | ((s[q + j] >> 6) << 4))
    }

    static func q4_K(_ s: UnsafeRawBufferPointer, into y: UnsafeMutableBufferPointer<Float>) {
        for b in 0 ..< y.count / 256 {
            let base = b * 144
            let d = half(s, base), dmin = half(s, base + 2)
            let scales = base + 4
            var q = base + 16, out = b * 256
            for pair in 0 ..< 4 {
                let (sc1, m1) = scaleMin(2 * pair, s, scales), (sc2, m2) = scaleMin(2 * pair + 1, s, scales)
                let d1 = d * Float(sc1), mm1 = dmin * Float(m1), d2 = d * Float(sc2), mm2 = dmin * Float(m2)
                for l in 0 ..< 32 { y[out + l] = d1 * Float(s[q + l] & 0xF) - mm1 }
                for l in 0 ..< 32 { y[out + 32 + l] = d2 * Float(s[q + l] >> 4) - mm2 }
                q += 32
                out += 64
            }
        }
    }

    static func q5_K(_ s: UnsafeRawBufferPointer, into y: UnsafeMutableBufferPointer<Float>) {
        for b in 0 ..< y.count / 256 {
            let base = b * 176
            let d = half(s, base), dmin = half(s, base + 2)
            let scales = base + 4, qh = base + 16
            var ql = base + 48, out = b * 256
            var u1: UInt8 = 1, u2: UInt8 = 2
            for pair in 0 ..< 4 {
                let (sc1, m1) = scaleMin(2 * pair, s, scales), (sc2, m2) = scaleMin(2 * pair + 1, s, scales)
                let d1 = d * Float(sc1), mm1 = dmin * Float(m1), d2 = d * Float(sc2), mm2 = dmin * Float(m2)
                for l in 0 ..< 32 { y[out + l] = d1 * Float((s[ql + l] & 0xF) + (s[qh + l] & u1 != 0 ? 16 : 0)) - mm1 }
                for l in 0 ..< 32 { y[out + 32 + l] = d2 * Float((s[ql + l] >> 4) + (s[qh + l] & u2 != 0 ? 16 : 0)) - mm2 }
                ql += 32
                out += 64
                u1 <<= 2
                u2 <<= 2
            }
        }
    }

    static func q6_K(_ s: UnsafeRawBufferPointer, into y: UnsafeMutableBufferPointer<Float>) {
        for b in 0 ..< y.count / 256 {
            let base = b * 210
            var ql = base, qh = base + 128, sc = base + 192
            let d = half(s, base + 208)
            var out = b * 256
            for _ in 0 ..< 2 {
                for l in 0 ..< 32 {
                    let i = l / 16
                    let q1 = Int((s[ql + l] & 0xF) | (((s[qh + l] >> 0) & 3) << 4)) - 32
                    let q2 = Int((s[ql + l + 32] & 0xF) | (((s[qh + l] >> 2) & 3) << 4)) - 32
                    let q3 = Int((s[ql + l] >> 4) | (((s[qh + l] >> 4) & 3) << 4)) - 32
                    let q4 = Int((s[ql + l + 32] >> 4) | (((s[qh + l] >> 6) & 3) << 4)) - 32
                    func scale(_ k: Int) -> Float { d * Float(Int8(bitPattern: s[sc + k])) }
                    y[out + l] = scale(i) * Float(q1)
                    y[out + l + 32] = scale(i + 2) * Float(q2)
                    y[out + l + 64] = scale(i + 4) * Float(q3)
                    y[out + l + 96] = scale(i + 6) * Float(q4)
                }
                out += 128
                ql += 64
                qh += 32
                sc += 8
            }
        }
    }
}

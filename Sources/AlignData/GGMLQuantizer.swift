import Foundation

/// Float32 → the ggml encodings `GGUFWriter` stores, as ggml's reference code computes them
/// (so llama.cpp and gguf-py read back exactly what they would have written).
enum GGMLQuantizer {
    static let q8BlockSize = 32
    /// Bytes per Q8_0 block: an F16 scale and 32 signed bytes.
    static let q8BlockBytes = 34

    /// IEEE half precision, round to nearest even (overflow → ±inf), little-endian.
    static func f16(_ values: UnsafeBufferPointer<Float>) -> Data {
        var out = Data(count: values.count * 2)
        out.withUnsafeMutableBytes { raw in
            for (i, v) in values.enumerated() {
                raw.storeBytes(of: halfBits(v).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        }
        return out
    }

    static func halfBits(_ v: Float) -> UInt16 { Float16(v).bitPattern }

    /// Q8_0 (ggml `quantize_row_q8_0_ref`): per block of 32 values, d = max|x| / 127 stored as
    /// F16, and q = round(x / d) (half away from zero) as Int8.
    static func q8_0(_ values: UnsafeBufferPointer<Float>) -> Data {
        precondition(values.count % q8BlockSize == 0, "GGMLQuantizer: Q8_0 needs a multiple of 32 values")
        let blocks = values.count / q8BlockSize
        var out = Data(count: blocks * q8BlockBytes)
        out.withUnsafeMutableBytes { raw in
            for b in 0..<blocks {
                let x = UnsafeBufferPointer(rebasing: values[b * q8BlockSize ..< (b + 1) * q8BlockSize])
                var amax: Float = 0
                for v in x { amax = Swift.max(amax, Swift.abs(v)) }
                let d = amax / 127
                let id: Float = d != 0 ? 1 / d : 0
                let base = b * q8BlockBytes
                raw.storeBytes(of: halfBits(d).littleEndian, toByteOffset: base, as: UInt16.self)
                for j in 0..<q8BlockSize {
                    raw[base + 2 + j] = UInt8(bitPattern: Int8(Foundation.roundf(x[j] * id)))
                }
            }
        }
        return out
    }
}

/// Dequantisation of ggml tensor data to Float32.
///
/// Block layouts (little-endian; `d`, `m` are binary16):
/// - Q8_0: 34 bytes = d, 32 × int8 q; value = q·d
/// - Q4_0: 18 bytes = d, 16 bytes of nibbles; element j (0..<16) is the low
///   nibble of byte j, element j+16 the high nibble; value = (q − 8)·d
/// - Q4_1: 20 bytes = d, m, 16 bytes of nibbles (same order); value = q·d + m
enum GGMLDequantizer {
    /// `source` must hold exactly the bytes of `destination.count` elements of `type`
    /// (the caller validated the layout); `type.canDequantize` must be true.
    static func dequantize(_ source: UnsafeRawBufferPointer, type: GGMLType, into destination: UnsafeMutableBufferPointer<Float>) {
        switch type {
        case .f32: FloatConversion.fromF32(source, into: destination)
        case .f16: FloatConversion.fromF16(source, into: destination)
        case .bf16: FloatConversion.fromBF16(source, into: destination)
        case .q8_0: q8_0(source, into: destination)
        case .q4_0: q4_0(source, into: destination)
        case .q4_1: q4_1(source, into: destination)
        case .q5_0: GGMLKQuantDequantizer.q5_0(source, into: destination)
        case .q5_1: GGMLKQuantDequantizer.q5_1(source, into: destination)
        case .q2_K: GGMLKQuantDequantizer.q2_K(source, into: destination)
        case .q3_K: GGMLKQuantDequantizer.q3_K(source, into: destination)
        case .q4_K: GGMLKQuantDequantizer.q4_K(source, into: destination)
        case .q5_K: GGMLKQuantDequantizer.q5_K(source, into: destination)
        case .q6_K: GGMLKQuantDequantizer.q6_K(source, into: destination)
        default: preconditionFailure("GGMLDequantizer: \(type) is not dequantisable")
        }
    }

    @inline(__always)
    private static func half(_ source: UnsafeRawBufferPointer, _ offset: Int, _ table: UnsafeBufferPointer<Float>) -> Float {
        table[Int(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))]
    }

    static func q8_0(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        let blocks = destination.count / 32
        precondition(source.count == blocks * 34)
        halfToFloatTable.withUnsafeBufferPointer { table in
            for b in 0 ..< blocks {
                let base = b * 34
                let d = half(source, base, table)
                let out = b * 32
                for j in 0 ..< 32 {
                    destination[out + j] = Float(Int8(bitPattern: source[base + 2 + j])) * d
                }
            }
        }
    }

    static func q4_0(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        let blocks = destination.count / 32
        precondition(source.count == blocks * 18)
        halfToFloatTable.withUnsafeBufferPointer { table in
            for b in 0 ..< blocks {
                let base = b * 18
                let d = half(source, base, table)
                let out = b * 32
                for j in 0 ..< 16 {
                    let q = source[base + 2 + j]
                    destination[out + j] = Float(Int(q & 0x0F) - 8) * d
                    destination[out + j + 16] = Float(Int(q >> 4) - 8) * d
                }
            }
        }
    }

    static func q4_1(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        let blocks = destination.count / 32
        precondition(source.count == blocks * 20)
        halfToFloatTable.withUnsafeBufferPointer { table in
            for b in 0 ..< blocks {
                let base = b * 20
                let d = half(source, base, table)
                let m = half(source, base + 2, table)
                let out = b * 32
                for j in 0 ..< 16 {
                    let q = source[base + 4 + j]
                    destination[out + j] = Float(q & 0x0F) * d + m
                    destination[out + j + 16] = Float(q >> 4) * d + m
                }
            }
        }
    }
}

/// IEEE 754 binary16 bit pattern to Float, exact for every input (subnormals,
/// infinities and NaN payloads included).
@inline(__always)
func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x03FF)
    if exponent == 0 {
        if mantissa == 0 { return Float(bitPattern: sign) }
        let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)  // mantissa * 2^-24, exact
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 0x1F {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

/// All 65536 binary16 values as Float (256 KiB, built on first use).
let halfToFloatTable: [Float] = (0 ... 0xFFFF).map { floatFromHalfBits(UInt16($0)) }

/// bfloat16 bit pattern to Float (exact: bf16 is the top half of a binary32).
@inline(__always)
func floatFromBFloat16Bits(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}

/// Element-wise conversions from little-endian raw buffers into Float buffers.
/// `source` must hold exactly `destination.count` elements.
enum FloatConversion {
    static func fromF32(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        #if _endian(little)
        UnsafeMutableRawBufferPointer(destination).copyMemory(from: source)
        #else
        for i in 0 ..< destination.count {
            destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
        #endif
    }

    static func fromF64(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< destination.count {
            let bits = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
            destination[i] = Float(Double(bitPattern: bits))
        }
    }

    static func fromF16(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        halfToFloatTable.withUnsafeBufferPointer { table in
            for i in 0 ..< destination.count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = table[Int(bits)]
            }
        }
    }

    static func fromBF16(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>) {
        for i in 0 ..< destination.count {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            destination[i] = floatFromBFloat16Bits(bits)
        }
    }

    /// Allocates a `[Float]` of `count` elements and fills it with `body`.
    static func makeArray(count: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
        if count == 0 { return [] }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            body(UnsafeMutableBufferPointer(rebasing: buffer[0 ..< count]))
            initialized = count
        }
    }
}

/// Element types that may appear in a safetensors header (the reference
/// implementation's full list). Only the floating-point ones can be read as
/// `[Float]`; the rest are recognised so their sizes can be validated.
public enum SafeTensorsDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case bool = "BOOL"
    case f4 = "F4"
    case f6e2m3 = "F6_E2M3"
    case f6e3m2 = "F6_E3M2"
    case u8 = "U8"
    case i8 = "I8"
    case f8e5m2 = "F8_E5M2"
    case f8e4m3 = "F8_E4M3"
    case f8e8m0 = "F8_E8M0"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case c64 = "C64"
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// Size of one element in bits.
    public var bitWidth: Int {
        switch self {
        case .f4: return 4
        case .f6e2m3, .f6e3m2: return 6
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: return 8
        case .i16, .u16, .f16, .bf16: return 16
        case .i32, .u32, .f32: return 32
        case .c64, .f64, .i64, .u64: return 64
        }
    }

    /// Whether `SafeTensorsFile.floats(_:)` can convert this dtype to Float32
    /// (F32, F16, BF16, and F64 narrowed to Float).
    public var isReadableAsFloat: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64: return true
        default: return false
        }
    }

    /// The dtype string as written in the header, e.g. `"BF16"`.
    public var description: String { rawValue }
}

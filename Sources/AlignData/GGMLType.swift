/// A ggml tensor element type as stored in GGUF tensor infos (`enum ggml_type`).
///
/// Unknown raw values are representable (so errors can name them); `layout`
/// is nil for types whose size is unknown or that ggml has removed.
public struct GGMLType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The `ggml_type` value.
    public let rawValue: UInt32

    /// Wraps a raw `ggml_type` value.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    public static let f32 = GGMLType(rawValue: 0)
    public static let f16 = GGMLType(rawValue: 1)
    public static let q4_0 = GGMLType(rawValue: 2)
    public static let q4_1 = GGMLType(rawValue: 3)
    public static let q5_0 = GGMLType(rawValue: 6)
    public static let q5_1 = GGMLType(rawValue: 7)
    public static let q8_0 = GGMLType(rawValue: 8)
    public static let q8_1 = GGMLType(rawValue: 9)
    public static let q2_K = GGMLType(rawValue: 10)
    public static let q3_K = GGMLType(rawValue: 11)
    public static let q4_K = GGMLType(rawValue: 12)
    public static let q5_K = GGMLType(rawValue: 13)
    public static let q6_K = GGMLType(rawValue: 14)
    public static let q8_K = GGMLType(rawValue: 15)
    public static let i8 = GGMLType(rawValue: 24)
    public static let i16 = GGMLType(rawValue: 25)
    public static let i32 = GGMLType(rawValue: 26)
    public static let i64 = GGMLType(rawValue: 27)
    public static let f64 = GGMLType(rawValue: 28)
    public static let bf16 = GGMLType(rawValue: 30)

    /// (name, elements per block, bytes per block); layout nil = removed from ggml.
    private static let table: [UInt32: (name: String, layout: (elements: Int, bytes: Int)?)] = [
        0: ("F32", (1, 4)), 1: ("F16", (1, 2)),
        2: ("Q4_0", (32, 18)), 3: ("Q4_1", (32, 20)),
        4: ("Q4_2", nil), 5: ("Q4_3", nil),
        6: ("Q5_0", (32, 22)), 7: ("Q5_1", (32, 24)),
        8: ("Q8_0", (32, 34)), 9: ("Q8_1", (32, 36)),
        10: ("Q2_K", (256, 84)), 11: ("Q3_K", (256, 110)), 12: ("Q4_K", (256, 144)),
        13: ("Q5_K", (256, 176)), 14: ("Q6_K", (256, 210)), 15: ("Q8_K", (256, 292)),
        16: ("IQ2_XXS", (256, 66)), 17: ("IQ2_XS", (256, 74)), 18: ("IQ3_XXS", (256, 98)),
        19: ("IQ1_S", (256, 50)), 20: ("IQ4_NL", (32, 18)), 21: ("IQ3_S", (256, 110)),
        22: ("IQ2_S", (256, 82)), 23: ("IQ4_XS", (256, 136)),
        24: ("I8", (1, 1)), 25: ("I16", (1, 2)), 26: ("I32", (1, 4)), 27: ("I64", (1, 8)),
        28: ("F64", (1, 8)), 29: ("IQ1_M", (256, 56)), 30: ("BF16", (1, 2)),
        31: ("Q4_0_4_4", nil), 32: ("Q4_0_4_8", nil), 33: ("Q4_0_8_8", nil),
        34: ("TQ1_0", (256, 54)), 35: ("TQ2_0", (256, 66)),
        36: ("IQ4_NL_4_4", nil), 37: ("IQ4_NL_4_8", nil), 38: ("IQ4_NL_8_8", nil),
        39: ("MXFP4", (32, 17)), 40: ("NVFP4", (64, 36)), 41: ("Q1_0", (128, 18)),
    ]

    /// The ggml name (e.g. "Q6_K"), or nil for an unknown value.
    public var name: String? { GGMLType.table[rawValue]?.name }

    /// Block geometry: `elements` values are stored in `bytes` bytes. Nil for
    /// unknown or removed types.
    public var layout: (elements: Int, bytes: Int)? { GGMLType.table[rawValue]?.layout }

    /// Whether `GGUFFile.floats(_:)` can dequantise this type.
    public var canDequantize: Bool {
        switch self {
        case .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K: return true
        default: return false
        }
    }

    /// Name and raw value, e.g. `"Q6_K (14)"`, or `"unknown (99)"`.
    public var description: String { "\(name ?? "unknown") (\(rawValue))" }
}

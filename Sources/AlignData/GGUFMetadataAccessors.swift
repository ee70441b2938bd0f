/// Typed access to GGUF metadata.
///
/// The optional-returning accessors return nil when the key is absent and
/// throw `.typeMismatch` (naming the file, key and actual type) when it is
/// present with an incompatible type. The `require…` variants also throw
/// `.notFound` for a missing key.
extension GGUFFile {
    /// The raw value stored under `key`, or nil.
    public func value(_ key: String) -> GGUFValue? {
        metadata[key]
    }

    /// A `STRING` value.
    public func string(_ key: String) throws -> String? {
        guard let v = metadata[key] else { return nil }
        guard let s = v.stringValue else { throw mismatch(key, v, "a string") }
        return s
    }

    /// A value of any integer type, which must fit in `Int`.
    public func int(_ key: String) throws -> Int? {
        guard let v = metadata[key] else { return nil }
        return try intElement(v, key: key)
    }

    /// A `FLOAT32`/`FLOAT64` value, or an integer value converted to Double.
    public func float(_ key: String) throws -> Double? {
        guard let v = metadata[key] else { return nil }
        guard let d = v.doubleValue else { throw mismatch(key, v, "a number") }
        return d
    }

    /// A `BOOL` value.
    public func bool(_ key: String) throws -> Bool? {
        guard let v = metadata[key] else { return nil }
        guard let b = v.boolValue else { throw mismatch(key, v, "a bool") }
        return b
    }

    /// An array of strings.
    public func stringArray(_ key: String) throws -> [String]? {
        guard let v = metadata[key] else { return nil }
        guard case .array(.string, let values) = v else { throw mismatch(key, v, "an array of strings") }
        return values.map { $0.stringValue! }
    }

    /// An array of integers (any integer element type; each must fit in `Int`).
    public func intArray(_ key: String) throws -> [Int]? {
        guard let v = metadata[key] else { return nil }
        guard case .array(let t, let values) = v, values.isEmpty || values[0].isInteger else {
            throw mismatch(key, v, "an array of integers")
        }
        _ = t
        return try values.map { try intElement($0, key: key) }
    }

    /// An array of numbers (float or integer elements) as Double.
    public func floatArray(_ key: String) throws -> [Double]? {
        guard let v = metadata[key] else { return nil }
        guard case .array(let t, let values) = v, t != .string, t != .bool, t != .array else {
            throw mismatch(key, v, "an array of numbers")
        }
        return values.map { $0.doubleValue! }
    }

    /// `string(key)`, throwing `.notFound` when absent.
    public func requireString(_ key: String) throws -> String { try required(key, string(key)) }
    /// `int(key)`, throwing `.notFound` when absent.
    public func requireInt(_ key: String) throws -> Int { try required(key, int(key)) }
    /// `float(key)`, throwing `.notFound` when absent.
    public func requireFloat(_ key: String) throws -> Double { try required(key, float(key)) }
    /// `bool(key)`, throwing `.notFound` when absent.
    public func requireBool(_ key: String) throws -> Bool { try required(key, bool(key)) }
    /// `stringArray(key)`, throwing `.notFound` when absent.
    public func requireStringArray(_ key: String) throws -> [String] { try required(key, stringArray(key)) }
    /// `intArray(key)`, throwing `.notFound` when absent.
    public func requireIntArray(_ key: String) throws -> [Int] { try required(key, intArray(key)) }
    /// `floatArray(key)`, throwing `.notFound` when absent.
    public func requireFloatArray(_ key: String) throws -> [Double] { try required(key, floatArray(key)) }

    private func required<T>(_ key: String, _ value: T?) throws -> T {
        guard let value else {
            throw AlignDataError(.notFound, path: path, "metadata key '\(key)' is missing")
        }
        return value
    }

    private func intElement(_ v: GGUFValue, key: String) throws -> Int {
        guard v.isInteger else { throw mismatch(key, v, "an integer") }
        guard let i = v.intValue else {
            throw AlignDataError(.typeMismatch, path: path, "metadata '\(key)' value \(v) does not fit in Int")
        }
        return i
    }

    private func mismatch(_ key: String, _ v: GGUFValue, _ expected: String) -> AlignDataError {
        AlignDataError(.typeMismatch, path: path, "metadata '\(key)' has type \(v.typeDescription), expected \(expected)")
    }
}

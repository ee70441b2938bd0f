import Foundation

/// Writes GGUF v3 files (little-endian): metadata of every value type, tensors stored as F32,
/// F16 or Q8_0, each tensor's data aligned to `general.alignment` (32). The file is streamed
/// into a temporary file next to the destination and renamed over it at the end, so a failed
/// write leaves any existing file untouched.
///
/// Layout (the format `GGUFFile` reads): magic `GGUF`, version, tensor count, metadata count,
/// the metadata key/value pairs, the tensor infos (name, dimensions innermost first, type,
/// offset into the data section), padding to the alignment, then the tensor data.
public struct GGUFWriter {
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    private var tensors: [(name: String, dimensions: [Int], type: GGMLType, data: Data)] = []
    public let alignment = GGUFFile.defaultAlignment

    public init() {}

    /// Sets a metadata value (replacing an earlier value of the same key, keeping its place).
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) { metadata[i].value = value } else { metadata.append((key, value)) }
    }

    public mutating func set(_ key: String, _ value: String) { set(key, .string(value)) }
    public mutating func set(_ key: String, uint32 value: Int) { set(key, .uint32(UInt32(value))) }
    public mutating func set(_ key: String, float32 value: Double) { set(key, .float32(Float(value))) }
    public mutating func set(_ key: String, _ value: Bool) { set(key, .bool(value)) }
    public mutating func set(_ key: String, strings: [String]) { set(key, .array(elementType: .string, values: strings.map(GGUFValue.string))) }
    public mutating func set(_ key: String, int32s: [Int]) { set(key, .array(elementType: .int32, values: int32s.map { .int32(Int32($0)) })) }

    /// Adds a tensor of row-major `shape` (PyTorch order; GGUF stores the dimensions reversed)
    /// encoded as `type` (F32, F16 or Q8_0; Q8_0 needs rows of a multiple of 32 values).
    public mutating func addTensor(_ name: String, shape: [Int], values: UnsafeBufferPointer<Float>, type: GGMLType) throws {
        guard !tensors.contains(where: { $0.name == name }) else {
            throw AlignDataError(.invalidArgument, path: name, "tensor '\(name)' added twice")
        }
        guard shape.count >= 1, shape.count <= GGUFFile.maximumDimensions, shape.reduce(1, *) == values.count else {
            throw AlignDataError(.invalidArgument, path: name, "tensor '\(name)': shape \(shape) does not fit \(values.count) values (1 to 4 dimensions)")
        }
        let data: Data
        switch type {
        case .f32: data = Data(buffer: values)
        case .f16: data = GGMLQuantizer.f16(values)
        case .q8_0:
            guard shape.last! % GGMLQuantizer.q8BlockSize == 0 else {
                throw AlignDataError(.invalidArgument, path: name,
                                     "tensor '\(name)': rows of \(shape.last!) values cannot be stored as Q8_0 (blocks of \(GGMLQuantizer.q8BlockSize))")
            }
            data = GGMLQuantizer.q8_0(values)
        default:
            throw AlignDataError(.unsupported, path: name, "tensor '\(name)': writing ggml type \(type) is not supported (F32, F16, Q8_0)")
        }
        tensors.append((name, Array(shape.reversed()), type, data))
    }

    public mutating func addTensor(_ name: String, shape: [Int], values: [Float], type: GGMLType) throws {
        try values.withUnsafeBufferPointer { try addTensor(name, shape: shape, values: $0, type: type) }
    }

    /// Writes the file atomically.
    public func write(to url: URL) throws {
        var header = Data()
        header.append(contentsOf: Array("GGUF".utf8))
        header.appendLE(UInt32(3))
        header.appendLE(UInt64(tensors.count))
        header.appendLE(UInt64(metadata.count))
        for (key, value) in metadata {
            header.appendGGUFString(key)
            header.appendLE(value.type.rawValue)
            header.appendGGUFValue(value)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += Self.padded(t.data.count, to: alignment)
        }
        for (t, o) in zip(tensors, offsets) {
            header.appendGGUFString(t.name)
            header.appendLE(UInt32(t.dimensions.count))
            for d in t.dimensions { header.appendLE(UInt64(d)) }
            header.appendLE(t.type.rawValue)
            header.appendLE(UInt64(o))
        }
        header.append(contentsOf: [UInt8](repeating: 0, count: Self.padded(header.count, to: alignment) - header.count))
        let writer = try AtomicFileWriter(url: url)
        try header.withUnsafeBytes { try writer.append($0) }
        let zeros = [UInt8](repeating: 0, count: alignment)
        for t in tensors {
            try t.data.withUnsafeBytes { try writer.append($0) }
            let pad = Self.padded(t.data.count, to: alignment) - t.data.count
            if pad > 0 { try zeros.withUnsafeBytes { try writer.append(UnsafeRawBufferPointer(rebasing: $0[0..<pad])) } }
        }
        try writer.commit()
    }

    static func padded(_ n: Int, to alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendGGUFString(_ s: String) {
        let bytes = Array(s.utf8)
        appendLE(UInt64(bytes.count))
        append(contentsOf: bytes)
    }

    mutating func appendGGUFValue(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): appendLE(v)
        case .int8(let v): appendLE(v)
        case .uint16(let v): appendLE(v)
        case .int16(let v): appendLE(v)
        case .uint32(let v): appendLE(v)
        case .int32(let v): appendLE(v)
        case .uint64(let v): appendLE(v)
        case .int64(let v): appendLE(v)
        case .float32(let v): appendLE(v.bitPattern)
        case .float64(let v): appendLE(v.bitPattern)
        case .bool(let v): append(v ? 1 : 0)
        case .string(let s): appendGGUFString(s)
        case .array(let elementType, let values):
            appendLE(elementType.rawValue)
            appendLE(UInt64(values.count))
            for v in values {
                precondition(v.type == elementType, "GGUFWriter: array of \(elementType) holds a \(v.type)")
                appendGGUFValue(v)
            }
        }
    }
}

import Foundation

/// Where and how one tensor is stored in a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// Tensor name, e.g. `"blk.0.attn_q.weight"`.
    public let name: String
    /// Dimensions in GGML order: innermost (contiguous) first, `ne[0]` = row length.
    public let dimensions: [Int]
    /// Element type.
    public let type: GGMLType
    /// Offset of the data relative to the start of the data section.
    public let offset: Int
    /// Absolute file offset of the data.
    public let fileOffset: Int
    /// Size of the data in bytes.
    public let byteCount: Int
    /// Number of elements (`product(dimensions)`).
    public let elementCount: Int

    /// Shape in row-major (PyTorch / NumPy) order: `dimensions` reversed.
    public var shape: [Int] { dimensions.reversed() }
}

/// A validated, memory-mapped GGUF file (versions 2 and 3, little-endian).
///
/// `init` parses the header, all metadata (every value type, nested arrays
/// included) and all tensor infos, and checks that every tensor's data lies
/// inside the file, is aligned, and does not overlap another. Every count and
/// length is checked against the bytes that remain, so a truncated or corrupt
/// file throws an `AlignDataError` instead of crashing or allocating absurd sizes.
/// Tensor data is only read (and dequantised) by `floats(_:)`.
public struct GGUFFile: Sendable {
    /// The file as named in error messages.
    public let path: String
    /// Format version (2 or 3).
    public let version: UInt32
    /// All metadata, by key.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// Data alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute file offset of the (aligned) data section.
    public let dataOffset: Int
    /// Total file size in bytes.
    public var fileSize: Int { storage.count }

    /// Default data alignment when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// Maximum dimension count of a ggml tensor.
    public static let maximumDimensions = 4
    /// Maximum nesting of metadata arrays accepted.
    public static let maximumArrayNesting = 8

    private let tensorIndex: [String: Int]
    private let storage: Data

    /// Memory-maps and validates the GGUF file at `url`.
    public init(url: URL) throws {
        try self.init(data: MappedFile.map(url), path: displayPath(of: url))
    }

    /// Validates an in-memory GGUF image; `path` is only used in error messages.
    public init(data: Data, path: String = "<memory>") throws {
        let parsed = try data.withUnsafeBytes { raw in try GGUFParser.parse(raw, path: path) }
        self.path = path
        self.storage = data
        self.version = parsed.version
        self.metadata = parsed.metadata
        self.metadataKeys = parsed.metadataKeys
        self.tensors = parsed.tensors
        self.alignment = parsed.alignment
        self.dataOffset = parsed.dataOffset
        var index: [String: Int] = [:]
        for (i, t) in parsed.tensors.enumerated() { index[t.name] = i }
        self.tensorIndex = index
    }

    /// The info of the tensor called `name`, or nil.
    public func tensor(_ name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's values as Float32, in row-major order of `shape`
    /// (equivalently GGML order with `ne[0]` fastest).
    ///
    /// Dequantises F32, F16, BF16, Q8_0, Q4_0 and Q4_1; any other type throws
    /// `.unsupported` naming the tensor and the type, e.g. `Q6_K (14)`.
    public func floats(_ name: String) throws -> [Float] {
        let info = try requireTensor(name)
        guard info.type.canDequantize else {
            throw AlignDataError(.unsupported, path: path,
                "tensor '\(name)' has ggml type \(info.type), which cannot be dequantised (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)")
        }
        return storage.withUnsafeBytes { raw in
            let source = UnsafeRawBufferPointer(rebasing: raw[info.fileOffset ..< info.fileOffset + info.byteCount])
            return FloatConversion.makeArray(count: info.elementCount) { out in
                GGMLDequantizer.dequantize(source, type: info.type, into: out)
            }
        }
    }

    /// A copy of the tensor's raw stored bytes (any type, e.g. quantised blocks), indexed from 0.
    public func rawBytes(_ name: String) throws -> Data {
        let info = try requireTensor(name)
        let start = storage.startIndex + info.fileOffset
        return Data(storage[start ..< start + info.byteCount])
    }

    func requireTensor(_ name: String) throws -> GGUFTensorInfo {
        guard let info = tensor(name) else {
            throw AlignDataError(.notFound, path: path, "no tensor named '\(name)'")
        }
        return info
    }
}

/// The GGUF header/metadata/tensor-info parser.
enum GGUFParser {
    struct Result {
        var version: UInt32
        var metadata: [String: GGUFValue]
        var metadataKeys: [String]
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    static let magic: UInt32 = 0x4655_4747  // "GGUF" read as little-endian u32

    static func parse(_ raw: UnsafeRawBufferPointer, path: String) throws -> Result {
        func malformed(_ message: String) -> AlignDataError {
            AlignDataError(.malformed, path: path, message)
        }
        let fileSize = raw.count
        var cursor = ByteCursor(raw, path: path)
        guard fileSize >= 4 else {
            throw malformed("file is too small to be GGUF (\(fileSize) bytes)")
        }
        let fileMagic = try cursor.read(UInt32.self, "magic")
        guard fileMagic == magic else {
            let shown = (0 ..< 4).map { String(format: "%02x", raw[$0]) }.joined(separator: " ")
            throw malformed("not a GGUF file (first bytes \(shown), expected 47 47 55 46 \"GGUF\")")
        }
        let version = try cursor.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            if version == 1 {
                throw AlignDataError(.unsupported, path: path, "GGUF version 1 is not supported (only versions 2 and 3)")
            }
            if version & 0xFFFF == 0, [2, 3].contains(version.byteSwapped) {
                throw AlignDataError(.unsupported, path: path, "big-endian GGUF files are not supported")
            }
            throw AlignDataError(.unsupported, path: path, "unsupported GGUF version \(version) (only versions 2 and 3)")
        }
        let tensorCount64 = try cursor.read(UInt64.self, "tensor count")
        let kvCount64 = try cursor.read(UInt64.self, "metadata count")
        // Each metadata entry needs >= 13 bytes (key length, type, 1-byte value);
        // each tensor info >= 24 bytes (name length, n_dims, type, offset).
        guard kvCount64 <= UInt64(cursor.remaining / 13) else {
            throw malformed("metadata count \(kvCount64) is impossible in a file of \(fileSize) bytes")
        }
        guard tensorCount64 <= UInt64(cursor.remaining / 24) else {
            throw malformed("tensor count \(tensorCount64) is impossible in a file of \(fileSize) bytes")
        }
        let kvCount = Int(kvCount64)
        let tensorCount = Int(tensorCount64)

        // Metadata.
        var metadata: [String: GGUFValue] = [:]
        metadata.reserveCapacity(kvCount)
        var keys: [String] = []
        keys.reserveCapacity(kvCount)
        for i in 0 ..< kvCount {
            let key = try readString(&cursor, "key of metadata entry #\(i)")
            let rawType = try cursor.read(UInt32.self, "type of metadata '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw malformed("metadata '\(key)' has unknown value type \(rawType)")
            }
            let value = try readValue(&cursor, type: type, key: key, depth: 0)
            guard metadata[key] == nil else { throw malformed("duplicate metadata key '\(key)'") }
            metadata[key] = value
            keys.append(key)
        }

        // Alignment.
        var alignment = GGUFFile.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard value.isInteger, let a = value.intValue else {
                throw malformed("metadata 'general.alignment' has type \(value.typeDescription), expected an unsigned integer")
            }
            guard a > 0, a & (a - 1) == 0, a <= 1 << 30 else {
                throw malformed("metadata 'general.alignment' is \(a), expected a power of two")
            }
            alignment = a
        }

        // Tensor infos.
        var infos: [(name: String, dims: [Int], type: GGMLType, offset: Int, elements: Int, bytes: Int)] = []
        infos.reserveCapacity(tensorCount)
        var names = Set<String>()
        for i in 0 ..< tensorCount {
            let name = try readString(&cursor, "name of tensor #\(i)")
            let nDims = try cursor.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard nDims <= UInt32(GGUFFile.maximumDimensions) else {
                throw malformed("tensor '\(name)' has \(nDims) dimensions (at most \(GGUFFile.maximumDimensions) allowed)")
            }
            var dims: [Int] = []
            for d in 0 ..< Int(nDims) {
                let raw = try cursor.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
                guard let dim = Int(exactly: raw), dim <= Int(Int64.max) else {
                    throw malformed("tensor '\(name)' dimension \(d) is \(raw), which is out of range")
                }
                dims.append(dim)
            }
            let type = GGMLType(rawValue: try cursor.read(UInt32.self, "type of tensor '\(name)'"))
            let rawOffset = try cursor.read(UInt64.self, "data offset of tensor '\(name)'")
            guard names.insert(name).inserted else { throw malformed("duplicate tensor name '\(name)'") }
            guard let layout = type.layout else {
                if type.name != nil {
                    throw AlignDataError(.unsupported, path: path, "tensor '\(name)' has ggml type \(type), which ggml no longer supports")
                }
                throw malformed("tensor '\(name)' has unknown ggml type \(type.rawValue)")
            }
            guard let elements = Checked.product(dims) else {
                throw malformed("tensor '\(name)' dimensions \(dims) overflow the element count")
            }
            let rowLength = dims.first ?? 1
            guard rowLength % layout.elements == 0 else {
                throw malformed("tensor '\(name)' row length \(rowLength) is not a multiple of the \(type.name!) block size \(layout.elements)")
            }
            guard let bytes = Checked.multiply(elements / layout.elements, layout.bytes) else {
                throw malformed("tensor '\(name)' dimensions \(dims) overflow the byte size")
            }
            guard let offset = Int(exactly: rawOffset) else {
                throw malformed("tensor '\(name)' data offset \(rawOffset) is out of range")
            }
            infos.append((name, dims, type, offset, elements, bytes))
        }

        // Data section.
        guard let dataOffset = Checked.alignUp(cursor.offset, to: alignment) else {
            throw malformed("data section offset overflows")
        }
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(infos.count)
        for t in infos {
            guard t.offset % alignment == 0 else {
                throw malformed("tensor '\(t.name)' data offset \(t.offset) is not a multiple of the alignment \(alignment)")
            }
            guard let start = Checked.add(dataOffset, t.offset), let end = Checked.add(start, t.bytes), end <= fileSize else {
                let start = dataOffset.addingReportingOverflow(t.offset).partialValue
                throw malformed("tensor '\(t.name)' data [offset \(start), \(t.bytes) bytes] runs past end of file (size \(fileSize))")
            }
            _ = end
            tensors.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type, offset: t.offset,
                                          fileOffset: start, byteCount: t.bytes, elementCount: t.elements))
        }
        // No two tensors may share bytes.
        let byOffset = tensors.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where b.offset < a.offset + a.byteCount {
            throw malformed("tensor '\(b.name)' data [offset \(b.fileOffset), \(b.byteCount) bytes] overlaps tensor '\(a.name)' [offset \(a.fileOffset), \(a.byteCount) bytes]")
        }
        return Result(version: version, metadata: metadata, metadataKeys: keys, tensors: tensors,
                      alignment: alignment, dataOffset: dataOffset)
    }

    /// A GGUF string: u64 byte length + UTF-8 bytes (decoded leniently).
    static func readString(_ cursor: inout ByteCursor, _ what: @autoclosure () -> String) throws -> String {
        let length = try cursor.read(UInt64.self, "length of \(what())")
        guard length <= UInt64(cursor.remaining) else {
            throw AlignDataError(.malformed, path: cursor.path,
                "\(what()) has length \(length) at offset \(cursor.offset - 8), past end of file (\(cursor.remaining) bytes left)")
        }
        let bytes = try cursor.take(Int(length), what())
        return String(decoding: bytes, as: UTF8.self)
    }

    static func readValue(_ cursor: inout ByteCursor, type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, "value of metadata '\(key)'"))
        case .int8: return .int8(try cursor.read(Int8.self, "value of metadata '\(key)'"))
        case .uint16: return .uint16(try cursor.read(UInt16.self, "value of metadata '\(key)'"))
        case .int16: return .int16(try cursor.read(Int16.self, "value of metadata '\(key)'"))
        case .uint32: return .uint32(try cursor.read(UInt32.self, "value of metadata '\(key)'"))
        case .int32: return .int32(try cursor.read(Int32.self, "value of metadata '\(key)'"))
        case .uint64: return .uint64(try cursor.read(UInt64.self, "value of metadata '\(key)'"))
        case .int64: return .int64(try cursor.read(Int64.self, "value of metadata '\(key)'"))
        case .float32: return .float32(Float(bitPattern: try cursor.read(UInt32.self, "value of metadata '\(key)'")))
        case .float64: return .float64(Double(bitPattern: try cursor.read(UInt64.self, "value of metadata '\(key)'")))
        case .bool:
            let byte = try cursor.read(UInt8.self, "value of metadata '\(key)'")
            guard byte <= 1 else {
                throw AlignDataError(.malformed, path: cursor.path, "metadata '\(key)' has bool byte \(byte) (expected 0 or 1)")
            }
            return .bool(byte == 1)
        case .string:
            return .string(try readString(&cursor, "string value of metadata '\(key)'"))
        case .array:
            guard depth < GGUFFile.maximumArrayNesting else {
                throw AlignDataError(.malformed, path: cursor.path,
                    "metadata '\(key)' nests arrays deeper than \(GGUFFile.maximumArrayNesting) levels")
            }
            let rawElementType = try cursor.read(UInt32.self, "array element type of metadata '\(key)'")
            guard let elementType = GGUFValueType(rawValue: rawElementType) else {
                throw AlignDataError(.malformed, path: cursor.path, "metadata '\(key)' is an array of unknown value type \(rawElementType)")
            }
            let count64 = try cursor.read(UInt64.self, "array length of metadata '\(key)'")
            guard count64 <= UInt64(cursor.remaining / elementType.minimumEncodedSize) else {
                throw AlignDataError(.malformed, path: cursor.path,
                    "metadata '\(key)' array of \(count64) \(elementType) values at offset \(cursor.offset - 8) runs past end of file (\(cursor.remaining) bytes left)")
            }
            let count = Int(count64)
            var values: [GGUFValue] = []
            values.reserveCapacity(count)
            for _ in 0 ..< count {
                values.append(try readValue(&cursor, type: elementType, key: key, depth: depth + 1))
            }
            return .array(elementType: elementType, values: values)
        }
    }
}

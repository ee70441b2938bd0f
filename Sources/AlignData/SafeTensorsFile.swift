import Foundation

/// A validated, memory-mapped safetensors file.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON
/// mapping tensor names to `{"dtype", "shape", "data_offsets"}` (offsets relative
/// to the byte after the header) plus an optional `"__metadata__"` string map,
/// then the tensor data. `init` validates the whole header up front (length within
/// the file, strict JSON, every field present and well typed, known dtypes, byte
/// sizes equal to `product(shape) * dtype size`, offsets within the file, no two
/// tensors' bytes overlapping); tensor bytes are only touched when read.
public struct SafeTensorsFile: Sendable {
    /// Header entry of one tensor.
    public struct TensorInfo: Sendable, Equatable {
        /// Tensor name (the header key).
        public let name: String
        /// Element type.
        public let dtype: SafeTensorsDType
        /// Row-major shape (empty for a scalar).
        public let shape: [Int]
        /// Byte range relative to the start of the data section (`data_offsets`).
        public let dataOffsets: Range<Int>
        /// `product(shape)`.
        public let elementCount: Int
    }

    /// Largest header the reference implementation accepts (100 MB).
    public static let maximumHeaderLength = 100_000_000

    /// The file as named in error messages.
    public let path: String
    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]
    /// Tensor names in file (data offset) order.
    public let names: [String]
    /// Length of the JSON header in bytes (the leading u64).
    public let headerLength: Int
    /// Absolute file offset of the data section (`8 + headerLength`).
    public var dataStart: Int { 8 + headerLength }
    /// Total file size in bytes.
    public var fileSize: Int { storage.count }

    private let infos: [String: TensorInfo]
    private let storage: Data

    /// Memory-maps and validates the file at `url`.
    public init(url: URL) throws {
        try self.init(data: MappedFile.map(url), path: displayPath(of: url))
    }

    /// Validates an in-memory safetensors image; `path` is only used in error messages.
    public init(data: Data, path: String = "<memory>") throws {
        self.path = path
        self.storage = data
        let parsed = try data.withUnsafeBytes { raw in try SafeTensorsFile.parseHeader(raw, path: path) }
        self.headerLength = parsed.headerLength
        self.metadata = parsed.metadata
        self.names = parsed.tensors.map(\.name)
        self.infos = Dictionary(uniqueKeysWithValues: parsed.tensors.map { ($0.name, $0) })
    }

    /// Header entry for `name`, or nil if there is no such tensor.
    public func info(_ name: String) -> TensorInfo? {
        infos[name]
    }

    /// All tensor entries, in file order.
    public var tensors: [TensorInfo] { names.compactMap { infos[$0] } }

    /// The tensor's elements converted to Float32 (row-major).
    ///
    /// Reads F32, F16, BF16 and F64; any other dtype throws a `.typeMismatch`
    /// error naming the tensor and its dtype.
    public func floats(_ name: String) throws -> [Float] {
        let info = try readableInfo(name)
        return FloatConversion.makeArray(count: info.elementCount) { out in convert(info, into: out) }
    }

    /// Like `floats(_:)`, converting straight into `destination`, which must hold exactly the
    /// tensor's element count (a tensor's storage: no intermediate array).
    public func read(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let info = try readableInfo(name)
        precondition(destination.count == info.elementCount,
                     "SafeTensorsFile.read: \(destination.count) floats for tensor '\(name)' of \(info.elementCount)")
        convert(info, into: destination)
    }

    private func readableInfo(_ name: String) throws -> TensorInfo {
        let info = try requireInfo(name)
        guard info.dtype.isReadableAsFloat else {
            throw AlignDataError(.typeMismatch, path: path,
                "tensor '\(name)' has dtype \(info.dtype), which cannot be read as floating point (readable: F32, F16, BF16, F64)")
        }
        return info
    }

    private func convert(_ info: TensorInfo, into out: UnsafeMutableBufferPointer<Float>) {
        let start = dataStart + info.dataOffsets.lowerBound
        let end = dataStart + info.dataOffsets.upperBound
        storage.withUnsafeBytes { raw in
            let source = UnsafeRawBufferPointer(rebasing: raw[start ..< end])
            switch info.dtype {
            case .f32: FloatConversion.fromF32(source, into: out)
            case .f16: FloatConversion.fromF16(source, into: out)
            case .bf16: FloatConversion.fromBF16(source, into: out)
            case .f64: FloatConversion.fromF64(source, into: out)
            default: preconditionFailure("unreachable: dtype checked by readableInfo")
            }
        }
    }

    /// A copy of the tensor's raw little-endian bytes (any dtype), indexed from 0.
    public func rawBytes(_ name: String) throws -> Data {
        let info = try requireInfo(name)
        let start = dataStart + info.dataOffsets.lowerBound
        let end = dataStart + info.dataOffsets.upperBound
        return Data(storage[storage.startIndex + start ..< storage.startIndex + end])
    }

    private func requireInfo(_ name: String) throws -> TensorInfo {
        guard let info = infos[name] else {
            throw AlignDataError(.notFound, path: path, "no tensor named '\(name)'")
        }
        return info
    }

    // MARK: - Header parsing

    private struct ParsedHeader {
        var headerLength: Int
        var metadata: [String: String]
        var tensors: [TensorInfo]
    }

    private static func parseHeader(_ raw: UnsafeRawBufferPointer, path: String) throws -> ParsedHeader {
        func malformed(_ message: String) -> AlignDataError {
            AlignDataError(.malformed, path: path, message)
        }
        let fileSize = raw.count
        guard fileSize >= 8 else {
            throw malformed("file is too small to be a safetensors file (\(fileSize) bytes; the header length alone needs 8)")
        }
        let declared = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard declared <= UInt64(maximumHeaderLength) else {
            throw malformed("header length \(declared) exceeds the \(maximumHeaderLength)-byte limit")
        }
        let headerLength = Int(declared)
        guard headerLength <= fileSize - 8 else {
            throw malformed("header length \(headerLength) runs past end of file (size \(fileSize))")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: raw[8 ..< 8 + headerLength])
        let json: JSONValue
        do {
            json = try JSONParser.parse(headerBytes)
        } catch let e as JSONParseError {
            throw malformed("invalid JSON header: \(e.message) at header byte \(e.offset)")
        }
        guard case .object(let members) = json else {
            throw malformed("JSON header is \(json.kindName), expected an object")
        }

        let dataStart = 8 + headerLength
        let dataSize = fileSize - dataStart
        var metadata: [String: String] = [:]
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(members.count)

        for (name, entry) in members {
            if name == "__metadata__" {
                guard case .object(let pairs) = entry else {
                    throw malformed("__metadata__ is \(entry.kindName), expected an object of strings")
                }
                for (key, value) in pairs {
                    guard case .string(let s) = value else {
                        throw malformed("__metadata__ value for '\(key)' is \(value.kindName), expected a string")
                    }
                    metadata[key] = s
                }
                continue
            }
            guard case .object = entry else {
                throw malformed("tensor '\(name)' entry is \(entry.kindName), expected an object")
            }
            guard let dtypeValue = entry["dtype"] else { throw malformed("tensor '\(name)' has no dtype") }
            guard case .string(let dtypeName) = dtypeValue else {
                throw malformed("tensor '\(name)' dtype is \(dtypeValue.kindName), expected a string")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw malformed("tensor '\(name)' has unknown dtype '\(dtypeName)'")
            }
            guard let shapeValue = entry["shape"] else { throw malformed("tensor '\(name)' has no shape") }
            let shape = try nonNegativeInts(shapeValue, what: "tensor '\(name)' shape", path: path)
            guard let offsetsValue = entry["data_offsets"] else {
                throw malformed("tensor '\(name)' has no data_offsets")
            }
            let offsets = try nonNegativeInts(offsetsValue, what: "tensor '\(name)' data_offsets", path: path)
            guard offsets.count == 2 else {
                throw malformed("tensor '\(name)' data_offsets has \(offsets.count) entries, expected 2")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else {
                throw malformed("tensor '\(name)' data_offsets [\(begin), \(end)] end before they begin")
            }
            guard let elementCount = Checked.product(shape),
                  let bits = Checked.multiply(elementCount, dtype.bitWidth) else {
                throw malformed("tensor '\(name)' shape \(shape) has too many elements")
            }
            guard bits % 8 == 0 else {
                throw malformed("tensor '\(name)' shape \(shape) of \(dtype) does not fill a whole number of bytes")
            }
            let expectedBytes = bits / 8
            guard end - begin == expectedBytes else {
                throw malformed("tensor '\(name)' data_offsets [\(begin), \(end)] hold \(end - begin) bytes but dtype \(dtype) with shape \(shape) needs \(expectedBytes)")
            }
            guard end <= dataSize else {
                throw malformed("tensor '\(name)' data [offset \(dataStart + begin), \(end - begin) bytes] runs past end of file (size \(fileSize))")
            }
            tensors.append(TensorInfo(name: name, dtype: dtype, shape: shape,
                                      dataOffsets: begin ..< end, elementCount: elementCount))
        }

        // File order, and no two non-empty tensors may share bytes.
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound) }
        var previous: TensorInfo?
        for t in tensors where !t.dataOffsets.isEmpty {
            if let p = previous, t.dataOffsets.lowerBound < p.dataOffsets.upperBound {
                throw malformed("tensor '\(t.name)' data_offsets [\(t.dataOffsets.lowerBound), \(t.dataOffsets.upperBound)] overlap tensor '\(p.name)' [\(p.dataOffsets.lowerBound), \(p.dataOffsets.upperBound)]")
            }
            if previous == nil || t.dataOffsets.upperBound > previous!.dataOffsets.upperBound {
                previous = t
            }
        }
        return ParsedHeader(headerLength: headerLength, metadata: metadata, tensors: tensors)
    }

    private static func nonNegativeInts(_ value: JSONValue, what: String, path: String) throws -> [Int] {
        guard case .array(let elements) = value else {
            throw AlignDataError(.malformed, path: path, "\(what) is \(value.kindName), expected an array of integers")
        }
        return try elements.map { element in
            guard case .integer(let v) = element, v >= 0, let i = Int(exactly: v) else {
                throw AlignDataError(.malformed, path: path, "\(what) contains \(element.kindName) that is not a non-negative integer")
            }
            return i
        }
    }
}

import Foundation

/// Writes F32 safetensors files that the reference `safetensors` library (and
/// therefore Hugging Face transformers) loads.
///
/// Matches the reference serializer's layout: tensors sorted by name (byte-wise),
/// stored contiguously in that order; header `{"__metadata__":{…},"name":{"dtype":"F32","shape":[…],"data_offsets":[b,e]},…}`
/// in compact JSON, padded with spaces to a multiple of 8 bytes. The file is
/// written to a temporary file in the same directory and atomically renamed.
public enum SafeTensorsWriter {
    /// One tensor to write: its name, row-major shape, and `product(shape)` values.
    public typealias Tensor = (name: String, shape: [Int], data: [Float])

    /// Writes `tensors` as F32 to `url`, replacing any existing file atomically.
    ///
    /// - Parameter metadata: the `__metadata__` map; omitted from the header when
    ///   empty. Transformers expects `["format": "pt"]` (the default).
    /// - Throws: `.invalidArgument` for duplicate/reserved names, negative
    ///   dimensions or a data count that does not match the shape; `.io` on
    ///   file-system errors.
    public static func write(tensors: [Tensor], metadata: [String: String] = ["format": "pt"], to url: URL) throws {
        let shown = displayPath(of: url)
        let (header, order) = try makeHeader(tensors: tensors, metadata: metadata, path: shown)
        let writer = try AtomicFileWriter(url: url)
        do {
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try writer.append($0) }
            try header.withUnsafeBytes { try writer.append($0) }
            for index in order {
                try appendF32(tensors[index].data, to: writer)
            }
            try writer.commit()
        } catch {
            writer.discard()
            throw error
        }
    }

    /// The complete file image in memory (same bytes `write` produces).
    public static func serialize(tensors: [Tensor], metadata: [String: String] = ["format": "pt"]) throws -> Data {
        let (header, order) = try makeHeader(tensors: tensors, metadata: metadata, path: "")
        var out = Data()
        let dataBytes = order.reduce(0) { $0 + tensors[$1].data.count * 4 }
        out.reserveCapacity(8 + header.count + dataBytes)
        var length = UInt64(header.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(header)
        for index in order {
            #if _endian(little)
            tensors[index].data.withUnsafeBytes { out.append(contentsOf: $0) }
            #else
            for v in tensors[index].data {
                var bits = v.bitPattern.littleEndian
                withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
            }
            #endif
        }
        return out
    }

    private static func appendF32(_ data: [Float], to writer: AtomicFileWriter) throws {
        #if _endian(little)
        try data.withUnsafeBytes { try writer.append($0) }
        #else
        let swapped = data.map { $0.bitPattern.littleEndian }
        try swapped.withUnsafeBytes { try writer.append($0) }
        #endif
    }

    /// Validates the tensors and builds the padded JSON header; also returns the
    /// indices of `tensors` in storage (sorted-name) order.
    static func makeHeader(tensors: [Tensor], metadata: [String: String], path: String) throws -> (Data, [Int]) {
        func invalid(_ message: String) -> AlignDataError {
            AlignDataError(.invalidArgument, path: path, message)
        }
        var seen = Set<String>()
        for t in tensors {
            guard t.name != "__metadata__" else { throw invalid("'__metadata__' is reserved and cannot be a tensor name") }
            guard seen.insert(t.name).inserted else { throw invalid("duplicate tensor name '\(t.name)'") }
            guard t.shape.allSatisfy({ $0 >= 0 }) else { throw invalid("tensor '\(t.name)' has a negative dimension in shape \(t.shape)") }
            guard let count = Checked.product(t.shape), count == t.data.count else {
                throw invalid("tensor '\(t.name)' has \(t.data.count) values but shape \(t.shape) needs \(Checked.product(t.shape).map(String.init) ?? "too many")")
            }
        }
        // Byte-wise name order, as the Rust reference sorts `String`s.
        let order = tensors.indices.sorted { tensors[$0].name.utf8.lexicographicallyPrecedes(tensors[$1].name.utf8) }

        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            json += keys.map { "\(jsonQuoted($0)):\(jsonQuoted(metadata[$0]!))" }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for index in order {
            let t = tensors[index]
            let size = t.data.count * 4
            if !first { json += "," }
            first = false
            json += "\(jsonQuoted(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}"
            offset += size
        }
        json += "}"
        var header = Data(json.utf8)
        let padding = (8 - header.count % 8) % 8
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        return (header, order)
    }
}

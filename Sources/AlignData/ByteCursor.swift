/// A bounds-checked little-endian reader over a raw byte buffer.
///
/// Every read checks the remaining length first and throws a `.malformed`
/// `AlignDataError` naming the file, the item being read and the offset, so a
/// truncated or corrupt file can never read out of bounds.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - offset }

    /// Throws unless `count` more bytes are available.
    func require(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count >= 0, count <= remaining else {
            throw AlignDataError(.malformed, path: path,
                "unexpected end of file reading \(what()) at offset \(offset) (need \(count) bytes, \(remaining) left)")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        try require(size, what())
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    /// Returns the next `count` bytes as a sub-buffer and advances past them.
    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try require(count, what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + count])
        offset += count
        return slice
    }
}

/// Overflow-checked arithmetic helpers returning nil on overflow.
enum Checked {
    static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }

    /// Product of non-negative dimensions (1 for an empty list), nil on overflow.
    static func product(_ dims: [Int]) -> Int? {
        var p = 1
        for d in dims {
            guard let next = multiply(p, d) else { return nil }
            p = next
        }
        return p
    }

    /// `value` rounded up to a multiple of `alignment` (> 0), nil on overflow.
    static func alignUp(_ value: Int, to alignment: Int) -> Int? {
        let rem = value % alignment
        return rem == 0 ? value : add(value, alignment - rem)
    }
}

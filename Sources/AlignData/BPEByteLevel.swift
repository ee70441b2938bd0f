/// GPT-2's reversible bytes-to-unicode table, used by the `ByteLevel`
/// pre-tokeniser and decoder: every byte value maps to one printable code point
/// so that vocabulary entries are ordinary strings.
///
/// The printable bytes `!`…`~`, `¡`…`¬` and `®`…`ÿ` map to themselves; the
/// remaining 68 bytes (controls, space, DEL, NBSP, soft hyphen, …) map in
/// increasing order to U+0100, U+0101, … (so space becomes `Ġ`, newline `Ċ`).
enum ByteLevel {
    /// `scalar[b]`: the code point standing for byte `b`.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0 ..< 256 {
            if isPrintable(UInt8(b)) {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `scalarForByte`, indexed by code point (0 ..< 324); -1 where no byte maps.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for b in 0 ..< 256 { table[Int(scalarForByte[b])] = Int16(b) }
        return table
    }()

    private static func isPrintable(_ b: UInt8) -> Bool {
        (0x21 ... 0x7E).contains(b) || (0xA1 ... 0xAC).contains(b) || (0xAE ... 0xFF).contains(b)
    }

    /// The byte-level string for raw bytes (e.g. `" hi"` → `"Ġhi"`).
    static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(scalarForByte[Int(b)])!) }
        return String(s)
    }

    /// The raw bytes of a byte-level string, or nil if it has a character outside the table.
    static func decode(_ token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            let v = Int(scalar.value)
            guard v < byteForScalar.count, byteForScalar[v] >= 0 else { return nil }
            out.append(UInt8(byteForScalar[v]))
        }
        return out
    }

    /// The bytes HF's `ByteLevel` decoder produces for one token: the byte-level
    /// decoding, or the token's own UTF-8 when it is not a byte-level string.
    static func decodeOrRaw(_ token: String) -> [UInt8] {
        decode(token) ?? Array(token.utf8)
    }
}

/// Per-code-point class bits, as Hugging Face `tokenizers` sees them (see
/// BPEUnicodeTables.swift): one byte per code point for the whole code space.
enum ScalarClass {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let whitespace: UInt8 = 4
    /// Rust `char::is_numeric` (the `Digits` pre-tokeniser); almost the same as `number`.
    static let numeric: UInt8 = 8

    /// `table[cp]` for cp in 0 ..< 0x110000 (1.1 MB, built once on first use).
    static let table: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 0x110000)
        func fill(_ ranges: [UInt32], _ bit: UInt8) {
            var i = 0
            while i + 1 < ranges.count {
                for cp in Int(ranges[i]) ... Int(ranges[i + 1]) { t[cp] |= bit }
                i += 2
            }
        }
        fill(BPEUnicodeTables.letter, letter)
        fill(BPEUnicodeTables.number, number)
        fill(BPEUnicodeTables.whitespace, whitespace)
        fill(BPEUnicodeTables.numeric, numeric)
        return t
    }()

    /// The class bits of one scalar.
    @inline(__always)
    static func of(_ scalar: UInt32) -> UInt8 { table[Int(scalar)] }
}

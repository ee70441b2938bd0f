/// A token matched verbatim in the raw text before pre-tokenisation
/// (tokenizer.json `added_tokens`; special tokens such as `<|im_start|>`).
public struct AddedToken: Sendable, Equatable {
    public var id: Int
    public var content: String
    /// Special tokens can be skipped when decoding, and are left as text by
    /// `encode(_:addSpecialTokens:parseSpecialTokens:)` with `parseSpecialTokens: false`.
    public var special: Bool
    /// Match only when not adjacent to a word character on either side.
    public var singleWord: Bool
    /// Absorb whitespace on the left / right of the match.
    public var lstrip: Bool
    public var rstrip: Bool
    /// tokenizer.json's `normalized` flag (kept for saving; matching always uses the raw text).
    public var normalized: Bool

    public init(id: Int, content: String, special: Bool, singleWord: Bool = false,
                lstrip: Bool = false, rstrip: Bool = false, normalized: Bool? = nil) {
        self.id = id
        self.content = content
        self.special = special
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized ?? !special
    }
}

/// The added tokens and a leftmost-longest matcher over UTF-8 bytes.
struct AddedVocabulary: Sendable {
    private(set) var tokens: [AddedToken] = []
    private var indexByID: [Int: Int] = [:]
    private var indexByContent: [String: Int] = [:]
    /// Token indices by first UTF-8 byte, longest content first.
    private var byFirstByte: [[Int]] = Array(repeating: [], count: 256)
    private var contentBytes: [[UInt8]] = []

    init(_ tokens: [AddedToken] = []) {
        for t in tokens { add(t) }
    }

    /// Adds (or replaces, by id) a token.
    mutating func add(_ token: AddedToken) {
        if let i = indexByID[token.id] {
            tokens[i] = token
        } else {
            indexByID[token.id] = tokens.count
            tokens.append(token)
        }
        rebuild()
    }

    private mutating func rebuild() {
        indexByContent = [:]
        byFirstByte = Array(repeating: [], count: 256)
        contentBytes = tokens.map { Array($0.content.utf8) }
        for (i, t) in tokens.enumerated() {
            indexByContent[t.content] = i
            guard let first = contentBytes[i].first else { continue }
            byFirstByte[Int(first)].append(i)
        }
        for b in 0 ..< 256 where byFirstByte[b].count > 1 {
            byFirstByte[b].sort { contentBytes[$0].count > contentBytes[$1].count || (contentBytes[$0].count == contentBytes[$1].count && $0 < $1) }
        }
    }

    var isEmpty: Bool { tokens.isEmpty }

    func token(id: Int) -> AddedToken? {
        indexByID[id].map { tokens[$0] }
    }

    func token(content: String) -> AddedToken? {
        indexByContent[content].map { tokens[$0] }
    }

    /// A piece of the input: either plain text (`tokenID == nil`) or a matched added token.
    struct Segment: Equatable {
        var start: Int
        var end: Int
        var tokenID: Int?
    }

    @inline(__always)
    private static func isWordByte(_ scalar: UInt32) -> Bool {
        scalar == 0x5F || ScalarClass.of(scalar) & (ScalarClass.letter | ScalarClass.number) != 0
    }

    /// Splits `bytes` around added-token matches, scanning left to right and
    /// taking the longest token at the leftmost position (Hugging Face's
    /// `LeftmostLongest` matching). Special tokens are skipped when `includeSpecial` is false.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, includeSpecial: Bool) -> [Segment] {
        let n = bytes.count
        guard !tokens.isEmpty, n > 0 else { return n > 0 ? [Segment(start: 0, end: n, tokenID: nil)] : [] }
        var segments: [Segment] = []
        var textStart = 0       // start of pending plain text
        var p = 0
        while p < n {
            let candidates = byFirstByte[Int(bytes[p])]
            var matched = -1
            if !candidates.isEmpty {
                for i in candidates {
                    let t = tokens[i]
                    if !includeSpecial && t.special { continue }
                    let content = contentBytes[i]
                    if content.count <= n - p && (0 ..< content.count).allSatisfy({ bytes[p + $0] == content[$0] }) {
                        matched = i
                        break
                    }
                }
            }
            if matched < 0 {
                p += 1
                continue
            }
            let t = tokens[matched]
            var start = p
            var end = p + contentBytes[matched].count
            if t.singleWord {
                let before = start > 0 ? previousScalar(bytes, before: start) : nil
                let after = end < n ? scalar(bytes, at: end) : nil
                if before.map(AddedVocabulary.isWordByte) == true || after.map(AddedVocabulary.isWordByte) == true {
                    p = end
                    continue
                }
            }
            if t.lstrip {
                while start > textStart, let s = previousScalar(bytes, before: start),
                      ScalarClass.of(s) & ScalarClass.whitespace != 0 {
                    start -= utf8Length(s)
                }
            }
            if t.rstrip {
                while end < n, let s = scalar(bytes, at: end), ScalarClass.of(s) & ScalarClass.whitespace != 0 {
                    end += utf8Length(s)
                }
            }
            if start > textStart { segments.append(Segment(start: textStart, end: start, tokenID: nil)) }
            segments.append(Segment(start: start, end: end, tokenID: t.id))
            textStart = end
            p = end
        }
        if textStart < n { segments.append(Segment(start: textStart, end: n, tokenID: nil)) }
        return segments
    }

    private func utf8Length(_ s: UInt32) -> Int {
        s < 0x80 ? 1 : s < 0x800 ? 2 : s < 0x10000 ? 3 : 4
    }

    /// The scalar starting at byte `i` (which must be a scalar boundary).
    private func scalar(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt32? {
        var it = b[i...].makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let s) = decoder.decode(&it) { return s.value }
        return nil
    }

    /// The scalar ending just before byte `i`.
    private func previousScalar(_ b: UnsafeBufferPointer<UInt8>, before i: Int) -> UInt32? {
        var j = i - 1
        while j > 0 && b[j] & 0xC0 == 0x80 { j -= 1 }
        return scalar(b, at: j)
    }
}

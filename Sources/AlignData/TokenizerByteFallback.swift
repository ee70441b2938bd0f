/// How much of a text a tokenizer spells with byte tokens instead of whole characters (seed 003:
/// extending LLaMA's vocabulary with Chinese characters cut this share), and which characters
/// those are.
///
/// A character "falls back to bytes" when it is not one vocabulary token of its own: in a
/// SentencePiece-style model, a scalar missing from the vocabulary (encoded as `<0xXX>` tokens
/// or the unknown token); in a byte-level model, a scalar whose UTF-8 bytes are not a single
/// token. Text matched by a special added token (e.g. `<s>` written in the text) is not counted,
/// nor are whitespace and control characters (a SentencePiece model spells the space as "▁");
/// characters matched by a plain added token (a word or character `align tokenizer extend`
/// added) are counted as whole tokens.
public struct ByteFallbackReport: Sendable, Equatable {
    /// Tokens of the encoded texts (no special tokens added).
    public var tokens: Int
    /// Of those, byte tokens: `<0xXX>` (SentencePiece-style) or lone bytes ≥ 0x80 of a split character (byte-level).
    public var byteTokens: Int
    /// Unicode scalars in the texts (whitespace and controls excluded), and how many of them fall back to bytes.
    public var scalars: Int
    public var fallbackScalars: Int

    /// `byteTokens / tokens` (0 for no tokens).
    public var byteTokenShare: Double { tokens == 0 ? 0 : Double(byteTokens) / Double(tokens) }
    /// `fallbackScalars / scalars` (0 for no text).
    public var fallbackScalarShare: Double { scalars == 0 ? 0 : Double(fallbackScalars) / Double(scalars) }
}

extension Tokenizer {
    /// Whether `scalar` is one vocabulary token (or an added token of its own).
    func scalarIsToken(_ scalar: Unicode.Scalar) -> Bool {
        if addedVocabulary.token(content: String(scalar)) != nil { return true }
        if model.characterLevel { return model.scalarID(scalar.value) >= 0 }
        return model.vocab[ByteLevel.encode(Array(String(scalar).utf8))] != nil
    }

    /// Calls `body` with every scalar of `text` outside special added-token matches, skipping
    /// whitespace and controls; `added` is true for a scalar inside a plain added token's match.
    func forEachCountedScalar(_ text: String, _ body: (_ scalar: Unicode.Scalar, _ added: Bool) -> Void) {
        var text = text
        var pieces: [(String, Bool)] = []
        if addedVocabulary.isEmpty {
            pieces = [(text, false)]
        } else {
            text.withUTF8 { bytes in
                for segment in addedVocabulary.split(bytes, includeSpecial: true) {
                    if let id = segment.tokenID, addedVocabulary.token(id: id)?.special ?? true { continue }
                    pieces.append((String(decoding: UnsafeBufferPointer(rebasing: bytes[segment.start ..< segment.end]), as: UTF8.self),
                                   segment.tokenID != nil))
                }
            }
        }
        for (piece, added) in pieces {
            for s in piece.unicodeScalars where !(s.properties.isWhitespace || s.properties.generalCategory == .control) {
                body(s, added)
            }
        }
    }

    /// Whether token `id` is a byte token in the sense of `ByteFallbackReport.byteTokens`.
    func isByteToken(_ id: Int) -> Bool {
        guard id >= 0, id < model.count, addedVocabulary.token(id: id) == nil, let t = model.tokens[id] else { return false }
        if model.characterLevel { return model.byteFallback && SentencePieceBytes.byteOfToken(t.utf8) != nil }
        let bytes = model.tokenBytes[id]
        return bytes.count == 1 && bytes[0] >= 0x80
    }

    /// Encodes `texts` (no special tokens added) and counts byte tokens and falling-back characters.
    public func byteFallbackReport(_ texts: [String]) -> ByteFallbackReport {
        var report = ByteFallbackReport(tokens: 0, byteTokens: 0, scalars: 0, fallbackScalars: 0)
        var known: [UInt32: Bool] = [:]
        for text in texts {
            let ids = encode(text, addSpecialTokens: false)
            report.tokens += ids.count
            report.byteTokens += ids.reduce(0) { $0 + (isByteToken($1) ? 1 : 0) }
            forEachCountedScalar(text) { s, added in
                report.scalars += 1
                if added { return }
                let ok: Bool
                if let k = known[s.value] { ok = k } else { ok = scalarIsToken(s); known[s.value] = ok }
                if !ok { report.fallbackScalars += 1 }
            }
        }
        return report
    }

    /// The characters of `texts` that fall back to bytes, most frequent first (ties: first seen),
    /// at most `limit`, skipping whitespace and control characters; for `extend(with:)`.
    public func frequentFallbackCharacters(in texts: [String], limit: Int) -> [(character: String, count: Int)] {
        guard limit > 0 else { return [] }
        var counts: [UInt32: Int] = [:]
        var firstSeen: [UInt32: Int] = [:]
        var known: [UInt32: Bool] = [:]
        for text in texts {
            forEachCountedScalar(text) { s, added in
                if added { return }
                let ok: Bool
                if let k = known[s.value] { ok = k } else { ok = scalarIsToken(s); known[s.value] = ok }
                guard !ok else { return }
                if counts[s.value] == nil { firstSeen[s.value] = firstSeen.count }
                counts[s.value, default: 0] += 1
            }
        }
        let ordered = counts.sorted { a, b in a.value != b.value ? a.value > b.value : firstSeen[a.key]! < firstSeen[b.key]! }
        return ordered.prefix(limit).map { (String(Unicode.Scalar($0.key)!), $0.value) }
    }
}

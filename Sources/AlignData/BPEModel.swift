import Foundation

/// The BPE model: vocabulary, ranked merges, and the merge loop.
///
/// Two symbol alphabets, as Hugging Face `tokenizers` sees them:
/// - byte-level (GPT-2 family): every byte is a symbol, spelled with the
///   `ByteLevel` character table;
/// - character-level (SentencePiece family: Llama 2, Mistral, TinyLlama): every
///   Unicode scalar is a symbol, and a scalar missing from the vocabulary becomes
///   its UTF-8 bytes as `<0xXX>` tokens (`byte_fallback`) or the unknown token.
///   See SentencePieceBPEMerge.swift.
///
/// Immutable after construction (the piece cache inside is internally locked),
/// so it is shared freely between copies of `Tokenizer` and between threads.
final class BPEModel: @unchecked Sendable {
    /// Token string (byte-level form) by id; nil for ids the vocabulary skips.
    let tokens: [String?]
    /// Id by token string.
    let vocab: [String: Int32]
    /// The raw bytes each token stands for (HF `ByteLevel` decoding; the token's
    /// own UTF-8 when it is not a byte-level string).
    let tokenBytes: [[UInt8]]
    /// Vocabulary id of the single-byte token for each byte value, or -1.
    let byteToID: [Int32]
    /// `(left << 32 | right)` → `(rank << 32 | merged id)`.
    let merges: [UInt64: UInt64]
    /// The merges in rank order, as (left, right) ids.
    let mergeList: [(Int32, Int32)]
    /// `model.unk_token` id, or -1. Bytes missing from the vocabulary become this
    /// token, or are dropped when there is none (as Hugging Face does).
    let unkID: Int32
    let fuseUnk: Bool
    /// `ignore_merges`: a piece that is itself in the vocabulary is one token.
    let ignoreMerges: Bool
    /// Id by raw bytes, for `ignoreMerges`.
    let idByBytes: [[UInt8]: Int32]
    /// Whether symbols are Unicode scalars (SentencePiece family) rather than bytes.
    let characterLevel: Bool
    /// `byte_fallback`: unknown scalars become `<0xXX>` byte tokens (character level only).
    let byteFallback: Bool
    /// Character level: the id of each single-scalar token in the Basic Multilingual Plane (-1: none).
    let bmpScalarToID: [Int32]
    /// Character level: the ids of single-scalar tokens outside the BMP.
    let astralScalarToID: [UInt32: Int32]
    let cache = BPECache()

    /// Builds the model; `merges` are (left, right) token strings in rank order.
    /// Errors name `file` and the JSON-style `path` of the offending entry.
    /// With `allowDuplicates` (GGUF token lists), a repeated token string maps to its first id.
    /// `characterLevel`/`byteFallback` select the SentencePiece-family alphabet (see above).
    init(tokens: [String?], merges: [(String, String)], unkToken: String?, fuseUnk: Bool, ignoreMerges: Bool,
         file: String, vocabPath: String, mergesPath: String, allowDuplicates: Bool = false,
         characterLevel: Bool = false, byteFallback: Bool = false) throws {
        self.tokens = tokens
        var vocab = [String: Int32](minimumCapacity: tokens.count)
        for (id, token) in tokens.enumerated() {
            guard let token else { continue }
            if vocab[token] != nil {
                if allowDuplicates { continue }
                throw AlignDataError(.malformed, path: file, "\(vocabPath) has the token \(jsonQuoted(token)) twice")
            }
            vocab[token] = Int32(id)
        }
        self.vocab = vocab
        self.characterLevel = characterLevel
        self.byteFallback = byteFallback
        if characterLevel {
            tokenBytes = tokens.map { $0.map { Array($0.utf8) } ?? [] }
            byteToID = (0 ..< 256).map { b in
                byteFallback ? vocab[SentencePieceBytes.tokenForByte(UInt8(b))] ?? -1 : -1
            }
            var bmp = [Int32](repeating: -1, count: 0x10000)
            var astral: [UInt32: Int32] = [:]
            for (token, id) in vocab {
                var it = token.unicodeScalars.makeIterator()
                guard let first = it.next(), it.next() == nil else { continue }
                if first.value < 0x10000 { bmp[Int(first.value)] = id } else { astral[first.value] = id }
            }
            bmpScalarToID = bmp
            astralScalarToID = astral
        } else {
            tokenBytes = tokens.map { $0.map(ByteLevel.decodeOrRaw) ?? [] }
            byteToID = (0 ..< 256).map { b in
                vocab[String(Unicode.Scalar(ByteLevel.scalarForByte[b])!)] ?? -1
            }
            bmpScalarToID = []
            astralScalarToID = [:]
        }
        var table = [UInt64: UInt64](minimumCapacity: merges.count)
        var list: [(Int32, Int32)] = []
        list.reserveCapacity(merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            guard let left = vocab[a], let right = vocab[b] else {
                let missing = vocab[a] == nil ? a : b
                throw AlignDataError(.malformed, path: file, "\(mergesPath)[\(rank)] uses \(jsonQuoted(missing)), which is not in the vocabulary")
            }
            guard let merged = vocab[a + b] else {
                throw AlignDataError(.malformed, path: file, "\(mergesPath)[\(rank)] makes \(jsonQuoted(a + b)), which is not in the vocabulary")
            }
            let key = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
            // Like Hugging Face, a repeated pair keeps its first (best) rank.
            if table[key] == nil {
                table[key] = UInt64(rank) << 32 | UInt64(UInt32(merged))
            }
            list.append((left, right))
        }
        self.merges = table
        mergeList = list
        if let unkToken {
            guard let id = vocab[unkToken] else {
                throw AlignDataError(.malformed, path: file, "model.unk_token \(jsonQuoted(unkToken)) is not in the vocabulary")
            }
            unkID = id
        } else {
            unkID = -1
        }
        self.fuseUnk = fuseUnk
        self.ignoreMerges = ignoreMerges
        var byBytes: [[UInt8]: Int32] = [:]
        if ignoreMerges {
            for (id, token) in tokens.enumerated() {
                guard let token else { continue }
                if characterLevel {
                    if vocab[token] == Int32(id) { byBytes[Array(token.utf8)] = Int32(id) }
                } else if let bytes = ByteLevel.decode(token) {
                    byBytes[bytes] = Int32(id)
                }
            }
        }
        idByBytes = byBytes
    }

    /// Number of id slots (highest id + 1).
    var count: Int { tokens.count }

    @inline(__always)
    func rankAndMerged(_ left: Int32, _ right: Int32) -> UInt64? {
        merges[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))]
    }

    /// Tokenises one pre-tokenised piece (raw bytes). Each result packs
    /// `id << 32 | end`, where `end` is the token's end offset within `bytes`.
    func tokenize(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt64] {
        if characterLevel {
            // SentencePiece layouts often keep a whole text as one piece: cache only short ones.
            guard bytes.count <= BPEModel.cachedCharacterPieceBytes else { return mergeCharacters(bytes) }
            if let hit = cache.lookup(bytes) { return hit }
            let result = mergeCharacters(bytes)
            cache.insert(bytes, result)
            return result
        }
        if let hit = cache.lookup(bytes) { return hit }
        let result = merge(bytes)
        cache.insert(bytes, result)
        return result
    }

    /// Character-level pieces longer than this (in bytes) are not cached.
    static let cachedCharacterPieceBytes = 64

    /// The result of a merge loop that need not run: nothing for an empty piece, and with
    /// `ignoreMerges` the piece's own token when the vocabulary has it (as `tokenizers` does).
    /// Each result packs `id << 32 | end`.
    @inline(__always)
    func unmergedPiece(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt64]? {
        if bytes.isEmpty { return [] }
        if ignoreMerges, let id = idByBytes[Array(bytes)] { return [UInt64(UInt32(id)) << 32 | UInt64(bytes.count)] }
        return nil
    }

    /// The uncached BPE merge loop: repeatedly merge the adjacent pair with the
    /// lowest rank (leftmost first among equal ranks), as Hugging Face does.
    func merge(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt64] {
        let n = bytes.count
        if let whole = unmergedPiece(bytes) { return whole }
        var ids: [Int32] = []
        var ends: [UInt32] = []
        ids.reserveCapacity(n)
        ends.reserveCapacity(n)
        for i in 0 ..< n {
            let id = byteToID[Int(bytes[i])]
            if id >= 0 {
                ids.append(id)
                ends.append(UInt32(i + 1))
            } else if unkID >= 0 {
                if fuseUnk, let last = ids.last, last == unkID {
                    ends[ends.count - 1] = UInt32(i + 1)
                } else {
                    ids.append(unkID)
                    ends.append(UInt32(i + 1))
                }
            } else if !ends.isEmpty {
                // Dropped byte (no unk token): attribute it to the previous token's span.
                ends[ends.count - 1] = UInt32(i + 1)
            }
        }
        if ids.count >= 2 {
            var ranks = [UInt64](repeating: .max, count: ids.count - 1)
            for i in 0 ..< ids.count - 1 {
                if let r = rankAndMerged(ids[i], ids[i + 1]) { ranks[i] = r }
            }
            while true {
                var best = -1
                var bestRank = UInt64.max
                for i in 0 ..< ranks.count where ranks[i] < bestRank {
                    bestRank = ranks[i]
                    best = i
                }
                if best < 0 { break }
                ids[best] = Int32(truncatingIfNeeded: bestRank & 0xFFFF_FFFF)
                ends[best] = ends[best + 1]
                ids.remove(at: best + 1)
                ends.remove(at: best + 1)
                ranks.remove(at: best)
                if best > 0 {
                    ranks[best - 1] = rankAndMerged(ids[best - 1], ids[best]) ?? .max
                }
                if best < ranks.count {
                    ranks[best] = rankAndMerged(ids[best], ids[best + 1]) ?? .max
                }
            }
        }
        var out = [UInt64]()
        out.reserveCapacity(ids.count)
        for i in 0 ..< ids.count {
            out.append(UInt64(UInt32(ids[i])) << 32 | UInt64(ends[i]))
        }
        return out
    }
}

/// Memoises piece → tokens. Pieces of up to 23 bytes use an allocation-free key.
/// Bounded: once `capacity` entries are stored, new pieces are no longer added
/// (the policy Hugging Face's BPE cache uses).
final class BPECache: @unchecked Sendable {
    struct ShortKey: Hashable {
        var a: UInt64, b: UInt64, c: UInt64
    }

    static let capacity = 100_000
    private let lock = NSLock()
    private var short: [ShortKey: [UInt64]] = [:]
    private var long: [[UInt8]: [UInt64]] = [:]

    @inline(__always)
    private static func shortKey(_ bytes: UnsafeBufferPointer<UInt8>) -> ShortKey? {
        let n = bytes.count
        guard n <= 23 else { return nil }
        var words: (UInt64, UInt64, UInt64) = (0, 0, UInt64(n) << 56)
        withUnsafeMutableBytes(of: &words) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(bytes))
        }
        return ShortKey(a: words.0, b: words.1, c: words.2)
    }

    func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt64]? {
        if let key = BPECache.shortKey(bytes) {
            lock.lock()
            defer { lock.unlock() }
            return short[key]
        }
        let key = Array(bytes)
        lock.lock()
        defer { lock.unlock() }
        return long[key]
    }

    func insert(_ bytes: UnsafeBufferPointer<UInt8>, _ value: [UInt64]) {
        if let key = BPECache.shortKey(bytes) {
            lock.lock()
            defer { lock.unlock() }
            if short.count < BPECache.capacity { short[key] = value }
            return
        }
        let key = Array(bytes)
        lock.lock()
        defer { lock.unlock() }
        if long.count < BPECache.capacity / 4 { long[key] = value }
    }
}

import Foundation

/// Settings for `Tokenizer.train(on:options:)`.
public struct BPETrainingOptions: Sendable, Equatable {
    /// Target vocabulary size, special tokens and the 256 byte tokens included.
    public var vocabSize: Int
    /// Tokens given ids 0, 1, … in this order and registered as special added tokens.
    public var specialTokens: [String]
    /// Pairs seen fewer times than this are never merged.
    public var minFrequency: Int
    /// How text is split into words before counting pairs.
    public var preTokenizer: BPEPreTokenizerPreset

    public init(vocabSize: Int, specialTokens: [String] = [], minFrequency: Int = 0,
                preTokenizer: BPEPreTokenizerPreset = .gpt2) {
        self.vocabSize = vocabSize
        self.specialTokens = specialTokens
        self.minFrequency = minFrequency
        self.preTokenizer = preTokenizer
    }
}

extension Tokenizer {
    /// Trains a byte-level BPE tokenizer on `corpus` (each element pre-tokenised
    /// on its own, like `tokenizers`' `train_from_iterator`).
    ///
    /// The algorithm is Hugging Face's `BpeTrainer` with `initial_alphabet =
    /// ByteLevel.alphabet()`: ids go to the special tokens first, then to the 256
    /// byte symbols in code point order of their byte-level characters, then to
    /// merges. Each step merges the pair with the highest count over all words
    /// (words weighted by frequency); **ties go to the pair with the smallest
    /// (left id, right id)**, so training is deterministic and independent of
    /// hashing or input order. Special tokens written in the corpus are counted
    /// as ordinary text, as in `tokenizers`. Training stops at `vocabSize` tokens
    /// or when no pair reaches `minFrequency` (at least 1).
    public static func train<S: Sequence>(on corpus: S, options: BPETrainingOptions) throws -> Tokenizer where S.Element == String {
        let specials = options.specialTokens
        guard Set(specials).count == specials.count else {
            throw AlignDataError(.invalidArgument, path: "", "BPE training: special tokens must be distinct")
        }
        guard specials.allSatisfy({ !$0.isEmpty }) else {
            throw AlignDataError(.invalidArgument, path: "", "BPE training: special tokens must not be empty")
        }
        let pipeline = options.preTokenizer.pipeline

        // 1. Count words (pre-tokenised pieces, as raw bytes).
        var wordCounts: [[UInt8]: Int] = [:]
        var scratch = PreTokenizerScratch()
        for text in corpus {
            var text = text
            text.withUTF8 { bytes in
                pipeline.forEachPiece(bytes, &scratch) { piece, _, _ in
                    wordCounts[Array(piece), default: 0] += 1
                }
            }
        }

        // 2. Initial vocabulary: special tokens, then the byte alphabet by code point.
        var tokens: [String] = []
        var tokenBytes: [[UInt8]] = []
        var idByString: [String: Int32] = [:]
        var idByBytes: [[UInt8]: Int32] = [:]
        for s in specials {
            idByString[s] = Int32(tokens.count)
            tokens.append(s)
            tokenBytes.append(Array(s.utf8))
        }
        var byteID = [Int32](repeating: -1, count: 256)
        for b in (0 ..< 256).sorted(by: { ByteLevel.scalarForByte[$0] < ByteLevel.scalarForByte[$1] }) {
            let s = ByteLevel.encode([UInt8(b)])
            if let existing = idByString[s] {
                byteID[b] = existing
                continue
            }
            let id = Int32(tokens.count)
            idByString[s] = id
            idByBytes[[UInt8(b)]] = id
            byteID[b] = id
            tokens.append(s)
            tokenBytes.append([UInt8(b)])
        }

        // 3. Words as symbol sequences, in a fixed (byte-sorted) order; 4–5. merges.
        let sortedWords = wordCounts.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let merges = learnMerges(words: sortedWords.map { $0.key.map { byteID[Int($0)] } }, counts: sortedWords.map(\.value),
                                 tokens: &tokens, tokenBytes: &tokenBytes, idByBytes: &idByBytes,
                                 vocabSize: options.vocabSize, minFrequency: options.minFrequency)

        // 6. Assemble.
        let model = try BPEModel(tokens: tokens.map { Optional($0) },
                                 merges: merges.map { (tokens[Int($0.0)], tokens[Int($0.1)]) },
                                 unkToken: nil, fuseUnk: false, ignoreMerges: false,
                                 file: "trained", vocabPath: "vocabulary", mergesPath: "merges")
        let added = specials.enumerated().map { AddedToken(id: $0.offset, content: $0.element, special: true, normalized: false) }
        return Tokenizer(model: model, addedTokens: added, normalizer: .none, preTokenizer: pipeline,
                         postProcessor: BPEPostProcessor(), decoder: .byteLevel, source: "trained")
    }

    /// BPE merge learning (Hugging Face's `BpeTrainer` loop): `words` are symbol-id sequences with
    /// their `counts`; each step merges the pair with the highest count (ties: the smallest
    /// (left id, right id)), the new token's string is the concatenation of its parts' and its
    /// bytes identify it. Stops at `vocabSize` tokens or when no pair reaches `minFrequency`.
    static func learnMerges(words: [[Int32]], counts: [Int], tokens: inout [String], tokenBytes: inout [[UInt8]],
                            idByBytes: inout [[UInt8]: Int32], vocabSize: Int, minFrequency: Int) -> [(Int32, Int32)] {
        var words = words

        // 4. Pair counts and where each pair occurs.
        @inline(__always) func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }
        var pairCounts: [UInt64: Int] = [:]
        var wherePair: [UInt64: Set<Int32>] = [:]
        for (w, word) in words.enumerated() where word.count > 1 {
            for i in 0 ..< word.count - 1 {
                let k = key(word[i], word[i + 1])
                pairCounts[k, default: 0] += counts[w]
                wherePair[k, default: []].insert(Int32(w))
            }
        }
        var heap = MergeHeap()
        for (k, c) in pairCounts where c > 0 { heap.push(count: c, pair: k) }

        // 5. Merge.
        var merges: [(Int32, Int32)] = []
        while tokens.count < vocabSize, var top = heap.pop() {
            let current = pairCounts[top.pair] ?? 0
            if top.count != current {
                top.count = current
                heap.push(count: top.count, pair: top.pair)
                continue
            }
            if top.count < 1 || minFrequency > top.count { break }
            let a = Int32(truncatingIfNeeded: top.pair >> 32), b = Int32(truncatingIfNeeded: top.pair & 0xFFFF_FFFF)
            let newBytes = tokenBytes[Int(a)] + tokenBytes[Int(b)]
            let newID: Int32
            if let existing = idByBytes[newBytes] {
                newID = existing
            } else {
                newID = Int32(tokens.count)
                let s = tokens[Int(a)] + tokens[Int(b)]
                tokens.append(s)
                tokenBytes.append(newBytes)
                idByBytes[newBytes] = newID
            }
            merges.append((a, b))

            var touched: Set<UInt64> = []
            let positions = (wherePair.removeValue(forKey: top.pair) ?? []).sorted()
            for w in positions {
                let wi = Int(w)
                let count = counts[wi]
                var word = words[wi]
                var i = 0
                var changed = false
                while i + 1 < word.count {
                    if word[i] == a && word[i + 1] == b {
                        changed = true
                        if i > 0 {
                            let prev = word[i - 1]
                            pairCounts[key(prev, a), default: 0] -= count
                            let k = key(prev, newID)
                            pairCounts[k, default: 0] += count
                            wherePair[k, default: []].insert(w)
                            touched.insert(k)
                        }
                        word[i] = newID
                        word.remove(at: i + 1)
                        if i + 1 < word.count {
                            let next = word[i + 1]
                            pairCounts[key(b, next), default: 0] -= count
                            let k = key(newID, next)
                            pairCounts[k, default: 0] += count
                            wherePair[k, default: []].insert(w)
                            touched.insert(k)
                        }
                    }
                    i += 1
                }
                if changed { words[wi] = word }
            }
            for k in touched.sorted() {
                if let c = pairCounts[k], c > 0 { heap.push(count: c, pair: k) }
            }
        }

        return merges
    }

    /// Trains on the lines of a UTF-8 text file (one `train` sequence per line).
    public static func train(corpusFile url: URL, options: BPETrainingOptions) throws -> Tokenizer {
        let data = try readFileData(url)
        guard let text = String(data: data, encoding: .utf8) else {
            throw AlignDataError(.malformed, path: displayPath(of: url), "not valid UTF-8")
        }
        return try train(on: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init), options: options)
    }
}

/// A max-heap of candidate merges: highest count first, then smallest pair key
/// (`left << 32 | right`), i.e. Hugging Face's `Merge` ordering.
struct MergeHeap {
    struct Entry {
        var count: Int
        var pair: UInt64
    }

    private var items: [Entry] = []

    @inline(__always)
    private static func before(_ x: Entry, _ y: Entry) -> Bool {
        x.count != y.count ? x.count > y.count : x.pair < y.pair
    }

    mutating func push(count: Int, pair: UInt64) {
        items.append(Entry(count: count, pair: pair))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard MergeHeap.before(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count && MergeHeap.before(items[l], items[best]) { best = l }
                if r < items.count && MergeHeap.before(items[r], items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
        }
        return first
    }
}

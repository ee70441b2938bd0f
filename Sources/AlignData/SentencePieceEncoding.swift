/// Encoding for character-level (SentencePiece-family) BPE models: the text between added
/// tokens is normalised (`Prepend`, `Replace`, NFC…), pre-tokenised by `Metaspace` (spaces
/// become "▁", a "▁" is prepended according to the scheme, optional split before each "▁"),
/// and each piece is merged by `BPEModel.mergeCharacters`.
extension Tokenizer {
    func encodeCharacterLevel(_ bytes: UnsafeBufferPointer<UInt8>, base: Int, _ ids: inout [Int],
                              _ offsets: UnsafeMutablePointer<[Range<Int>]>?) {
        var text = TrackedBytes(bytes, tracking: offsets != nil)
        for step in normalizer.steps { text.apply(step) }
        var splitOn: [UInt8]? = nil
        if let m = metaspace {
            let rep = Array(m.replacement.utf8)
            text.replace([0x20], with: rep)
            let prepend: Bool
            switch m.prependScheme {
            case .always: prepend = true
            case .first: prepend = base == 0
            case .never: prepend = false
            }
            if prepend && !text.bytes.starts(with: rep) { text.prepend(rep) }
            if m.split { splitOn = rep }
        }
        let model = self.model
        text.bytes.withUnsafeBufferPointer { all in
            func emit(_ a: Int, _ b: Int) {
                guard b > a else { return }
                let tokens = model.tokenize(UnsafeBufferPointer(rebasing: all[a ..< b]))
                if let offsets {
                    var previous = a
                    for t in tokens {
                        let end = a + Int(t & 0xFFFF_FFFF)
                        ids.append(Int(t >> 32))
                        // Every token covers at least one byte (a dropped scalar widens the one before it).
                        let lo = Int(text.starts[previous]), hi = max(lo, Int(text.ends[end - 1]))
                        offsets.pointee.append(base + lo ..< base + hi)
                        previous = end
                    }
                } else {
                    for t in tokens { ids.append(Int(t >> 32)) }
                }
            }
            guard let rep = splitOn, let first = rep.first else {
                emit(0, all.count)
                return
            }
            var start = 0
            var i = 1
            let m = rep.count
            while i + m <= all.count {
                if all[i] == first && (m == 1 || all[i ..< i + m].elementsEqual(rep)) {
                    emit(start, i)
                    start = i
                    i += m
                } else {
                    i += 1
                }
            }
            emit(start, all.count)
        }
    }
}

/// Normalised bytes that remember, when asked to, the span of the original text each
/// byte came from (`starts[i] ..< ends[i]`, relative to the segment).
struct TrackedBytes {
    var bytes: [UInt8]
    var starts: [Int32] = []
    var ends: [Int32] = []
    let tracking: Bool
    let originalCount: Int

    init(_ source: UnsafeBufferPointer<UInt8>, tracking: Bool) {
        bytes = Array(source)
        self.tracking = tracking
        originalCount = source.count
        if tracking {
            starts = (0 ..< Int32(source.count)).map { $0 }
            ends = (1 ... Int32(max(source.count, 1))).map { $0 }
            if source.isEmpty { ends = [] }
        }
    }

    mutating func apply(_ step: NormalizerStep) {
        switch step {
        case .prepend(let p):
            if !bytes.isEmpty { prepend(Array(p.utf8)) }
        case .replace(let pattern, let content):
            replace(Array(pattern.utf8), with: Array(content.utf8))
        case .nfc, .nfd, .nfkc, .nfkd:
            let before = String(decoding: bytes, as: UTF8.self)
            let after = Array(step.apply(before).utf8)
            guard after != bytes else { return }
            bytes = after
            if tracking {
                // Spans cannot be followed through Unicode normalisation: every byte gets the whole segment.
                starts = Array(repeating: 0, count: after.count)
                ends = Array(repeating: Int32(originalCount), count: after.count)
            }
        }
    }

    mutating func prepend(_ p: [UInt8]) {
        bytes.insert(contentsOf: p, at: 0)
        if tracking {
            starts.insert(contentsOf: Array(repeating: 0, count: p.count), at: 0)
            ends.insert(contentsOf: Array(repeating: 0, count: p.count), at: 0)
        }
    }

    mutating func replace(_ pattern: [UInt8], with content: [UInt8]) {
        guard tracking else {
            bytes = ByteReplace.replacing(bytes, pattern, content)
            return
        }
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return }
        var out: [UInt8] = [], s: [Int32] = [], e: [Int32] = []
        var i = 0
        let m = pattern.count
        while i < bytes.count {
            if i + m <= bytes.count && bytes[i ..< i + m].elementsEqual(pattern) {
                out.append(contentsOf: content)
                s.append(contentsOf: Array(repeating: starts[i], count: content.count))
                e.append(contentsOf: Array(repeating: ends[i + m - 1], count: content.count))
                i += m
            } else {
                out.append(bytes[i]); s.append(starts[i]); e.append(ends[i])
                i += 1
            }
        }
        bytes = out; starts = s; ends = e
    }
}

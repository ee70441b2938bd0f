/// The `<0xXX>` byte tokens of SentencePiece vocabularies (`byte_fallback`).
enum SentencePieceBytes {
    private static let hex = Array("0123456789ABCDEF".utf8)

    /// `"<0x0A>"` for byte 10: the spelling Hugging Face `tokenizers` looks up.
    static func tokenForByte(_ b: UInt8) -> String {
        String(decoding: [0x3C, 0x30, 0x78, hex[Int(b >> 4)], hex[Int(b & 15)], 0x3E], as: UTF8.self)
    }

    /// The byte a token stands for when it is spelled `<0xXX>` (hex digits of either case),
    /// as the `ByteFallback` decoder reads it; nil for every other token.
    static func byteOfToken<C: Collection>(_ utf8: C) -> UInt8? where C.Element == UInt8 {
        guard utf8.count == 6 else { return nil }
        let b = Array(utf8)
        guard b[0] == 0x3C, b[1] == 0x30, b[2] == 0x78, b[5] == 0x3E,
              let hi = hexValue(b[3]), let lo = hexValue(b[4]) else { return nil }
        return hi << 4 | lo
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30 ... 0x39: return c - 0x30
        case 0x41 ... 0x46: return c - 0x41 + 10
        case 0x61 ... 0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}

extension BPEModel {
    /// The id of the single-scalar token `v`, or -1.
    @inline(__always)
    func scalarID(_ v: UInt32) -> Int32 {
        v < 0x10000 ? bmpScalarToID[Int(v)] : astralScalarToID[v] ?? -1
    }

    /// The character-level merge of one piece (valid UTF-8), exactly as Hugging Face
    /// `tokenizers`' BPE model does it (`merge_word` then `Word::merge_all`):
    ///
    /// 1. every scalar is a symbol when it is in the vocabulary; otherwise, with
    ///    `byte_fallback`, its UTF-8 bytes become `<0xXX>` symbols (when all of them
    ///    exist), otherwise the unknown token (consecutive ones fused with `fuse_unk`),
    ///    otherwise it is dropped;
    /// 2. a min-heap of (rank, position) repeatedly applies the best-ranked merge,
    ///    leftmost first, skipping entries that went stale, in O(n log n).
    ///
    /// Each result packs `id << 32 | end` (`end`: the token's end offset in `bytes`).
    func mergeCharacters(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt64] {
        let n = bytes.count
        if let whole = unmergedPiece(bytes) { return whole }
        var ids: [Int32] = []
        var ends: [UInt32] = []
        ids.reserveCapacity(n)
        ends.reserveCapacity(n)
        var pendingUnkEnd: UInt32 = 0
        var hasPendingUnk = false
        var i = 0
        while i < n {
            let v: UInt32
            let len: Int
            if i + utf8SequenceLength(bytes[i]) > n {
                v = 0xFFFD; len = n - i   // a cut scalar (never produced by the pipeline): unknown
            } else {
                (v, len) = decodeUTF8Scalar(bytes, at: i)
            }
            let end = UInt32(i + len)
            let id = scalarID(v)
            if id >= 0 {
                if hasPendingUnk {
                    ids.append(unkID); ends.append(pendingUnkEnd)
                    hasPendingUnk = false
                }
                ids.append(id); ends.append(end)
            } else {
                var fellBack = false
                if byteFallback {
                    var all = true
                    for k in 0 ..< len where byteToID[Int(bytes[i + k])] < 0 { all = false; break }
                    if all {
                        for k in 0 ..< len {
                            ids.append(byteToID[Int(bytes[i + k])]); ends.append(UInt32(i + k + 1))
                        }
                        fellBack = true
                    }
                }
                if !fellBack {
                    if unkID >= 0 {
                        if hasPendingUnk && !fuseUnk {
                            ids.append(unkID); ends.append(pendingUnkEnd)
                        }
                        hasPendingUnk = true
                        pendingUnkEnd = end
                    } else if !ends.isEmpty {
                        // Dropped scalar (no unknown token): attribute it to the previous token's span.
                        ends[ends.count - 1] = end
                    }
                }
            }
            i += len
        }
        if hasPendingUnk { ids.append(unkID); ends.append(pendingUnkEnd) }
        let count = ids.count
        if count >= 2 { mergeAll(&ids, &ends) }
        var out = [UInt64]()
        out.reserveCapacity(count)
        for k in 0 ..< ids.count where ids[k] >= 0 {
            out.append(UInt64(UInt32(ids[k])) << 32 | UInt64(ends[k]))
        }
        return out
    }

    /// `Word::merge_all` over a doubly linked list of symbols; merged-away symbols
    /// are marked with id -1.
    private func mergeAll(_ ids: inout [Int32], _ ends: inout [UInt32]) {
        let count = ids.count
        var prev = [Int32](repeating: -1, count: count)
        var next = [Int32](repeating: -1, count: count)
        for k in 0 ..< count {
            prev[k] = Int32(k - 1)
            next[k] = k + 1 < count ? Int32(k + 1) : -1
        }
        var heap = RankedMergeHeap()
        heap.reserve(count)
        for k in 0 ..< count - 1 {
            if let r = rankAndMerged(ids[k], ids[k + 1]) {
                heap.push(key: (r >> 32) << 32 | UInt64(k), newID: Int32(truncatingIfNeeded: r & 0xFFFF_FFFF))
            }
        }
        while let (key, newID) = heap.pop() {
            let pos = Int(key & 0xFFFF_FFFF)
            guard ids[pos] >= 0 else { continue }
            let nx = next[pos]
            guard nx >= 0 else { continue }
            let right = Int(nx)
            // A stale entry: the pair at `pos` is no longer the one that merges to `newID`.
            guard let r = rankAndMerged(ids[pos], ids[right]), Int32(truncatingIfNeeded: r & 0xFFFF_FFFF) == newID else { continue }
            ids[pos] = newID
            ends[pos] = ends[right]
            ids[right] = -1
            let after = next[right]
            next[pos] = after
            if after >= 0 { prev[Int(after)] = Int32(pos) }
            let before = prev[pos]
            if before >= 0, let r = rankAndMerged(ids[Int(before)], newID) {
                heap.push(key: (r >> 32) << 32 | UInt64(before), newID: Int32(truncatingIfNeeded: r & 0xFFFF_FFFF))
            }
            if after >= 0, let r = rankAndMerged(newID, ids[Int(after)]) {
                heap.push(key: (r >> 32) << 32 | UInt64(pos), newID: Int32(truncatingIfNeeded: r & 0xFFFF_FFFF))
            }
        }
    }
}

/// A binary min-heap of merge candidates ordered by `key` (`rank << 32 | position`).
struct RankedMergeHeap {
    private var keys: [UInt64] = []
    private var newIDs: [Int32] = []

    mutating func reserve(_ n: Int) {
        keys.reserveCapacity(n)
        newIDs.reserveCapacity(n)
    }

    mutating func push(key: UInt64, newID: Int32) {
        keys.append(key)
        newIDs.append(newID)
        var c = keys.count - 1
        while c > 0 {
            let p = (c - 1) / 2
            guard keys[c] < keys[p] else { break }
            keys.swapAt(c, p)
            newIDs.swapAt(c, p)
            c = p
        }
    }

    mutating func pop() -> (UInt64, Int32)? {
        guard let top = keys.first else { return nil }
        let topID = newIDs[0]
        let lastKey = keys.removeLast()
        let lastID = newIDs.removeLast()
        if !keys.isEmpty {
            keys[0] = lastKey
            newIDs[0] = lastID
            var p = 0
            let n = keys.count
            while true {
                let l = 2 * p + 1
                guard l < n else { break }
                var c = l
                if l + 1 < n && keys[l + 1] < keys[l] { c = l + 1 }
                guard keys[c] < keys[p] else { break }
                keys.swapAt(c, p)
                newIDs.swapAt(c, p)
                p = c
            }
        }
        return (top, topID)
    }
}

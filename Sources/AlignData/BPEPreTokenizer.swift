/// The pre-tokenisers a byte-level BPE tokenizer can chain, named after their
/// Hugging Face `tokenizers` counterparts. Each step splits every piece produced
/// by the previous step further.
enum PreTokenizerStep: Sendable, Equatable {
    /// `ByteLevel`: optionally prepends a space to a piece that does not start with
    /// one, then (with `useRegex`) splits it with the GPT-2 pattern. The byte-level
    /// character mapping itself happens in the BPE model.
    case byteLevel(addPrefixSpace: Bool, trimOffsets: Bool, useRegex: Bool)
    /// `Split` with a regex pattern, behaviour `Isolated`, `invert` false.
    /// `source` is the pattern text exactly as it appeared in tokenizer.json.
    case split(pattern: BPESplitPattern, source: String)
    /// `Digits`: isolates numeric characters, each on its own (`individual`) or as runs.
    case digits(individual: Bool)
}

/// A pre-tokenised piece: scalars `start ..< end` of the text, optionally
/// preceded by a virtual space added by `ByteLevel(add_prefix_space: true)`.
struct PreTokenPiece: Equatable {
    var start: Int32
    var end: Int32
    var prefixSpace: Bool
}

/// Named pre-tokeniser configurations, for training and for GGUF files.
public enum BPEPreTokenizerPreset: String, Sendable, CaseIterable {
    /// GPT-2: `ByteLevel` with its built-in GPT-2 regex.
    case gpt2
    /// SmolLM / SmolLM2 / StarCoder: `Sequence[Digits(individual), ByteLevel(GPT-2 regex)]`.
    case smollm
    /// LLaMA-3: `Sequence[Split(LLaMA-3 regex), ByteLevel(use_regex: false)]`.
    case llama3
    /// Qwen2: `Sequence[Split(Qwen2 regex), ByteLevel(use_regex: false)]`.
    case qwen2

    /// The tokenizer.json pre-tokeniser for the preset.
    var pipeline: PreTokenizerPipeline {
        switch self {
        case .gpt2:
            return PreTokenizerPipeline(steps: [.byteLevel(addPrefixSpace: false, trimOffsets: true, useRegex: true)], isSequence: false)
        case .smollm:
            return PreTokenizerPipeline(steps: [.digits(individual: true),
                                                .byteLevel(addPrefixSpace: false, trimOffsets: true, useRegex: true)], isSequence: true)
        case .llama3:
            return PreTokenizerPipeline(steps: [.split(pattern: .llama3, source: BPESplitPattern.llama3.source),
                                                .byteLevel(addPrefixSpace: false, trimOffsets: true, useRegex: false)], isSequence: true)
        case .qwen2:
            return PreTokenizerPipeline(steps: [.split(pattern: .qwen2, source: BPESplitPattern.qwen2.source),
                                                .byteLevel(addPrefixSpace: false, trimOffsets: false, useRegex: false)], isSequence: true)
        }
    }

    /// The preset llama.cpp uses for a GGUF `tokenizer.ggml.pre` name, or nil when
    /// that pre-tokeniser is not one this library implements.
    public init?(ggufName: String) {
        switch ggufName {
        case "gpt-2", "gpt2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de",
             "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion", "exaone4":
            self = .gpt2
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b":
            self = .smollm
        case "llama3", "llama-v3", "llama-bpe", "falcon3":
            self = .llama3
        case "qwen2", "stablelm2", "megrez", "deepseek-r1-qwen":
            self = .qwen2
        default:
            return nil
        }
    }
}

/// An ordered chain of pre-tokeniser steps (a tokenizer.json `Sequence`, or one step).
struct PreTokenizerPipeline: Sendable, Equatable {
    var steps: [PreTokenizerStep]
    /// Whether tokenizer.json wrapped the steps in a `Sequence` (kept for saving).
    var isSequence: Bool

    /// Splits scalars `0 ..< count` into pieces. `s` holds the scalar values and
    /// `c` their `ScalarClass` bits.
    func run(_ s: UnsafePointer<UInt32>, _ c: UnsafePointer<UInt8>, count: Int, into pieces: inout [PreTokenPiece]) {
        pieces.removeAll(keepingCapacity: true)
        guard count > 0 else { return }
        pieces.append(PreTokenPiece(start: 0, end: Int32(count), prefixSpace: false))
        var next: [PreTokenPiece] = []
        var ends: [Int32] = []
        for step in steps {
            next.removeAll(keepingCapacity: true)
            next.reserveCapacity(pieces.count * 2)
            for piece in pieces {
                apply(step, to: piece, s, c, &next, &ends)
            }
            swap(&pieces, &next)
        }
    }

    private func apply(_ step: PreTokenizerStep, to piece: PreTokenPiece,
                       _ s: UnsafePointer<UInt32>, _ c: UnsafePointer<UInt8>,
                       _ out: inout [PreTokenPiece], _ ends: inout [Int32]) {
        let start = Int(piece.start), end = Int(piece.end)
        switch step {
        case .digits(let individual):
            // A virtual prefix space (only from an earlier ByteLevel) stays with the first piece.
            var i = start
            var prefix = piece.prefixSpace
            while i < end {
                var j = i + 1
                if c[i] & ScalarClass.numeric != 0 {
                    if !individual { while j < end && c[j] & ScalarClass.numeric != 0 { j += 1 } }
                } else {
                    while j < end && c[j] & ScalarClass.numeric == 0 { j += 1 }
                }
                out.append(PreTokenPiece(start: Int32(i), end: Int32(j), prefixSpace: prefix))
                prefix = false
                i = j
            }
            if start == end && prefix { out.append(piece) }

        case .split(let pattern, _):
            splitAppending(pattern, piece, s, c, &out, &ends)

        case .byteLevel(let addPrefixSpace, _, let useRegex):
            let needsPrefix = addPrefixSpace && !piece.prefixSpace && (start == end || s[start] != 0x20)
            if !needsPrefix {
                if useRegex { splitAppending(.gpt2, piece, s, c, &out, &ends) } else { out.append(piece) }
                return
            }
            guard useRegex else {
                out.append(PreTokenPiece(start: piece.start, end: piece.end, prefixSpace: true))
                return
            }
            // Rare path: split " " + piece with the GPT-2 pattern on a temporary copy.
            let n = end - start + 1
            var ts = [UInt32](repeating: 0x20, count: n)
            var tc = [UInt8](repeating: ScalarClass.of(0x20), count: n)
            for k in 0 ..< n - 1 {
                ts[k + 1] = s[start + k]
                tc[k + 1] = c[start + k]
            }
            ends.removeAll(keepingCapacity: true)
            ts.withUnsafeBufferPointer { sb in
                tc.withUnsafeBufferPointer { cb in
                    BPESplitPattern.gpt2.split(sb.baseAddress!, cb.baseAddress!, 0, n, into: &ends)
                }
            }
            var a = 0
            for e in ends {
                let b = Int(e)
                out.append(PreTokenPiece(start: Int32(start + max(a - 1, 0)), end: Int32(start + b - 1), prefixSpace: a == 0))
                a = b
            }
        }
    }

    private func splitAppending(_ pattern: BPESplitPattern, _ piece: PreTokenPiece,
                                _ s: UnsafePointer<UInt32>, _ c: UnsafePointer<UInt8>,
                                _ out: inout [PreTokenPiece], _ ends: inout [Int32]) {
        let start = Int(piece.start), end = Int(piece.end)
        if piece.prefixSpace {
            // A piece already carrying a virtual space (ByteLevel before Split): keep it
            // with the first sub-piece.
            if start == end { out.append(piece); return }
        }
        ends.removeAll(keepingCapacity: true)
        pattern.split(s, c, start, end, into: &ends)
        var a = Int32(start)
        var prefix = piece.prefixSpace
        for e in ends {
            out.append(PreTokenPiece(start: a, end: e, prefixSpace: prefix))
            prefix = false
            a = e
        }
    }

    /// Whether the pipeline contains a `ByteLevel` step (required: the model is byte-level).
    var hasByteLevel: Bool {
        steps.contains { if case .byteLevel = $0 { return true } else { return false } }
    }
}

/// Reusable buffers for pre-tokenising one text.
struct PreTokenizerScratch {
    var scalars: [UInt32] = []
    var classes: [UInt8] = []
    var byteOffsets: [Int32] = []
    var pieces: [PreTokenPiece] = []
    var prefixed: [UInt8] = []
}

extension PreTokenizerPipeline {
    /// Pre-tokenises valid UTF-8 `bytes` and calls `body` with each piece's bytes
    /// (a virtual prefix space included), the piece's start offset in `bytes`,
    /// and whether it carries a virtual prefix space.
    @inline(__always)
    func forEachPiece(_ bytes: UnsafeBufferPointer<UInt8>, _ scratch: inout PreTokenizerScratch,
                      _ body: (UnsafeBufferPointer<UInt8>, Int, Bool) -> Void) {
        let n = bytes.count
        scratch.scalars.removeAll(keepingCapacity: true)
        scratch.classes.removeAll(keepingCapacity: true)
        scratch.byteOffsets.removeAll(keepingCapacity: true)
        scratch.scalars.reserveCapacity(n)
        scratch.classes.reserveCapacity(n)
        scratch.byteOffsets.reserveCapacity(n + 1)
        ScalarClass.table.withUnsafeBufferPointer { table in
            var i = 0
            while i < n {
                let (v, len) = decodeUTF8Scalar(bytes, at: i)
                scratch.scalars.append(v)
                scratch.classes.append(table[Int(v)])
                scratch.byteOffsets.append(Int32(i))
                i += len
            }
        }
        scratch.byteOffsets.append(Int32(n))
        let count = scratch.scalars.count
        scratch.scalars.withUnsafeBufferPointer { s in
            scratch.classes.withUnsafeBufferPointer { c in
                run(s.baseAddress!, c.baseAddress!, count: count, into: &scratch.pieces)
            }
        }
        let pieces = scratch.pieces
        let off = scratch.byteOffsets
        for piece in pieces {
            let a = Int(off[Int(piece.start)]), b = Int(off[Int(piece.end)])
            if piece.prefixSpace {
                scratch.prefixed.removeAll(keepingCapacity: true)
                scratch.prefixed.append(0x20)
                scratch.prefixed.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[a ..< b]))
                scratch.prefixed.withUnsafeBufferPointer { body($0, a, true) }
            } else {
                body(UnsafeBufferPointer(rebasing: bytes[a ..< b]), a, false)
            }
        }
    }
}

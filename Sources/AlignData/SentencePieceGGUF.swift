import Foundation

/// Loading a SentencePiece vocabulary from GGUF metadata (`tokenizer.ggml.model = "llama"`:
/// Llama 2, Mistral, TinyLlama), the way transformers' GGUF loader builds its tokenizer:
///
/// - every `tokenizer.ggml.tokens` entry is a vocabulary entry (id = index), spelled with "▁"
///   and `<0xXX>` byte tokens;
/// - the merges are `tokenizer.ggml.merges` when present, otherwise recovered from the
///   vocabulary and `tokenizer.ggml.scores`: every split of a token into two vocabulary
///   entries is a merge, ranked by the token's score (highest first), then by the lengths of
///   the left and right parts (longest first), then by token id — llama.cpp's SentencePiece
///   tokenizer likewise merges the adjacent pair whose concatenation scores highest;
/// - character-level BPE with byte fallback, `Metaspace` ("▁", prepended to the text's first
///   segment unless `tokenizer.ggml.add_space_prefix` is false), the Llama decoder chain;
/// - token types 2 (unknown) and 3 (control) are special added tokens, 4 (user-defined)
///   plain added tokens; BOS is added unless `add_bos_token` is false.
extension Tokenizer {
    init(sentencePieceGGUF file: GGUFFile, meta: GGUFTokenizerMetadata) throws {
        let tokens = meta.tokens
        var merges: [(String, String)] = []
        if !meta.merges.isEmpty {
            merges = try meta.mergePairs(file: file.path)
        } else {
            guard !meta.scores.isEmpty else {
                throw AlignDataError(.malformed, path: file.path,
                    "metadata 'tokenizer.ggml.scores' is missing; a SentencePiece (\"llama\") vocabulary without merges needs its scores to rank the merges")
            }
            guard meta.scores.count == tokens.count else {
                throw AlignDataError(.malformed, path: file.path,
                    "metadata 'tokenizer.ggml.scores' has \(meta.scores.count) entries for \(tokens.count) tokens")
            }
            merges = Tokenizer.mergesFromScores(tokens: tokens, scores: meta.scores)
        }
        let model = try BPEModel(tokens: tokens.map { Optional($0) }, merges: merges, unkToken: nil, fuseUnk: true,
                                 ignoreMerges: false, file: file.path,
                                 vocabPath: "metadata 'tokenizer.ggml.tokens'", mergesPath: "metadata 'tokenizer.ggml.merges'",
                                 allowDuplicates: true, characterLevel: true, byteFallback: true)
        var added: [AddedToken] = []
        for (id, type) in meta.tokenTypes.enumerated() {
            switch type {
            case 2, 3: added.append(AddedToken(id: id, content: tokens[id], special: true, normalized: false))
            case 4: added.append(AddedToken(id: id, content: tokens[id], special: false, normalized: false))
            default: break
            }
        }
        let addSpacePrefix = try file.bool("tokenizer.ggml.add_space_prefix") ?? true
        var metaspace = Metaspace.llama
        if !addSpacePrefix { metaspace.prependScheme = .never }
        let addBOS = meta.addBOS ?? true
        let addEOS = meta.addEOS ?? false
        let post = BPEPostProcessor.bosEOS(
            bos: addBOS ? meta.bosTokenID.map { (tokens[$0], $0) } : nil,
            eos: addEOS ? meta.eosTokenID.map { (tokens[$0], $0) } : nil)
        self.init(model: model, addedTokens: added, normalizer: .none, preTokenizer: PreTokenizerPipeline(steps: [], isSequence: false),
                  metaspace: metaspace, postProcessor: post, decoder: .llama(stripPrefixSpace: addSpacePrefix), source: file.path)
        try applyGGUFSettings(meta, file: file)
    }

    /// The merges a SentencePiece vocabulary implies (transformers' `generate_merges` with
    /// scores): for each token in id order, every split into two vocabulary entries (by
    /// scalar position), ordered by the ids of the parts; then a stable sort by
    /// (score, left length, right length), highest first.
    static func mergesFromScores(tokens: [String], scores: [Float]) -> [(String, String)] {
        var vocab = [String: Int](minimumCapacity: tokens.count)
        var scoreOf = [String: Float](minimumCapacity: tokens.count)
        var order: [String] = []
        for (id, t) in tokens.enumerated() {
            vocab[t] = id            // like a Python dict: a repeated token keeps its last id …
            if scoreOf[t] == nil { order.append(t) }   // … and its first position
            scoreOf[t] = scores[id]
        }
        struct Candidate { var left: String; var right: String; var score: Float; var leftLength: Int; var rightLength: Int; var seq: Int }
        var all: [Candidate] = []
        for t in order {
            let scalars = Array(t.unicodeScalars)
            guard scalars.count >= 2 else { continue }
            var local: [(String, String, Int, Int, Int)] = []
            for cut in 1 ..< scalars.count {
                var l = String.UnicodeScalarView(), r = String.UnicodeScalarView()
                l.append(contentsOf: scalars[..<cut]); r.append(contentsOf: scalars[cut...])
                let ls = String(l), rs = String(r)
                if let li = vocab[ls], let ri = vocab[rs] { local.append((ls, rs, li, ri, cut)) }
            }
            local.sort { ($0.2, $0.3) < ($1.2, $1.3) }
            for (ls, rs, _, _, cut) in local {
                all.append(Candidate(left: ls, right: rs, score: scoreOf[t]!, leftLength: cut,
                                     rightLength: scalars.count - cut, seq: all.count))
            }
        }
        all.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.leftLength != b.leftLength { return a.leftLength > b.leftLength }
            if a.rightLength != b.rightLength { return a.rightLength > b.rightLength }
            return a.seq < b.seq
        }
        return all.map { ($0.left, $0.right) }
    }
}

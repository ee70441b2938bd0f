import Foundation

extension Tokenizer {
    /// Trains a SentencePiece-style BPE tokenizer in the layout transformers gives Llama 2 /
    /// Mistral / TinyLlama: ids 0–2 for `<unk>`, `<s>`, `</s>`, then the 256 byte-fallback tokens
    /// `<0x00>`…`<0xFF>`, then the corpus's characters (most frequent first), then one token per
    /// merge; a `Metaspace` pre-tokenizer ("▁" for spaces, prepended to the text, no split),
    /// `byte_fallback`, and the Replace/ByteFallback/Fuse/Strip decoder.
    ///
    /// Words are the runs of the normalised text that start at a "▁"; characters seen fewer than
    /// `minCharacterFrequency` times are left out of the vocabulary (they are spelled with byte
    /// tokens) and split the words they occur in. Merges are learned as `learnMerges` does
    /// (BpeTrainer's order: highest count, ties to the smallest pair of ids), until `vocabSize`
    /// tokens or no pair reaches `minFrequency`. The result is built from its tokenizer.json, so
    /// it is exactly what loading the saved file gives.
    public static func trainSentencePiece<S: Sequence>(on corpus: S, vocabSize: Int, minFrequency: Int = 2,
                                                       minCharacterFrequency: Int = 1) throws -> Tokenizer where S.Element == String {
        let fixed = 3 + 256
        guard vocabSize > fixed else {
            throw AlignDataError(.invalidArgument, path: "", "a SentencePiece-style vocabulary needs more than \(fixed) tokens (3 special, 256 bytes), got \(vocabSize)")
        }
        // 1. Words: "▁" + text with spaces as "▁", cut before every "▁".
        var wordCounts: [String: Int] = [:]
        for text in corpus where !text.isEmpty {
            var word = String.UnicodeScalarView()
            for s in ("▁" + text.replacingOccurrences(of: " ", with: "▁")).unicodeScalars {
                if s == "▁" && !word.isEmpty { wordCounts[String(word), default: 0] += 1; word = String.UnicodeScalarView() }
                word.append(s)
            }
            if !word.isEmpty { wordCounts[String(word), default: 0] += 1 }
        }
        // 2. The alphabet: characters by count (ties: by code point), rare ones left to bytes.
        var scalarCounts: [UInt32: Int] = [:]
        for (w, c) in wordCounts { for s in w.unicodeScalars { scalarCounts[s.value, default: 0] += c } }
        let alphabet = scalarCounts.filter { $0.value >= max(minCharacterFrequency, 1) }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(vocabSize - fixed)
        var tokens = ["<unk>", "<s>", "</s>"] + (0 ..< 256).map { String(format: "<0x%02X>", $0) }
        // special and byte tokens get bytes no merge of valid UTF-8 can produce
        var tokenBytes: [[UInt8]] = tokens.indices.map { [0xFF, UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        var idByBytes: [[UInt8]: Int32] = [:]
        var charID: [UInt32: Int32] = [:]
        for (value, _) in alphabet {
            let s = String(Unicode.Scalar(value)!)
            charID[value] = Int32(tokens.count)
            idByBytes[Array(s.utf8)] = Int32(tokens.count)
            tokens.append(s)
            tokenBytes.append(Array(s.utf8))
        }
        // 3. Words as symbol sequences (a character outside the alphabet splits its word), in
        // byte order; 4. merges.
        var words: [[Int32]] = [], counts: [Int] = []
        for (w, c) in wordCounts.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }) {
            var run: [Int32] = []
            for s in w.unicodeScalars {
                if let id = charID[s.value] { run.append(id); continue }
                if !run.isEmpty { words.append(run); counts.append(c); run = [] }
            }
            if !run.isEmpty { words.append(run); counts.append(c) }
        }
        let merges = learnMerges(words: words, counts: counts, tokens: &tokens, tokenBytes: &tokenBytes, idByBytes: &idByBytes,
                                 vocabSize: vocabSize, minFrequency: max(minFrequency, 1))
        // 5. The tokenizer.json transformers writes for such a model.
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { vocab[t] = i }
        let special: [[String: Any]] = (0 ..< 3).map {
            ["id": $0, "content": tokens[$0], "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true]
        }
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": special, "normalizer": NSNull(),
            "pre_tokenizer": ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false],
            "post_processor": ["type": "TemplateProcessing",
                               "single": [["SpecialToken": ["id": "<s>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                               "pair": [["SpecialToken": ["id": "<s>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]],
                                        ["SpecialToken": ["id": "<s>", "type_id": 1]], ["Sequence": ["id": "B", "type_id": 1]]],
                               "special_tokens": ["<s>": ["id": "<s>", "ids": [1], "tokens": ["<s>"]]]],
            "decoder": ["type": "Sequence", "decoders": [
                ["type": "Replace", "pattern": ["String": "▁"], "content": " "], ["type": "ByteFallback"], ["type": "Fuse"],
                ["type": "Strip", "content": " ", "start": 1, "stop": 0]]],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": "<unk>", "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
                      "vocab": vocab, "merges": merges.map { [tokens[Int($0.0)], tokens[Int($0.1)]] }],
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        var tokenizer = try Tokenizer(tokenizerJSONData: data, file: "trained")
        tokenizer.bosToken = "<s>"
        tokenizer.eosToken = "</s>"
        tokenizer.unkToken = "<unk>"
        return tokenizer
    }
}

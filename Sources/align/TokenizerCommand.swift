import AlignData
import AlignTraining
import ArgumentParser
import Foundation

/// `align tokenizer train|extend|bench`: byte-level BPE tokenizers (seed 003); `extend` and
/// `bench` also take SentencePiece-style ones.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train a byte-level BPE tokenizer, add tokens to an existing one, or time encoding.",
        subcommands: [Train.self, Extend.self, Bench.self])

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a byte-level or SentencePiece-style BPE tokenizer on text files and write tokenizer.json and tokenizer_config.json.",
            discussion: """
            --kind byte-level (default): GPT-2-style byte-level BPE with the given --special tokens. \
            --kind sentencepiece: the Llama 2 / Mistral layout (<unk>, <s>, </s>, 256 byte-fallback tokens, the \
            characters, the merges; Metaspace, byte fallback); its special tokens are fixed, so --special, \
            --pre-tokenizer and the token options are refused with it.
            """)

        enum Kind: String, ExpressibleByArgument, CaseIterable { case byteLevel = "byte-level", sentencepiece }
        @Option(help: "byte-level or sentencepiece.") var kind: Kind = .byteLevel

        @Option(name: .customLong("input"), help: "A UTF-8 text file to train on (repeat for several); each line is one text.")
        var inputs: [String]
        @Option(help: "Directory to write (created).") var output: String
        @Option(parsing: .unconditional, help: "Target vocabulary size, including the 256 byte tokens and the special tokens.") var vocabSize: Int
        @Option(name: .customLong("special"), help: "A special token (repeat; ids are given in this order from 0).")
        var specials: [String] = []
        @Option(parsing: .unconditional, help: "Pairs seen fewer times are never merged.") var minFrequency = 2
        @Option(help: "Pre-tokenisation: \(BPEPreTokenizerPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
        var preTokenizer: String = BPEPreTokenizerPreset.gpt2.rawValue
        @Option(help: "End-of-sequence token (default: the first --special).") var eosToken: String?
        @Option(help: "Beginning-of-sequence token (default: none).") var bosToken: String?
        @Option(help: "Padding token (default: the EOS token).") var padToken: String?
        @Option(help: "Chat template to record in tokenizer_config.json: \(ChatTemplate.Family.allCases.map(\.rawValue).joined(separator: ", ")).")
        var chatTemplate: String?

        func validate() throws {
            guard !inputs.isEmpty else { throw ValidationError("give at least one --input file") }
            for f in inputs where !FileManager.default.fileExists(atPath: f) {
                throw ValidationError("--input \(f): no such file")
            }
            if kind == .sentencepiece {
                let given = [("--special", !specials.isEmpty), ("--pre-tokenizer", preTokenizer != BPEPreTokenizerPreset.gpt2.rawValue),
                             ("--eos-token", eosToken != nil), ("--bos-token", bosToken != nil), ("--pad-token", padToken != nil)]
                if let flag = given.first(where: \.1)?.0 {
                    throw ValidationError("\(flag) does not apply to --kind sentencepiece (its special tokens are <unk>, <s>, </s>)")
                }
                guard vocabSize > 259 else { throw ValidationError("--vocab-size \(vocabSize) must exceed 3 special + 256 byte tokens") }
            }
            guard vocabSize >= 256 + specials.count + 1 else {
                throw ValidationError("--vocab-size \(vocabSize) must exceed 256 byte tokens + \(specials.count) special tokens")
            }
            guard minFrequency >= 1 else { throw ValidationError("--min-frequency must be ≥ 1") }
            guard BPEPreTokenizerPreset(rawValue: preTokenizer) != nil else {
                throw ValidationError("--pre-tokenizer \(preTokenizer): expected one of \(BPEPreTokenizerPreset.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            for (flag, token) in [("--eos-token", eosToken), ("--bos-token", bosToken), ("--pad-token", padToken)] {
                if let token, !specials.contains(token) { throw ValidationError("\(flag) \(token) must also be given as --special") }
            }
            if let chatTemplate, ChatTemplate.Family(rawValue: chatTemplate) == nil {
                throw ValidationError("--chat-template \(chatTemplate): expected one of \(ChatTemplate.Family.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            try OutputPaths.check(inputs: inputs.map { (option: "--input", path: Optional($0)) }, outputs: [.directory("--output", output, writes: OutputPaths.tokenizerFiles)])
            if let model = ModelStore.modelFileIn(output) {
                throw ValidationError("--output \(output) holds a model (\(model)); training a tokenizer into it would replace the model's tokenizer; choose another directory")
            }
        }

        func run() throws {
            var lines: [String] = []
            for f in inputs {
                let text = try FileErrors.readText(f)
                lines += text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            }
            guard !lines.isEmpty else { throw ValidationError("the --input files hold no text") }
            var tokenizer: Tokenizer
            if kind == .sentencepiece {
                tokenizer = try Tokenizer.trainSentencePiece(on: lines, vocabSize: vocabSize, minFrequency: minFrequency)
            } else {
                let options = BPETrainingOptions(vocabSize: vocabSize, specialTokens: specials, minFrequency: minFrequency,
                                                 preTokenizer: BPEPreTokenizerPreset(rawValue: preTokenizer)!)
                tokenizer = try Tokenizer.train(on: lines, options: options)
                tokenizer.eosToken = eosToken ?? specials.first
                tokenizer.bosToken = bosToken
                tokenizer.padToken = padToken ?? tokenizer.eosToken
            }
            if let chatTemplate { tokenizer.chatTemplate = ChatTemplate(ChatTemplate.Family(rawValue: chatTemplate)!).jinja }
            try tokenizer.save(to: URL(fileURLWithPath: output))
            print("wrote \(output)/tokenizer.json: \(tokenizer.vocabSize) tokens from \(lines.count) lines")
        }
    }

    struct Extend: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add tokens to a model's tokenizer; with --model, also resize the model's embeddings and save both to --output.",
            discussion: """
            Tokens come from --add, from --add-file (one token per line) and, with --mine-characters N \
            --corpus FILE, from the N most frequent characters of FILE that the tokenizer spells with \
            byte tokens (e.g. Chinese characters a Llama vocabulary lacks). With --held-out FILE, the share \
            of FILE's tokens that are byte tokens is reported before and after.
            """)

        @Option(help: "Tokenizer to extend: a model directory, a tokenizer.json or a .gguf file.") var tokenizer: String
        @Option(name: .customLong("add"), help: "A token to add (repeat).") var tokens: [String] = []
        @Option(help: "A UTF-8 file of tokens to add, one per line (empty lines skipped).") var addFile: String?
        @Option(parsing: .unconditional, help: "Add the N most frequent characters of --corpus that fall back to bytes.") var mineCharacters: Int?
        @Option(help: "A UTF-8 text file to mine characters from (with --mine-characters).") var corpus: String?
        @Option(help: "A UTF-8 text file (one text per line) whose byte-fallback share is reported before and after.") var heldOut: String?
        @Flag(help: "Add the tokens as special tokens (never split, skipped when decoding with skip-special).") var special = false
        @Option(help: "Directory to write the extended tokenizer to.") var output: String
        @Option(help: "A model (directory or .gguf) whose token embeddings grow to the new vocabulary; it is written to --output together with the tokenizer.")
        var model: String?

        func validate() throws {
            guard !tokens.isEmpty || addFile != nil || mineCharacters != nil else {
                throw ValidationError("give at least one --add token, an --add-file or --mine-characters")
            }
            guard FileManager.default.fileExists(atPath: tokenizer) else { throw ValidationError("--tokenizer \(tokenizer): no such file or directory") }
            if let model, !FileManager.default.fileExists(atPath: model) { throw ValidationError("--model \(model): no such file or directory") }
            for (flag, f) in [("--add-file", addFile), ("--corpus", corpus), ("--held-out", heldOut)] {
                if let f, !FileManager.default.fileExists(atPath: f) { throw ValidationError("\(flag) \(f): no such file") }
            }
            if let n = mineCharacters {
                guard (1 ... 1_000_000).contains(n) else { throw ValidationError("--mine-characters must be in 1…1000000") }
                guard corpus != nil else { throw ValidationError("--mine-characters needs --corpus FILE to mine from") }
            } else if corpus != nil {
                throw ValidationError("--corpus is only read with --mine-characters")
            }
            try OutputPaths.check(inputs: [("--tokenizer", tokenizer), ("--model", model), ("--add-file", addFile), ("--corpus", corpus), ("--held-out", heldOut)],
                                  outputs: [.directory("--output", output, writes: model == nil ? OutputPaths.tokenizerFiles : OutputPaths.modelDirectoryFiles)])
            if model == nil, let existing = ModelStore.modelFileIn(output) {
                throw ValidationError("--output \(output) holds a model (\(existing)); writing only a tokenizer into it would leave the model's embeddings smaller than the new vocabulary; give --model too, or choose another directory")
            }
        }

        private func lines(_ path: String) throws -> [String] {
            try FileErrors.readText(path).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }

        private func describe(_ r: ByteFallbackReport) -> String {
            String(format: "%.2f%% of %d tokens are byte tokens, %.2f%% of %d characters fall back to bytes",
                   100 * r.byteTokenShare, r.tokens, 100 * r.fallbackScalarShare, r.scalars)
        }

        func run() throws {
            var tok = try ModelStore.loadTokenizer(tokenizer)
            let before = tok.vocabSize
            var newTokens = tokens
            if let addFile { newTokens += try lines(addFile).filter { !$0.isEmpty } }
            if let n = mineCharacters, let corpus {
                let mined = tok.frequentFallbackCharacters(in: try lines(corpus), limit: n)
                print("mined \(mined.count) characters that fall back to bytes in \(corpus): "
                      + mined.prefix(20).map { "\($0.character)×\($0.count)" }.joined(separator: " ") + (mined.count > 20 ? " …" : ""))
                newTokens += mined.map(\.character)
            }
            guard !newTokens.isEmpty else { throw ValidationError("no tokens to add (the --add-file is empty and mining found no character falling back to bytes)") }
            let heldOutLines = try heldOut.map(lines)
            let reportBefore = heldOutLines.map { tok.byteFallbackReport($0) }
            // the model is checked before anything is extended or written: its embedding rows
            // belong to its own tokenizer's ids, and a reward model's score head would be lost
            var loaded: LoadedModel?
            if let model {
                let m = try ModelStore.load(model)
                guard m.scoreWeight == nil else {
                    throw ValidationError("--model \(model) is a reward model (it has a score head): extending it here would write a plain language model without its head; extend the base model's tokenizer and train the reward model again")
                }
                if let own = try? ModelStore.loadTokenizer(model) {
                    try tok.requireSameVocabulary(own, name: "--model \(model)", path: model, role: "its embedding table", mine: "--tokenizer")
                } else if tok.vocabSize > m.model.config.vocabSize {
                    throw ValidationError("--model \(model) has no tokenizer of its own and \(m.model.config.vocabSize) embedding rows, fewer than --tokenizer's \(tok.vocabSize) tokens: it cannot be this tokenizer's model")
                }
                loaded = m
            }
            let ids = try tok.extend(with: newTokens, special: special)
            let added = newTokens.count <= 20 ? zip(newTokens, ids).map { "\($0)=\($1)" }.joined(separator: " ") : "\(newTokens.count) tokens"
            if let heldOut, let reportBefore, let heldOutLines {
                print("held-out \(heldOut) before: \(describe(reportBefore))")
                print("held-out \(heldOut) after:  \(describe(tok.byteFallbackReport(heldOutLines)))")
            }
            if let loaded {
                let resized = try ModelStore.resizeVocabulary(loaded, to: max(tok.vocabSize, loaded.model.config.vocabSize))
                try ModelStore.save(resized, tokenizer: tok, to: URL(fileURLWithPath: output))
                print("wrote \(output): tokenizer \(before) → \(tok.vocabSize) tokens (\(added)); embeddings "
                      + "\(loaded.model.config.vocabSize) → \(resized.model.config.vocabSize) rows")
            } else {
                try tok.save(to: URL(fileURLWithPath: output))
                print("wrote \(output)/tokenizer.json: \(before) → \(tok.vocabSize) tokens (\(added))")
            }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time encoding a text file line by line on one thread; prints one JSON object per round.")

        @Option(help: "Tokenizer: a model directory, a tokenizer.json or a .gguf file.") var tokenizer: String
        @Option(help: "A UTF-8 text file; each non-empty line is encoded as one text.") var input: String
        @Option(parsing: .unconditional, help: "Timed rounds over the whole file.") var rounds = 1

        func validate() throws {
            guard FileManager.default.fileExists(atPath: tokenizer) else { throw ValidationError("--tokenizer \(tokenizer): no such file or directory") }
            guard FileManager.default.fileExists(atPath: input) else { throw ValidationError("--input \(input): no such file") }
            guard (1 ... 1000).contains(rounds) else { throw ValidationError("--rounds must be in 1…1000") }
        }

        func run() throws {
            let tok = try ModelStore.loadTokenizer(tokenizer)
            let lines = try FileErrors.readText(input).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            guard !lines.isEmpty else { throw ValidationError("--input \(input) holds no text") }
            let bytes = lines.reduce(0) { $0 + $1.utf8.count }
            for _ in 0 ..< rounds {
                let start = DispatchTime.now().uptimeNanoseconds
                var tokens = 0
                var checksum = 0   // Σ (position-in-text + 1) · id over all texts, to compare ids with another tokenizer
                for line in lines {
                    let ids = tok.encode(line, addSpecialTokens: false)
                    tokens += ids.count
                    for (i, id) in ids.enumerated() { checksum &+= (i + 1) &* id }
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                print("{\"lines\": \(lines.count), \"bytes\": \(bytes), \"tokens\": \(tokens), \"checksum\": \(checksum), \"seconds\": \(seconds), "
                      + "\"mb_per_s\": \(Double(bytes) / seconds / 1e6)}")
            }
        }
    }
}

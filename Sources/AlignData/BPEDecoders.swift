/// tokenizer.json `decoder`: how token strings become text, named after the Hugging Face
/// `tokenizers` decoders. Byte-level tokenizers use `ByteLevel` alone (decoded through
/// `BPEModel.tokenBytes`); SentencePiece-family ones chain `Replace`, `ByteFallback`,
/// `Fuse`, `Strip` and `Metaspace`, which this type runs over UTF-8 token strings.
enum DecoderStep: Sendable, Equatable {
    case byteLevel
    /// `Replace` with a `String` pattern, in each token.
    case replace(pattern: [UInt8], content: [UInt8])
    /// `ByteFallback`: runs of `<0xXX>` tokens become the bytes they spell; a run that is not
    /// valid UTF-8 becomes one U+FFFD per byte (unless raw bytes are asked for).
    case byteFallback
    /// `Fuse`: all tokens become one.
    case fuse
    /// `Strip`: removes up to `start` leading and `stop` trailing `content` characters of each token.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    /// `Metaspace`: the replacement character becomes a space, except in the first token
    /// when the prepend scheme is not `never` (there it is dropped).
    case metaspace(Metaspace)
}

struct TokenDecoder: Sendable, Equatable {
    var steps: [DecoderStep]
    /// The tokenizer.json value, written back by `save`.
    var json: JSONValue

    static func == (a: TokenDecoder, b: TokenDecoder) -> Bool { a.steps == b.steps }

    /// A single `ByteLevel` step (alone or as a one-element `Sequence`).
    var isByteLevel: Bool { steps == [.byteLevel] }

    static let byteLevel = TokenDecoder(steps: [.byteLevel], json: Tokenizer.byteLevelDecoderJSON)

    /// The decoder transformers' `LlamaTokenizer` writes: Replace("▁", " "), ByteFallback, Fuse,
    /// and (with a prefix space) Strip(" ", 1, 0).
    static func llama(stripPrefixSpace: Bool) -> TokenDecoder {
        var steps: [DecoderStep] = [.replace(pattern: Array("\u{2581}".utf8), content: [0x20]), .byteFallback, .fuse]
        if stripPrefixSpace { steps.append(.strip(content: " ", start: 1, stop: 0)) }
        return TokenDecoder(steps: steps, json: .obj(["type": .string("Sequence"), "decoders": .array(steps.map(\.json))]))
    }

    /// Parses a decoder; `byteLevelModel` says which family the model belongs to
    /// (byte-level models need `ByteLevel`; character-level ones cannot use it).
    static func parse(_ j: LocatedJSON, byteLevelModel: Bool) throws -> TokenDecoder {
        var items: [LocatedJSON] = [j]
        if try j.typeName == "Sequence" {
            items = try j.require("decoders").array
            guard !items.isEmpty else { throw j.unsupported(" (an empty decoder Sequence)") }
        }
        var steps: [DecoderStep] = []
        for item in items {
            let type = try item.typeName
            if byteLevelModel && type != "ByteLevel" {
                throw item.unsupported(".type \(jsonQuoted(type)) (a byte-level BPE needs the ByteLevel decoder alone)")
            }
            if !byteLevelModel && type == "ByteLevel" {
                throw item.unsupported(".type \"ByteLevel\" (for a model without a ByteLevel pre-tokenizer)")
            }
            steps.append(try parseStep(item))
        }
        return TokenDecoder(steps: byteLevelModel ? [.byteLevel] : steps, json: j.value)
    }

    private static func parseStep(_ j: LocatedJSON) throws -> DecoderStep {
        let type = try j.typeName
        switch type {
        case "ByteLevel": return .byteLevel
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Replace":
            let pattern = try j.require("pattern")
            if let regex = pattern["Regex"] {
                throw regex.unsupported(" \(jsonQuoted(try regex.string)) (a Replace decoder with a regex)")
            }
            guard let literal = pattern["String"] else { throw pattern.malformed("should be {\"String\": …} or {\"Regex\": …}") }
            let p = try literal.string
            guard !p.isEmpty else { throw literal.malformed("is empty") }
            return .replace(pattern: Array(p.utf8), content: Array(try j.require("content").string.utf8))
        case "Strip":
            let content = try j.require("content")
            let scalars = Array(try content.string.unicodeScalars)
            guard scalars.count == 1 else { throw content.malformed("should be one character") }
            let start = try j.require("start").int, stop = try j.require("stop").int
            guard (0 ... 1 << 20).contains(start), (0 ... 1 << 20).contains(stop) else {
                throw j.malformed("start \(start) / stop \(stop) out of range")
            }
            return .strip(content: scalars[0], start: start, stop: stop)
        case "Metaspace":
            return .metaspace(try Metaspace.parse(j))
        default:
            throw j.unsupported(".type \(jsonQuoted(type))")
        }
    }

    /// Runs the chain over token strings (UTF-8) and joins the result.
    /// `rawBytes`: `ByteFallback` passes invalid UTF-8 through as bytes instead of U+FFFD.
    func decode(_ tokens: [[UInt8]], rawBytes: Bool) -> [UInt8] {
        var tokens = tokens
        for step in steps {
            switch step {
            case .byteLevel:
                tokens = tokens.map { ByteLevel.decodeOrRaw(String(decoding: $0, as: UTF8.self)) }
            case .replace(let pattern, let content):
                tokens = tokens.map { ByteReplace.replacing($0, pattern, content) }
            case .byteFallback:
                tokens = TokenDecoder.byteFallback(tokens, rawBytes: rawBytes)
            case .fuse:
                tokens = [tokens.flatMap { $0 }]
            case .strip(let content, let start, let stop):
                tokens = tokens.map { TokenDecoder.strip($0, content, start, stop) }
            case .metaspace(let m):
                let rep = Array(m.replacement.utf8)
                for i in tokens.indices {
                    tokens[i] = ByteReplace.replacing(tokens[i], rep, i == 0 && m.prependScheme != .never ? [] : [0x20])
                }
            }
        }
        return tokens.flatMap { $0 }
    }

    private static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]

    private static func byteFallback(_ tokens: [[UInt8]], rawBytes: Bool) -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(tokens.count)
        var run: [UInt8] = []
        func flush() {
            guard !run.isEmpty else { return }
            if rawBytes || isValidUTF8(run) {
                out.append(run)
            } else {
                for _ in run { out.append(replacementCharacter) }
            }
            run.removeAll(keepingCapacity: true)
        }
        for t in tokens {
            if let b = SentencePieceBytes.byteOfToken(t) {
                run.append(b)
            } else {
                flush()
                out.append(t)
            }
        }
        flush()
        return out
    }

    private static func strip(_ token: [UInt8], _ content: Unicode.Scalar, _ start: Int, _ stop: Int) -> [UInt8] {
        let scalars = Array(String(decoding: token, as: UTF8.self).unicodeScalars)
        var a = 0
        while a < min(start, scalars.count) && scalars[a] == content { a += 1 }
        var b = scalars.count
        var removed = 0
        while removed < stop && b > a && scalars[b - 1] == content { b -= 1; removed += 1 }
        if a == 0 && b == scalars.count { return token }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[a ..< b])
        return Array(String(s).utf8)
    }
}

/// Whether `bytes` are valid UTF-8.
func isValidUTF8(_ bytes: [UInt8]) -> Bool {
    var it = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&it) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}

extension DecoderStep {
    var json: JSONValue {
        switch self {
        case .byteLevel: return Tokenizer.byteLevelDecoderJSON
        case .replace(let pattern, let content):
            return .obj(["type": .string("Replace"), "pattern": .obj(["String": .string(String(decoding: pattern, as: UTF8.self))]),
                         "content": .string(String(decoding: content, as: UTF8.self))])
        case .byteFallback: return .obj(["type": .string("ByteFallback")])
        case .fuse: return .obj(["type": .string("Fuse")])
        case .strip(let content, let start, let stop):
            return .obj(["type": .string("Strip"), "content": .string(String(content)), "start": .int(start), "stop": .int(stop)])
        case .metaspace(let m): return m.json
        }
    }
}

/// The `Metaspace` pre-tokenizer (and decoder) of SentencePiece-family tokenizer.json files:
/// spaces become `replacement` ("▁"), a replacement is put in front of the text according to
/// `prependScheme`, and with `split` the text is cut before every replacement character.
struct Metaspace: Sendable, Equatable {
    enum PrependScheme: String, Sendable {
        /// Always prepend (unless the text already starts with the replacement).
        case always
        /// Only for the text's first segment: not after an added token such as `<s>`.
        case first
        case never
    }

    var replacement: String
    var prependScheme: PrependScheme
    var split: Bool

    /// transformers' `LlamaTokenizer`: "▁", `first`, no split.
    static let llama = Metaspace(replacement: "\u{2581}", prependScheme: .first, split: false)

    var json: JSONValue {
        .obj(["type": .string("Metaspace"), "replacement": .string(replacement),
              "prepend_scheme": .string(prependScheme.rawValue), "split": .bool(split)])
    }

    /// Parses a `Metaspace` pre-tokenizer or decoder (older files say `add_prefix_space`
    /// instead of `prepend_scheme`).
    static func parse(_ j: LocatedJSON) throws -> Metaspace {
        let replacementJSON = try j.require("replacement")
        let replacement = try replacementJSON.string
        guard replacement.unicodeScalars.count == 1 else { throw replacementJSON.malformed("should be one character") }
        let scheme: PrependScheme
        if let s = j["prepend_scheme"] {
            let name = try s.string
            guard let v = PrependScheme(rawValue: name) else {
                throw s.unsupported(" \(jsonQuoted(name)) (expected \"first\", \"always\" or \"never\")")
            }
            scheme = v
        } else {
            scheme = try j.bool("add_prefix_space", default: true) ? .always : .never
        }
        return Metaspace(replacement: replacement, prependScheme: scheme, split: try j.bool("split", default: true))
    }
}

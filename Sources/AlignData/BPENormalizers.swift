import Foundation

/// One tokenizer.json normalizer, named after its Hugging Face `tokenizers` counterpart.
enum NormalizerStep: Sendable, Equatable {
    /// Unicode normalisation forms.
    case nfc, nfd, nfkc, nfkd
    /// `Prepend`: puts `prepend` in front of a non-empty text (Llama 2's "▁").
    case prepend(String)
    /// `Replace` with a `String` pattern: every occurrence, left to right, non-overlapping.
    case replace(pattern: String, content: String)

    var json: JSONValue {
        switch self {
        case .nfc: return .obj(["type": .string("NFC")])
        case .nfd: return .obj(["type": .string("NFD")])
        case .nfkc: return .obj(["type": .string("NFKC")])
        case .nfkd: return .obj(["type": .string("NFKD")])
        case .prepend(let p): return .obj(["type": .string("Prepend"), "prepend": .string(p)])
        case .replace(let pattern, let content):
            return .obj(["type": .string("Replace"), "pattern": .obj(["String": .string(pattern)]), "content": .string(content)])
        }
    }

    /// The step applied to a whole string.
    func apply(_ text: String) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .prepend(let p): return text.isEmpty ? text : p + text
        case .replace(let pattern, let content):
            return String(decoding: ByteReplace.replacing(Array(text.utf8), Array(pattern.utf8), Array(content.utf8)), as: UTF8.self)
        }
    }

    var isUnicodeForm: Bool {
        switch self {
        case .nfc, .nfd, .nfkc, .nfkd: return true
        case .prepend, .replace: return false
        }
    }
}

/// tokenizer.json `normalizer`: none, one step, or a `Sequence` of steps.
struct BPENormalizer: Sendable, Equatable {
    var steps: [NormalizerStep]
    /// Whether tokenizer.json wrapped the steps in a `Sequence` (kept for saving).
    var inSequence: Bool

    static let none = BPENormalizer(steps: [], inSequence: false)

    /// Applies every step to a whole string (the byte-level path).
    func apply(_ text: String) -> String {
        steps.reduce(text) { $1.apply($0) }
    }

    var json: JSONValue {
        if steps.isEmpty { return .null }
        if !inSequence && steps.count == 1 { return steps[0].json }
        return .obj(["type": .string("Sequence"), "normalizers": .array(steps.map(\.json))])
    }

    static func parse(_ j: LocatedJSON?) throws -> BPENormalizer {
        guard let j else { return .none }
        if try j.typeName == "Sequence" {
            var steps: [NormalizerStep] = []
            for item in try j.require("normalizers").array {
                guard try item.typeName != "Sequence" else { throw item.unsupported(" (a Sequence inside a Sequence)") }
                steps.append(try parseStep(item))
            }
            return steps.isEmpty ? .none : BPENormalizer(steps: steps, inSequence: true)
        }
        return BPENormalizer(steps: [try parseStep(j)], inSequence: false)
    }

    private static func parseStep(_ j: LocatedJSON) throws -> NormalizerStep {
        let type = try j.typeName
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Prepend": return .prepend(try j.require("prepend").string)
        case "Replace":
            let pattern = try j.require("pattern")
            if let regex = pattern["Regex"] {
                throw regex.unsupported(" \(jsonQuoted(try regex.string)) (a Replace normalizer with a regex)")
            }
            guard let literal = pattern["String"] else { throw pattern.malformed("should be {\"String\": …} or {\"Regex\": …}") }
            let p = try literal.string
            guard !p.isEmpty else { throw literal.malformed("is empty") }
            return .replace(pattern: p, content: try j.require("content").string)
        default:
            throw j.unsupported(".type \(jsonQuoted(type))")
        }
    }
}

/// Literal byte-string replacement.
enum ByteReplace {
    /// `bytes` with every occurrence of `pattern` (non-empty; left to right, non-overlapping) replaced by `content`.
    static func replacing(_ bytes: [UInt8], _ pattern: [UInt8], _ content: [UInt8]) -> [UInt8] {
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        let first = pattern[0], m = pattern.count
        while i < bytes.count {
            if bytes[i] == first && i + m <= bytes.count && (m == 1 || bytes[i ..< i + m].elementsEqual(pattern)) {
                out.append(contentsOf: content)
                i += m
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}

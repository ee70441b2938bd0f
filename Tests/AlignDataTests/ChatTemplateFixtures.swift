import AlignData
import Foundation
import XCTest

/// chat_templates.json (scripts/gen_chat_template_fixtures.py): templates, the
/// tokenizers they were rendered with, transformers' `apply_chat_template` outputs
/// and jinja2's outputs for small engine checks.
enum ChatTemplateFixtures {
    static let root: JSON = {
        let data = try! Fixtures.data("chat_templates.json")
        return try! JSONDecoder().decode(JSON.self, from: data)
    }()

    static var cases: [JSON] { root["cases"].array }
    static var engine: [JSON] { root["engine"].array }

    static func source(_ template: String) -> String { root["templates"][template]["source"].string }

    /// A fixture tokenizer with the generator's bos/eos and added special tokens.
    static func tokenizer(_ name: String) throws -> Tokenizer {
        let spec = root["tokenizers"][name]
        var tok = try TokenizerFixtures.load(spec["base"].string)
        let special = spec["special"].strings
        if !special.isEmpty { _ = try tok.extend(with: special, special: true) }
        tok.bosToken = spec["bos"].string
        tok.eosToken = spec["eos"].string
        return tok
    }

    /// One rendering case, decoded.
    struct Case {
        var label: String
        var template: String
        var tokenizer: String
        var conversation: Int
        var addGenerationPrompt: Bool
        var messages: [JinjaValue]
        var tools: [JinjaValue]?
        var extra: [String: JinjaValue]
        var text: String?
        var ids: [Int]?
        var assistantMask: [Bool]?
        var error: String?

        init(_ c: JSON) throws {
            template = c["template"].string
            tokenizer = c["tokenizer"].string
            conversation = c["conversation"].int
            addGenerationPrompt = c["add_generation_prompt"] == .bool(true)
            guard case .list(let m) = try JinjaValue(parsingJSON: c["messages"].string) else { fatalError("messages") }
            messages = m
            if case .string(let t) = c["tools"], case .list(let list) = try JinjaValue(parsingJSON: t) { tools = list }
            extra = [:]
            if case .dict(let d) = try JinjaValue(parsingJSON: c["extra"].string) {
                for (k, v) in d { extra[k.stringValue!] = v }
            }
            let o = c.object
            text = o["text"].map(\.string)
            ids = o["ids"].map(\.ints)
            assistantMask = o["assistant_mask"].map { $0.ints.map { $0 != 0 } }
            error = o["error"].map(\.string)
            label = "\(template) conv \(conversation) gen \(addGenerationPrompt)\(tools == nil ? "" : " tools")"
        }
    }

    /// The conversations of the cases (each once, with its full message list when
    /// rendered without the generation prompt), by index.
    static func conversations() throws -> [Int: [JinjaValue]] {
        var out: [Int: [JinjaValue]] = [:]
        for c in try cases.map(Case.init) where !c.addGenerationPrompt && c.tools == nil { out[c.conversation] = c.messages }
        return out
    }
}

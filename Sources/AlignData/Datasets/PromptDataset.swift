import Foundation

/// One prompt of a prompt-only dataset (online trainers: PPO, best-of-N, HPA): the prompt as
/// text or as a conversation ending in a user turn, plus every other field of the record, which
/// travels with the prompt to the reward (a rule matching `answer`, an external judge).
public struct PromptRecord: Sendable, Equatable {
    public var prompt: DatasetContent
    /// The record's other fields that are strings or numbers, as text (`answer`, `id`, …).
    public var fields: [String: String]
    /// The whole record as compact JSON (what an external reward program receives).
    public var json: String
    /// 1-based line in its file.
    public var line: Int

    public init(prompt: DatasetContent, fields: [String: String] = [:], json: String = "{}", line: Int = 0) {
        self.prompt = prompt
        self.fields = fields
        self.json = json
        self.line = line
    }

    /// The text of the prompt's last user turn (or the whole text prompt).
    public var userText: String {
        switch prompt {
        case .text(let s): return s
        case .conversation(let m): return m.last(where: { $0.role == "user" })?.content ?? ""
        }
    }
}

/// Reads prompt-only JSONL: `{"prompt": "…"}`, `{"prompt": [messages]}` or `{"messages": [...]}`
/// ending in a user turn. Every problem is reported as `file:line: message`, one line each (up
/// to 20), in one error.
public enum PromptDataset {
    public static func read(_ url: URL) throws -> [PromptRecord] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
                throw AlignDataError(.invalidArgument, path: url.path, "is a directory, not a JSONL file of prompts")
            }
            throw AlignDataError(.io, path: url.path, "cannot read: \(error.localizedDescription)")
        }
        return try parse(data, source: url.path)
    }

    public static func parse(_ data: Data, source: String) throws -> [PromptRecord] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw AlignDataError(.malformed, path: source, "is not valid UTF-8")
        }
        var records: [PromptRecord] = []
        var problems: [String] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            do {
                records.append(try record(line, number: i + 1))
            } catch let issue as RecordIssue {
                problems.append("\(source):\(i + 1): \(issue.message)")
            }
        }
        if !problems.isEmpty {
            let shown = problems.prefix(20).joined(separator: "\n")
            let more = problems.count > 20 ? "\n… and \(problems.count - 20) more" : ""
            throw AlignDataError(.malformed, path: source, "\(problems.count) invalid prompt record\(problems.count == 1 ? "" : "s"):\n\(shown)\(more)")
        }
        guard !records.isEmpty else { throw AlignDataError(.invalidArgument, path: source, "holds no prompts") }
        return records
    }

    static func record(_ line: String, number: Int) throws -> PromptRecord {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) else {
            throw RecordIssue(.invalidJSON, "invalid JSON")
        }
        guard let dict = object as? [String: Any] else { throw RecordIssue(.notAnObject, "expected a JSON object") }
        let prompt: DatasetContent
        var used: Set<String>
        if let p = dict["prompt"] {
            used = ["prompt"]
            if let s = p as? String {
                guard !s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw RecordIssue(.missingField, "\"prompt\" is empty") }
                prompt = .text(s)
            } else if p is [Any] {
                prompt = .conversation(try messages(p, key: "prompt"))
            } else {
                throw RecordIssue(.wrongType, "\"prompt\" must be a string or a list of messages")
            }
        } else if let m = dict["messages"] {
            used = ["messages"]
            prompt = .conversation(try messages(m, key: "messages"))
        } else {
            throw RecordIssue(.missingField, "expected a \"prompt\" (a string or messages) or \"messages\" ending in a user turn")
        }
        var fields: [String: String] = [:]
        for (k, v) in dict where !used.contains(k) {
            if let s = v as? String { fields[k] = s } else if let n = v as? NSNumber, !(v is Bool) { fields[k] = n.stringValue }
        }
        return PromptRecord(prompt: prompt, fields: fields, json: line, line: number)
    }

    static func messages(_ value: Any, key: String) throws -> [ChatMessage] {
        guard let list = value as? [Any], !list.isEmpty else { throw RecordIssue(.wrongType, "\"\(key)\" must be a non-empty list of messages") }
        var out: [ChatMessage] = []
        for (i, item) in list.enumerated() {
            guard let m = item as? [String: Any], let role = m["role"] as? String, let content = m["content"] as? String else {
                throw RecordIssue(.wrongType, "\"\(key)\"[\(i)]: expected {\"role\": string, \"content\": string}")
            }
            out.append(ChatMessage(role: role, content: content))
        }
        try ConversationRules.validate(out, label: { "\"\(key)\"[\($0)]" }, requireAssistant: false, name: "\"\(key)\"")
        guard out.last?.role == "user" else {
            throw RecordIssue(.badAlternation, "\"\(key)\" must end with a user turn (the model answers it)")
        }
        return out
    }
}

/// Prompts as generating code sends them: through a chat template (an optional system turn,
/// the conversation, the generation prompt), or without one the raw text with the tokenizer's
/// special tokens.
public enum PromptEncoding {
    public static func ids(_ prompt: DatasetContent, tokenizer: Tokenizer, template: ChatTemplate?, system: String? = nil) throws -> [Int] {
        switch (prompt, template) {
        case (.text(let text), nil):
            return tokenizer.encode(text, addSpecialTokens: true)
        case (.conversation(let messages), nil):
            return tokenizer.encode(messages.map(\.content).joined(separator: "\n"), addSpecialTokens: true)
        case (.text(let text), let template?):
            var messages: [ChatMessage] = []
            if let system { messages.append(.system(system)) }
            messages.append(.user(text))
            return try template.encode(messages, with: tokenizer, addGenerationPrompt: true).ids
        case (.conversation(var messages), let template?):
            if let system, messages.first?.role != "system" { messages.insert(.system(system), at: 0) }
            return try template.encode(messages, with: tokenizer, addGenerationPrompt: true).ids
        }
    }
}

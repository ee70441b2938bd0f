import Foundation

/// The record formats of TRL's dataset guide, as JSON keys.
///
/// | format | keys |
/// |---|---|
/// | `text` | `{"text": "…"}` (language modelling, raw text) |
/// | `prompt_completion` | `{"prompt": …, "completion": …}`: two strings, or two message lists (conversational) |
/// | `alpaca` | `{"instruction": "…", "input": "…", "output": "…"}` (`input` optional / empty / null) |
/// | `messages` | `{"messages": [{"role": …, "content": …}, …]}` |
/// | `preference` | `{"prompt", "chosen", "rejected"}` (strings or message lists), or implicit prompt `{"chosen", "rejected"}`; optional numeric `margin` |
///
/// `auto` picks the format from the keys of the first valid record (in the order
/// messages, chosen+rejected, instruction+output, prompt+completion, text) and then
/// requires every record to have that format. Other keys are ignored.
public enum DatasetFormat: String, Sendable, Codable, CaseIterable, Hashable {
    case auto
    case text
    case promptCompletion = "prompt_completion"
    case alpaca
    case messages
    case preference

    /// The format whose required keys `keys` has, or nil.
    public static func detect(keys: Set<String>) -> DatasetFormat? {
        if keys.contains("messages") { return .messages }
        if keys.contains("chosen") && keys.contains("rejected") { return .preference }
        if keys.contains("instruction") && keys.contains("output") { return .alpaca }
        if keys.contains("prompt") && keys.contains("completion") { return .promptCompletion }
        if keys.contains("text") { return .text }
        return nil
    }
}

/// A prompt, completion or response: plain text, or a list of chat messages
/// (TRL's "conversational" form), rendered through a chat template.
public enum DatasetContent: Sendable, Equatable, Hashable {
    case text(String)
    case conversation([ChatMessage])

    public var isConversational: Bool {
        if case .conversation = self { return true }
        return false
    }
}

/// One preference pair. `prompt` and the responses are all text or all conversations;
/// conversational responses start with an assistant turn.
public struct PreferenceRecord: Sendable, Equatable, Hashable {
    public var prompt: DatasetContent
    public var chosen: DatasetContent
    public var rejected: DatasetContent
    /// Optional per-pair margin (the reward model's `m` in `−logσ(r_w − r_l − m)`).
    public var margin: Float?
    /// True when the prompt was not given but extracted as the shared prefix of chosen and rejected.
    public var implicitPrompt: Bool

    public init(prompt: DatasetContent, chosen: DatasetContent, rejected: DatasetContent,
                margin: Float? = nil, implicitPrompt: Bool = false) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.margin = margin
        self.implicitPrompt = implicitPrompt
    }
}

/// One validated record of a dataset file.
public enum DatasetRecord: Sendable, Equatable, Hashable {
    case text(String)
    /// Both `.text` or both `.conversation` (the completion then starts with an assistant turn).
    case promptCompletion(prompt: DatasetContent, completion: DatasetContent)
    case alpaca(instruction: String, input: String, output: String)
    case messages([ChatMessage])
    case preference(PreferenceRecord)

    public var format: DatasetFormat {
        switch self {
        case .text: return .text
        case .promptCompletion: return .promptCompletion
        case .alpaca: return .alpaca
        case .messages: return .messages
        case .preference: return .preference
        }
    }
}

/// Why a record was rejected; the keys of `DatasetFile.skippedInvalid` are the raw values.
public enum InvalidRecordReason: String, Sendable, Codable, CaseIterable, Hashable {
    case invalidUTF8 = "invalid UTF-8"
    case invalidJSON = "invalid JSON"
    case notAnObject = "not an object"
    case unknownFormat = "unknown format"
    case missingField = "missing field"
    case wrongType = "wrong type"
    case unknownRole = "unknown role"
    case badAlternation = "roles do not alternate"
    case noAssistantTurn = "no assistant turn"
    case noSharedPrompt = "no shared prompt"
}

/// A record-level problem (internal; the reader turns it into `file:line: message`).
struct RecordIssue: Error {
    var reason: InvalidRecordReason
    var message: String

    init(_ reason: InvalidRecordReason, _ message: String) {
        self.reason = reason
        self.message = message
    }
}

// MARK: - Conversation checks

enum ConversationRules {
    static let roles: Set<String> = ["system", "user", "assistant"]

    /// Checks roles (system, user, assistant), that a system message comes only
    /// first, and that user and assistant turns alternate starting with user.
    /// `label(i)` names message i in messages (e.g. `"messages"[2]`).
    static func validate(_ messages: [ChatMessage], label: (Int) -> String,
                         requireAssistant: Bool, name: String) throws {
        var previous: String?
        for (i, m) in messages.enumerated() {
            guard roles.contains(m.role) else {
                throw RecordIssue(.unknownRole, "\(label(i)): unknown role \(jsonQuoted(m.role)) (expected system, user or assistant)")
            }
            if m.role == "system" {
                guard i == 0 else {
                    throw RecordIssue(.badAlternation, "\(label(i)): a system message is only allowed as the first message")
                }
                continue
            }
            let expected = previous == "user" ? "assistant" : "user"
            guard m.role == expected else {
                if let previous {
                    throw RecordIssue(.badAlternation,
                                      "\(label(i)): role \(jsonQuoted(m.role)) follows \(jsonQuoted(previous)) (user and assistant turns must alternate)")
                }
                throw RecordIssue(.badAlternation,
                                  "\(label(i)): the conversation must start with a user turn (after an optional system message), found \(jsonQuoted(m.role))")
            }
            previous = m.role
        }
        if requireAssistant && !messages.contains(where: { $0.role == "assistant" }) {
            throw RecordIssue(.noAssistantTurn, "\(name) has no assistant turn")
        }
    }
}

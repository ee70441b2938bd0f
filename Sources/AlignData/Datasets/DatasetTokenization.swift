import Foundation

/// Which end of the prompt loses tokens when an example is too long.
public enum TruncationSide: String, Sendable, Codable, CaseIterable {
    /// Drop the start of the prompt, keep its end (next to the response). The default.
    case left
    /// Drop the end of the prompt, keep its start.
    case right
}

/// How records become token sequences.
public struct TokenizationOptions: Sendable, Equatable {
    /// Longest sequence (prompt + response, or one raw-text window), ≥ 2.
    public var maxSeqLen: Int
    /// SFT: put the loss on completion / assistant tokens only (TRL's `completion_only_loss`,
    /// and `assistant_only_loss` for `messages`). Raw text always has loss on every token.
    public var completionOnlyLoss: Bool
    /// Which end of the prompt truncation removes.
    public var truncationSide: TruncationSide
    /// Raw text: distance between the starts of consecutive windows, 1…maxSeqLen
    /// (nil = maxSeqLen, no overlap).
    public var stride: Int?
    /// Template for conversational records; nil = the tokenizer's (`ChatTemplate.model`).
    public var chatTemplate: ChatTemplate?
    /// Alpaca records: prepend Stanford Alpaca's "Below is an instruction …" preamble.
    public var alpacaPreamble: Bool

    public init(maxSeqLen: Int, completionOnlyLoss: Bool = true, truncationSide: TruncationSide = .left,
                stride: Int? = nil, chatTemplate: ChatTemplate? = nil, alpacaPreamble: Bool = true) {
        self.maxSeqLen = maxSeqLen
        self.completionOnlyLoss = completionOnlyLoss
        self.truncationSide = truncationSide
        self.stride = stride
        self.chatTemplate = chatTemplate
        self.alpacaPreamble = alpacaPreamble
    }

    func validate() throws {
        guard maxSeqLen >= 2 else {
            throw AlignDataError(.invalidArgument, path: "", "maxSeqLen must be at least 2 (one context and one learned token), got \(maxSeqLen)")
        }
        if let stride, !(1 ... maxSeqLen).contains(stride) {
            throw AlignDataError(.invalidArgument, path: "", "stride must be in 1…maxSeqLen (\(maxSeqLen)), got \(stride)")
        }
    }
}

/// One SFT training sequence. `lossMask[t]` marks token t as learned, i.e. the loss
/// includes predicting `ids[t]` from `ids[..<t]` (position 0 can never be predicted).
public struct SFTExample: Sendable, Equatable, Hashable, Codable {
    public var ids: [Int]
    public var lossMask: [Bool]

    public init(ids: [Int], lossMask: [Bool]) {
        precondition(ids.count == lossMask.count, "SFTExample: \(ids.count) ids but \(lossMask.count) mask entries")
        self.ids = ids
        self.lossMask = lossMask
    }

    /// The number of next-token targets this example contributes (masked positions after the first).
    public var targetCount: Int { lossMask.dropFirst().reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// One tokenised preference pair: the rows a trainer builds are prompt+chosen and prompt+rejected.
public struct PreferenceExample: Sendable, Equatable, Hashable, Codable {
    public var prompt: [Int]
    public var chosen: [Int]
    public var rejected: [Int]
    public var margin: Float?

    public init(prompt: [Int], chosen: [Int], rejected: [Int], margin: Float? = nil) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.margin = margin
    }
}

/// What happened to a dataset on its way to training examples.
public struct DatasetReport: Sendable, Equatable, Codable, CustomStringConvertible {
    public var source: String
    public var format: DatasetFormat
    /// Valid records read.
    public var records: Int
    /// Malformed records skipped by the reader (`skipInvalid`), per reason.
    public var skippedInvalid: [String: Int]
    /// Training examples produced (SFT sequences / raw-text windows, or preference pairs).
    public var examples: Int
    /// Examples shortened to `maxSeqLen`.
    public var truncated: Int
    /// Valid records that gave no example, per reason (`DatasetReport.emptyText`, …).
    public var dropped: [String: Int]
    /// Preference pairs skipped because chosen and rejected tokenise identically (no signal).
    public var identicalPairs: Int
    /// Tokens in all examples (preference: prompt + chosen + rejected).
    public var tokens: Int
    /// SFT: next-token targets with loss over all examples. Preference: chosen + rejected response tokens.
    public var lossTokens: Int

    public static let emptyText = "empty text"
    public static let emptyCompletion = "empty completion"
    public static let noAssistantTurn = "no assistant turn"
    public static let emptyResponse = "empty response"

    public init(source: String, format: DatasetFormat, records: Int, skippedInvalid: [String: Int] = [:]) {
        self.source = source
        self.format = format
        self.records = records
        self.skippedInvalid = skippedInvalid
        examples = 0
        truncated = 0
        dropped = [:]
        identicalPairs = 0
        tokens = 0
        lossTokens = 0
    }

    public var droppedTotal: Int { dropped.values.reduce(0, +) }
    public var skippedInvalidTotal: Int { skippedInvalid.values.reduce(0, +) }

    /// e.g. `train.jsonl (prompt_completion): 120 records → 118 examples, 3 truncated, 2 dropped (2 empty completion), 1 invalid skipped (1 invalid JSON), 20480 tokens, 9000 loss tokens`.
    public var description: String {
        var parts = ["\(records) records → \(examples) examples", "\(truncated) truncated"]
        parts.append("\(droppedTotal) dropped" + (dropped.isEmpty ? "" : " (\(DatasetFile.describeCounts(dropped)))"))
        if format == .preference { parts.append("\(identicalPairs) identical pairs skipped") }
        parts.append("\(skippedInvalidTotal) invalid skipped" + (skippedInvalid.isEmpty ? "" : " (\(DatasetFile.describeCounts(skippedInvalid)))"))
        parts.append("\(tokens) tokens")
        parts.append("\(lossTokens) loss tokens")
        return "\(source) (\(format.rawValue)): " + parts.joined(separator: ", ")
    }
}

/// Tokenised SFT examples and their report.
public struct SFTDataset: Sendable, Equatable {
    public var examples: [SFTExample]
    public var report: DatasetReport
}

/// Tokenised preference pairs and their report.
public struct PreferenceDataset: Sendable, Equatable {
    public var examples: [PreferenceExample]
    public var report: DatasetReport
}

// MARK: - Tokenisation

extension DatasetFile {
    /// SFT examples (TRL's SFTTrainer data path).
    ///
    /// - `text`: every document becomes `prefix + tokens + EOS` (prefix = the tokenizer's
    ///   post-processor prefix, e.g. LLaMA-3's BOS); the documents are concatenated and cut
    ///   into windows of `maxSeqLen` starting every `stride` tokens; the last, shorter window
    ///   is kept. Loss on every token, but with overlapping windows a window's mask covers only
    ///   the tokens after the previous window's end, so each token of the stream (but the
    ///   first) is a target exactly once. Without overlap (stride = maxSeqLen) the first token
    ///   of each window has no context and is not learned (as in transformers' `group_texts`);
    ///   use `stride = maxSeqLen - 1` to learn every token.
    /// - `prompt_completion` strings: `prefix + tokens(prompt)` then `tokens(completion) + EOS`.
    ///   TRL tokenises the prompt and prompt+completion and takes the prompt's length as the
    ///   boundary; tokenising the two separately is the same for byte-level BPE except when a
    ///   merge would cross the boundary (e.g. a prompt ending in a space), and guarantees the
    ///   boundary is a token boundary.
    /// - conversations (`messages`, conversational `prompt_completion`): rendered with the chat
    ///   template and tokenised as one string; the loss mask is the assistant mask (for
    ///   `prompt_completion`, only the completion's assistant turns), end-of-turn token included.
    /// - `alpaca`: the Stanford Alpaca prompt through `ChatTemplate.alpaca`; loss on the output + EOS.
    ///
    /// Truncation: the response is the completion (or the last assistant turn); prompt tokens
    /// are removed from `truncationSide` first. When even the response does not fit, the prompt
    /// keeps one token (so the first response token has a context and is learned) and the
    /// response is cut from the right; a response is never emptied. A BOS at the start of the
    /// prompt is an ordinary prompt token here: left truncation removes it.
    /// Dropped: empty texts, empty completions (all completion contents empty), conversations
    /// without an assistant turn.
    public func sftExamples(tokenizer: Tokenizer, options: TokenizationOptions) throws -> SFTDataset {
        try options.validate()
        let ctx = RecordTokenizer(tokenizer: tokenizer, options: options, source: source)
        var report = DatasetReport(source: source, format: format, records: records.count, skippedInvalid: skippedInvalid)
        var examples: [SFTExample] = []
        var stream: [Int] = []
        for (k, record) in records.enumerated() {
            let location = location(ofRecord: k)
            let segments: SFTSegments
            do {
                switch record {
                case .text(let text):
                    if text.isEmpty { report.dropped[DatasetReport.emptyText, default: 0] += 1; continue }
                    stream += tokenizer.specialTokenPrefix + ctx.encode(text) + [try ctx.eosID()]
                    continue
                case .promptCompletion(.text(let prompt), .text(let completion)):
                    if completion.isEmpty { report.dropped[DatasetReport.emptyCompletion, default: 0] += 1; continue }
                    let p = tokenizer.specialTokenPrefix + ctx.encode(prompt)
                    let c = ctx.encode(completion) + [try ctx.eosID()]
                    segments = SFTSegments(prompt: p, promptMask: Array(repeating: false, count: p.count),
                                           response: c, responseMask: Array(repeating: true, count: c.count))
                case .promptCompletion(.conversation(let prompt), .conversation(let completion)):
                    guard completion.contains(where: { $0.role == "assistant" }) else {
                        report.dropped[DatasetReport.noAssistantTurn, default: 0] += 1; continue
                    }
                    if completion.allSatisfy({ $0.role != "assistant" || $0.content.isEmpty }) {
                        report.dropped[DatasetReport.emptyCompletion, default: 0] += 1; continue
                    }
                    let skip = prompt.filter { $0.role == "assistant" }.count
                    segments = try ctx.conversation(prompt + completion, template: try ctx.template(),
                                                    lossRanges: { Array($0.dropFirst(skip)) }, responseRange: { $0[skip] })
                case .promptCompletion:
                    throw AlignDataError(.invalidArgument, path: "", "prompt and completion must both be text or both be conversations")
                case .messages(let messages):
                    guard messages.contains(where: { $0.role == "assistant" }) else {
                        report.dropped[DatasetReport.noAssistantTurn, default: 0] += 1; continue
                    }
                    if messages.allSatisfy({ $0.role != "assistant" || $0.content.isEmpty }) {
                        report.dropped[DatasetReport.emptyCompletion, default: 0] += 1; continue
                    }
                    segments = try ctx.conversation(messages, template: try ctx.template(),
                                                    lossRanges: { $0 }, responseRange: { $0[$0.count - 1] })
                case .alpaca(let instruction, let input, let output):
                    if output.isEmpty { report.dropped[DatasetReport.emptyCompletion, default: 0] += 1; continue }
                    segments = try ctx.conversation(Self.alpacaMessages(instruction: instruction, input: input, output: output,
                                                                        preamble: options.alpacaPreamble),
                                                    template: .alpaca, lossRanges: { $0 }, responseRange: { $0[$0.count - 1] })
                case .preference:
                    throw AlignDataError(.invalidArgument, path: "",
                                         "preference records cannot be used for SFT; use preferenceExamples(tokenizer:options:)")
                }
            } catch let e as AlignDataError {
                throw AlignDataError(e.kind, path: location, e.message)
            }
            let (t, wasTruncated) = truncationPlan(prompt: segments.prompt.indices, responses: [segments.response.count],
                                             maxLength: options.maxSeqLen, side: options.truncationSide)
            if wasTruncated { report.truncated += 1 }
            let ids = Array(segments.prompt[t.prompt]) + segments.response.prefix(t.response)
            let mask = options.completionOnlyLoss
                ? Array(segments.promptMask[t.prompt]) + segments.responseMask.prefix(t.response)
                : Array(repeating: true, count: ids.count)
            examples.append(SFTExample(ids: ids, lossMask: mask))
        }
        if !stream.isEmpty {
            examples += Self.windows(stream, maxLength: options.maxSeqLen, stride: options.stride ?? options.maxSeqLen)
        }
        report.examples = examples.count
        report.tokens = examples.reduce(0) { $0 + $1.ids.count }
        report.lossTokens = examples.reduce(0) { $0 + $1.targetCount }
        guard !examples.isEmpty else {
            throw AlignDataError(.malformed, path: source,
                                 "no training examples: all \(records.count) records were dropped (\(DatasetFile.describeCounts(report.dropped)))")
        }
        return SFTDataset(examples: examples, report: report)
    }

    /// Preference pairs (TRL's DPOTrainer / RewardTrainer data path).
    ///
    /// Text: `prefix + tokens(prompt)`, `tokens(chosen) + EOS`, `tokens(rejected) + EOS`.
    /// Conversations: the prompt rendered with the generation prompt, and each response
    /// everything the template renders after it for prompt + response: the reply, its
    /// end-of-turn token and whatever the template writes after that token when the
    /// conversation ends there (chatml's `\n` after `<|im_end|>`), each tokenised on its own.
    /// This is TRL's completion, and prompt + response is exactly the ids of transformers'
    /// `apply_chat_template(prompt + response)`: a reward model trained on these rows reads its
    /// score where a transformers user's call reads it (see `ChatTemplate.turnSuffixIDs`).
    /// Truncation: the prompt loses tokens from `truncationSide` until
    /// prompt + max(chosen, rejected) ≤ maxSeqLen; if the longer response alone does not fit,
    /// the prompt keeps one token and both responses are cut from the right (never emptied).
    /// Pairs whose chosen and rejected tokens are identical (after truncation) are skipped and
    /// counted in `identicalPairs`.
    public func preferenceExamples(tokenizer: Tokenizer, options: TokenizationOptions) throws -> PreferenceDataset {
        try options.validate()
        let ctx = RecordTokenizer(tokenizer: tokenizer, options: options, source: source)
        var report = DatasetReport(source: source, format: format, records: records.count, skippedInvalid: skippedInvalid)
        var examples: [PreferenceExample] = []
        for (k, record) in records.enumerated() {
            guard case .preference(let pair) = record else {
                throw AlignDataError(.invalidArgument, path: source,
                                     "\(record.format.rawValue) records are not preference pairs (need \"chosen\" and \"rejected\")")
            }
            var prompt: [Int], chosen: [Int], rejected: [Int]
            // an empty chosen or rejected text carries no preference: dropped and counted
            // (tokenised it would be the end-of-sequence token alone)
            func isEmptyContent(_ c: DatasetContent) -> Bool {
                switch c {
                case .text(let t): return t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                case .conversation(let m): return m.allSatisfy { $0.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
                }
            }
            if isEmptyContent(pair.chosen) || isEmptyContent(pair.rejected) {
                report.dropped[DatasetReport.emptyResponse, default: 0] += 1
                continue
            }
            do {
                switch (pair.prompt, pair.chosen, pair.rejected) {
                case (.text(let p), .text(let c), .text(let r)):
                    prompt = tokenizer.specialTokenPrefix + ctx.encode(p)
                    chosen = ctx.encode(c) + [try ctx.eosID()]
                    rejected = ctx.encode(r) + [try ctx.eosID()]
                case (.conversation(let p), .conversation(let c), .conversation(let r)):
                    let template = try ctx.template()
                    let promptText = try ctx.render(p, template: template, addGenerationPrompt: true).text
                    prompt = ctx.encode(promptText)
                    chosen = try ctx.responseIDs(prompt: p, promptText: promptText, response: c, template: template)
                    rejected = try ctx.responseIDs(prompt: p, promptText: promptText, response: r, template: template)
                default:
                    throw AlignDataError(.invalidArgument, path: "", "prompt, chosen and rejected must all be text or all be conversations")
                }
            } catch let e as AlignDataError {
                throw AlignDataError(e.kind, path: location(ofRecord: k), e.message)
            }
            if chosen.isEmpty || rejected.isEmpty {
                report.dropped[DatasetReport.emptyResponse, default: 0] += 1
                continue
            }
            let (t, wasTruncated) = truncationPlan(prompt: prompt.indices, responses: [chosen.count, rejected.count],
                                             maxLength: options.maxSeqLen, side: options.truncationSide)
            prompt = Array(prompt[t.prompt])
            chosen = Array(chosen.prefix(t.response))
            rejected = Array(rejected.prefix(t.response))
            if chosen == rejected {
                report.identicalPairs += 1
                continue
            }
            if wasTruncated { report.truncated += 1 }
            examples.append(PreferenceExample(prompt: prompt, chosen: chosen, rejected: rejected, margin: pair.margin))
        }
        report.examples = examples.count
        report.tokens = examples.reduce(0) { $0 + $1.prompt.count + $1.chosen.count + $1.rejected.count }
        report.lossTokens = examples.reduce(0) { $0 + $1.chosen.count + $1.rejected.count }
        guard !examples.isEmpty else {
            throw AlignDataError(.malformed, path: source,
                                 "no preference pairs: all \(records.count) records were dropped (\(report.identicalPairs) identical pairs, "
                                     + "\(DatasetFile.describeCounts(report.dropped)))")
        }
        return PreferenceDataset(examples: examples, report: report)
    }

    /// The Stanford Alpaca prompt as messages for `ChatTemplate.alpaca`, which renders
    /// `{preamble}\n\n### Instruction:\n{instruction}[\n\n### Input:\n{input}]\n\n### Response:\n{output}{eos}`.
    public static func alpacaMessages(instruction: String, input: String, output: String, preamble: Bool = true) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        if preamble {
            messages.append(.system(input.isEmpty
                    ? "Below is an instruction that describes a task. Write a response that appropriately completes the request."
                    : "Below is an instruction that describes a task, paired with an input that provides further context. "
                    + "Write a response that appropriately completes the request."))
        }
        messages.append(.user(input.isEmpty ? instruction : instruction + "\n\n### Input:\n" + input))
        messages.append(.assistant(output))
        return messages
    }

    /// Raw-text windows over `stream` (see `sftExamples`). A window of a single token
    /// (possible only without overlap) has nothing to learn and is left out.
    public static func windows(_ stream: [Int], maxLength: Int, stride: Int) -> [SFTExample] {
        precondition(maxLength >= 2 && (1 ... maxLength).contains(stride), "windows: need maxLength ≥ 2 and 1 ≤ stride ≤ maxLength")
        var out: [SFTExample] = []
        var start = 0
        var covered = 0  // tokens before this index are targets of an earlier window
        let n = stream.count
        while start < n {
            let end = min(start + maxLength, n)
            if end - start >= 2 {
                out.append(SFTExample(ids: Array(stream[start ..< end]), lossMask: (start ..< end).map { $0 >= covered }))
            }
            if end == n { break }
            covered = end
            start += stride
        }
        return out
    }
}

/// Prompt / response split of an SFT sequence, before truncation.
struct SFTSegments {
    var prompt: [Int]
    var promptMask: [Bool]
    var response: [Int]
    var responseMask: [Bool]
}

/// The kept prompt range and response length for a sequence of `prompt.count` prompt
/// tokens followed by responses of the given lengths (each row = prompt + one response).
func truncationPlan(prompt: Range<Int>, responses: [Int], maxLength: Int, side: TruncationSide)
    -> (kept: (prompt: Range<Int>, response: Int), truncated: Bool) {
    let longest = responses.max() ?? 0
    let promptCount = prompt.count
    if promptCount + longest <= maxLength { return ((prompt, longest), false) }
    let minimumPrompt = min(promptCount, 1)
    let keepPrompt: Int, keepResponse: Int
    if longest <= maxLength - minimumPrompt {
        keepPrompt = maxLength - longest
        keepResponse = longest
    } else {
        keepPrompt = minimumPrompt
        keepResponse = maxLength - minimumPrompt
    }
    let range = side == .left ? prompt.upperBound - keepPrompt ..< prompt.upperBound : prompt.lowerBound ..< prompt.lowerBound + keepPrompt
    return ((range, keepResponse), true)
}

/// Tokenisation helpers shared by the SFT and preference paths.
struct RecordTokenizer {
    let tokenizer: Tokenizer
    let options: TokenizationOptions
    let source: String

    func encode(_ text: String) -> [Int] { tokenizer.encode(text, addSpecialTokens: false) }

    func eosID() throws -> Int {
        guard let id = tokenizer.eosTokenID else {
            throw AlignDataError(.invalidArgument, path: "", "the tokenizer (\(tokenizer.source)) has no EOS token to end completions")
        }
        return id
    }

    func template() throws -> ChatTemplate {
        if let t = try options.chatTemplate ?? ChatTemplate.model(tokenizer) { return t }
        throw AlignDataError(.invalidArgument, path: "",
                             "conversational records need a chat template, and the tokenizer (\(tokenizer.source)) has none; "
                                 + "set TokenizationOptions.chatTemplate")
    }

    /// `ChatTemplate.render` with the tokenizer's special tokens, as `ChatTemplate.encode`.
    func render(_ messages: [ChatMessage], template: ChatTemplate, addGenerationPrompt: Bool = false) throws -> RenderedChat {
        try template.render(messages, addGenerationPrompt: addGenerationPrompt, tokenizer: tokenizer)
    }

    /// A conversation tokenised as one string (like `ChatTemplate.encode`); the loss mask
    /// covers the tokens overlapping `lossRanges(assistantRanges)`, and the response starts
    /// at the first token overlapping `responseRange(assistantRanges)`.
    func conversation(_ messages: [ChatMessage], template: ChatTemplate,
                      lossRanges: ([Range<Int>]) -> [Range<Int>],
                      responseRange: ([Range<Int>]) -> Range<Int>) throws -> SFTSegments {
        let rendered = try render(messages, template: template)
        let (ids, offsets) = tokenizer.encodeWithOffsets(rendered.text, addSpecialTokens: false)
        let mask = overlapMask(offsets, lossRanges(rendered.assistantRanges))
        let response = responseRange(rendered.assistantRanges)
        let start = offsets.firstIndex { !$0.isEmpty && $0.upperBound > response.lowerBound } ?? ids.count
        return SFTSegments(prompt: Array(ids[..<start]), promptMask: Array(mask[..<start]),
                           response: Array(ids[start...]), responseMask: Array(mask[start...]))
    }

    /// The tokens of a conversational response: the rendering of prompt + response minus the
    /// rendered prompt with its generation prompt, to the end of the rendered text.
    func responseIDs(prompt: [ChatMessage], promptText: String, response: [ChatMessage], template: ChatTemplate) throws -> [Int] {
        let full = try render(prompt + response, template: template)
        let bytes = Array(full.text.utf8)
        let promptBytes = promptText.utf8.count
        guard bytes.starts(with: promptText.utf8), let last = full.assistantRanges.last, last.upperBound >= promptBytes else {
            throw AlignDataError(.invalidArgument, path: "",
                                 "\(template.name) chat template does not render the prompt as a prefix of prompt + response")
        }
        return encode(String(decoding: bytes[promptBytes...], as: UTF8.self))
    }
}

/// True for each token whose (non-empty) byte range overlaps one of `ranges` (sorted).
func overlapMask(_ offsets: [Range<Int>], _ ranges: [Range<Int>]) -> [Bool] {
    var mask = [Bool](repeating: false, count: offsets.count)
    var r = 0
    for (i, span) in offsets.enumerated() where !span.isEmpty {
        while r < ranges.count && ranges[r].upperBound <= span.lowerBound { r += 1 }
        if r < ranges.count && ranges[r].lowerBound < span.upperBound { mask[i] = true }
    }
    return mask
}

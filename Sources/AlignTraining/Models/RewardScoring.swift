import AlignData
import AlignNN
import AlignTensor
import Foundation

/// `align rm score`: rewards for the lines of a JSONL file.
///
/// Each non-blank line is either `{"prompt", "response"}` (strings, or message lists with the
/// response starting with an assistant turn) or a preference pair (`{"prompt", "chosen",
/// "rejected"}` or implicit-prompt `{"chosen", "rejected"}`, as in training data), in any mix.
/// Every prompt+response is tokenised exactly as `align rm` tokenises a training pair's rows
/// (`DatasetFile.preferenceExamples`: text gets the tokenizer's prefix and an EOS after the
/// response; conversations go through the chat template), on its own, truncated to
/// `maxSeqLen` (prompt first, from the left).
public enum RewardScoring {
    /// One input line.
    public enum Item {
        case single(prompt: DatasetContent, response: DatasetContent)
        case pair(PreferenceRecord)
    }

    /// Parses `data` (the file `source`); errors are `source:line: problem`.
    public static func parse(_ data: Data, source: String) throws -> [(line: Int, item: Item)] {
        var out: [(line: Int, item: Item)] = []
        let bytes = [UInt8](data)
        var lineNo = 0
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNo += 1
            var lineBytes = Array(raw)
            if lineNo == 1, lineBytes.starts(with: [0xEF, 0xBB, 0xBF]) { lineBytes.removeFirst(3) }
            if lineBytes.last == 0x0D { lineBytes.removeLast() }
            let text = String(decoding: lineBytes, as: UTF8.self)
            if text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let location = "\(source):\(lineNo)"
            guard let object = (try? JSONSerialization.jsonObject(with: Data(lineBytes), options: [.fragmentsAllowed])) as? [String: Any] else {
                throw AlignDataError(.malformed, path: location, "expected one JSON object per line ({\"prompt\", \"response\"} or {\"prompt\", \"chosen\", \"rejected\"})")
            }
            do {
                if object["chosen"] != nil || object["rejected"] != nil {
                    let file = try DatasetFile.parse(Data(lineBytes), source: location, format: .preference)
                    guard case .preference(let pair) = file.records[0] else { throw AlignDataError(.malformed, path: location, "not a preference pair") }
                    out.append((lineNo, .pair(pair)))
                } else if object["prompt"] != nil, let response = object["response"] {
                    // {"prompt", "response"} is TRL's prompt_completion shape under another name
                    let record: [String: Any] = ["prompt": object["prompt"]!, "completion": response]
                    let file = try DatasetFile.parse(try JSONSerialization.data(withJSONObject: record), source: location, format: .promptCompletion)
                    guard case .promptCompletion(let p, let r) = file.records[0] else { throw AlignDataError(.malformed, path: location, "not a prompt/response") }
                    out.append((lineNo, .single(prompt: p, response: r)))
                } else {
                    let keys = object.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
                    throw AlignDataError(.malformed, path: location,
                                         "expected {\"prompt\", \"response\"} or a preference pair {\"prompt\", \"chosen\", \"rejected\"}; found keys [\(keys)]")
                }
            } catch let e as AlignDataError {
                // the record parser names `location:1`; keep the file's own line
                throw AlignDataError(e.kind, path: location, e.message)
            }
        }
        guard !out.isEmpty else { throw AlignDataError(.malformed, path: source, "no lines to score") }
        return out
    }

    /// The token ids of prompt + response as a training row would have them.
    public static func tokenize(prompt: DatasetContent, response: DatasetContent, tokenizer: Tokenizer,
                                options: TokenizationOptions, location: String) throws -> [Int] {
        // preferenceExamples tokenises a pair's responses independently; a different one-character
        // sentinel "rejected" response makes a valid pair whose chosen row is ours (a sentinel no
        // longer than the response leaves the truncation of our row unchanged; an empty response
        // is dropped as bad input)
        let sentinel: DatasetContent
        switch response {
        case .text(let r): sentinel = .text(r == "x" ? "y" : "x")
        case .conversation(let m):
            let content = m.first { $0.role == "assistant" }?.content ?? ""
            sentinel = .conversation([.assistant(content == "x" ? "y" : "x")])
        }
        let record = PreferenceRecord(prompt: prompt, chosen: response, rejected: sentinel)
        do {
            let file = try DatasetFile(records: [.preference(record)], source: location)
            let set = try file.preferenceExamples(tokenizer: tokenizer, options: options)
            let e = set.examples[0]
            return e.prompt + e.chosen
        } catch let e as AlignDataError {
            throw AlignDataError(e.kind, path: location, e.message)
        }
    }

    /// Scores every line; returns one JSON object per line, in order:
    /// - `{"line", "reward"}` (+ `"std"` and `"rewards"` (per head) for an ensemble),
    /// - pairs: `{"line", "chosen_reward", "rejected_reward", "margin", "chosen_wins"}`
    ///   (+ `"chosen_std"`, `"rejected_std"` for an ensemble),
    /// and with `includeIDs` the token ids (`input_ids`, or `chosen_input_ids` and
    /// `rejected_input_ids`), e.g. for comparing with transformers (`scripts/rm_check_hf.py`).
    public static func score(_ loaded: LoadedRewardModel, input data: Data, source: String, maxSeqLen: Int? = nil,
                             batchSize: Int = 8, includeIDs: Bool = false) throws -> [[String: Any]] {
        guard let tokenizer = loaded.tokenizer else {
            throw AlignDataError(.notFound, path: loaded.backbone.source.path, "no tokenizer.json in the reward model directory")
        }
        let items = try parse(data, source: source)
        let context = loaded.model.backbone.config.contextLength
        let maxLen = maxSeqLen ?? context
        guard maxLen >= 2 && maxLen <= context else {
            throw AlignDataError(.invalidArgument, path: "", "max_seq_len \(maxLen) must be in 2…\(context) (the model's context length)")
        }
        let detected = try ChatTemplate.model(tokenizer)
        let template = (detected != nil && (loaded.chatTemplate == nil || detected!.family == loaded.chatTemplate!.family))
            ? detected! : (loaded.chatTemplate ?? .chatml)
        let options = TokenizationOptions(maxSeqLen: maxLen, chatTemplate: template)
        var sequences: [[Int]] = []
        for (line, item) in items {
            let location = "\(source):\(line)"
            switch item {
            case .single(let p, let r):
                sequences.append(try tokenize(prompt: p, response: r, tokenizer: tokenizer, options: options, location: location))
            case .pair(let pair):
                sequences.append(try tokenize(prompt: pair.prompt, response: pair.chosen, tokenizer: tokenizer, options: options, location: location))
                sequences.append(try tokenize(prompt: pair.prompt, response: pair.rejected, tokenizer: tokenizer, options: options, location: location))
            }
        }
        let scores = loaded.model.score(sequences, batchSize: batchSize)
        let ensemble = loaded.model.numHeads > 1
        var out: [[String: Any]] = []
        var k = 0
        for (line, item) in items {
            var o: [String: Any] = ["line": line]
            switch item {
            case .single:
                let s = scores[k]
                o["reward"] = Double(s.reward)
                if ensemble { o["std"] = Double(s.std); o["rewards"] = s.heads.map(Double.init) }
                if includeIDs { o["input_ids"] = sequences[k] }
                k += 1
            case .pair:
                let c = scores[k], r = scores[k + 1]
                o["chosen_reward"] = Double(c.reward)
                o["rejected_reward"] = Double(r.reward)
                o["margin"] = Double(c.reward - r.reward)
                o["chosen_wins"] = c.reward > r.reward
                if ensemble {
                    o["chosen_std"] = Double(c.std); o["rejected_std"] = Double(r.std)
                    o["chosen_rewards"] = c.heads.map(Double.init); o["rejected_rewards"] = r.heads.map(Double.init)
                }
                if includeIDs { o["chosen_input_ids"] = sequences[k]; o["rejected_input_ids"] = sequences[k + 1] }
                k += 2
            }
            out.append(o)
        }
        return out
    }

    /// JSON Lines text of `objects` (keys sorted).
    public static func jsonLines(_ objects: [[String: Any]]) throws -> String {
        try objects.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) }
            .joined(separator: "\n") + "\n"
    }
}

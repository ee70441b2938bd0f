import AlignData
import AlignNN
import AlignTraining
import Foundation
import IFEval

/// `align eval --task ifeval`: greedy answers to IFEval-format prompts
/// (`{"key", "prompt", "instruction_id_list", "kwargs"}`) with the model's chat template, scored
/// by IFEval's checks (the `IFEval` library): strict and loose accuracy at prompt and
/// instruction level, a table per instruction id, the share of degenerate answers, and with
/// `--json` every answer and verdict.
extension EvalCommand {
    /// IFEval's answers need room: its length instructions ask for up to a few hundred words
    /// (≈ 1.3 tokens a word with SmolLM2's tokenizer), so 512 tokens holds an answer of 300+
    /// words; lm-evaluation-harness allows 1,280, which costs 2.5× the decoding on a CPU for
    /// the few answers that long.
    static let ifevalMaxNewTokens = 512

    func runIFEval() throws {
        let records: [IFEvalRecord]
        do { records = try IFEvalRecord.read(input) } catch let e as IFEvalRecord.ReadError { throw AlignDataError(.invalidArgument, path: "", e.message) }
        let (loaded, tokenizer) = try model.load()
        let limit = maxNewTokens ?? Self.ifevalMaxNewTokens
        let started = Date()
        let sequences = try greedyGenerations(model: loaded.model, tokenizer: tokenizer, prompts: records.map(\.prompt), chat: chat,
                                              maxNewTokens: limit, batchSize: batchSize, label: "ifeval")
        let seconds = Date().timeIntervalSince(started)
        var summary = IFEvalSummary()
        var quality = AnswerQuality.Rates()
        var rows: [[String: Any]] = []
        var shown: [(record: IFEvalRecord, answer: String, verdicts: [IFEvalVerdict])] = []
        for (record, seq) in zip(records, sequences) {
            let answer = tokenizer.decode(seq.tokens, skipSpecialTokens: true)
            let verdicts = IFEvalScoring.verdicts(answer, record.instructions)
            if shown.count < show { shown.append((record, answer, verdicts)) }
            summary.add(verdicts)
            let flags = AnswerQuality.flags(answer, truncated: seq.finishReason != .stopToken)
            quality.add(flags, tokens: seq.tokens.count)
            if json {
                rows.append(["key": record.key, "prompt": record.prompt, "response": answer, "tokens": seq.tokens.count,
                             "finish_reason": seq.finishReason.rawValue,
                             "instruction_id_list": verdicts.map(\.id.rawValue), "strict": verdicts.map(\.strict), "loose": verdicts.map(\.loose),
                             "prompt_strict": verdicts.allSatisfy(\.strict), "prompt_loose": verdicts.allSatisfy(\.loose),
                             "degenerate": flags.degenerate])
            }
        }
        let generatedTokens = sequences.map(\.tokens.count).reduce(0, +)
        if json {
            var table: [String: Any] = [:]
            for (id, row) in summary.perInstruction {
                table[id.rawValue] = ["count": row.count, "strict": Double(row.strict) / Double(row.count), "loose": Double(row.loose) / Double(row.count)]
            }
            try printJSON(["prompts": summary.prompts, "instructions": summary.instructions,
                           "prompt_level_strict": summary.promptStrictAccuracy, "prompt_level_loose": summary.promptLooseAccuracy,
                           "instruction_level_strict": summary.instructionStrictAccuracy, "instruction_level_loose": summary.instructionLooseAccuracy,
                           "per_instruction": table, "max_new_tokens": limit,
                           "mean_tokens": quality.meanTokens, "degenerate": quality.share(quality.degenerate), "empty": quality.share(quality.empty),
                           "truncated": quality.share(quality.truncated), "repetitive": quality.share(quality.repetitive),
                           "seconds": seconds, "tokens_per_second": Double(generatedTokens) / max(seconds, 1e-9), "answers": rows])
            return
        }
        for (record, answer, verdicts) in shown {
            let marks = verdicts.map { "\($0.strict ? "✓" : "✗") \($0.id.rawValue)" }.joined(separator: ", ")
            let text = answer.count > 160 ? String(answer.prefix(160)) + "…" : answer
            print("  [\(marks)] \(record.prompt.prefix(80).replacingOccurrences(of: "\n", with: " ")) → \(text.replacingOccurrences(of: "\n", with: "⏎"))")
        }
        print("instruction                                     n   strict  loose")
        for id in IFEvalInstruction.ID.allCases {
            guard let row = summary.perInstruction[id] else { continue }
            print(String(format: "%@ %4d  %5.1f%%  %5.1f%%", id.rawValue.padding(toLength: 45, withPad: " ", startingAt: 0), row.count,
                         100 * Double(row.strict) / Double(row.count), 100 * Double(row.loose) / Double(row.count)))
        }
        print(String(format: "prompt-level strict %.1f%%  loose %.1f%%   instruction-level strict %.1f%%  loose %.1f%%   (%d prompts, %d instructions)",
                     100 * summary.promptStrictAccuracy, 100 * summary.promptLooseAccuracy, 100 * summary.instructionStrictAccuracy,
                     100 * summary.instructionLooseAccuracy, summary.prompts, summary.instructions))
        print(String(format: "answers: %.1f tokens on average (limit %d); degenerate %.1f%% (empty %.1f%%, cut at the limit %.1f%%, looping %.1f%%); %.0f s, %.1f tok/s",
                     quality.meanTokens, limit, 100 * quality.share(quality.degenerate), 100 * quality.share(quality.empty),
                     100 * quality.share(quality.truncated), 100 * quality.share(quality.repetitive), seconds,
                     Double(generatedTokens) / max(seconds, 1e-9)))
    }
}

/// Greedy generations for `prompts` (chat-templated when `chat`), in batches of prompts of
/// similar length (less padding), returned in the prompts' order, with progress on standard
/// error.
func greedyGenerations(model: any CausalLM, tokenizer: Tokenizer, prompts: [String], chat: Bool, maxNewTokens: Int, batchSize: Int,
                       label: String) throws -> [GeneratedSequence] {
    let config = GenerationConfig(maxNewTokens: maxNewTokens, stopTokenIDs: stopTokenIDs(model, tokenizer), padTokenID: tokenizer.padTokenID)
    let ids = try promptIDs(prompts, tokenizer: tokenizer, chat: chat)
    let order = ids.indices.sorted { (ids[$0].count, $0) < (ids[$1].count, $1) }
    var out = [GeneratedSequence?](repeating: nil, count: prompts.count)
    let progress = EvalProgress(label, total: prompts.count)
    var done = 0, tokens = 0
    let started = Date()
    progress.update(0)
    var i = 0
    while i < order.count {
        let chunk = Array(order[i..<min(i + batchSize, order.count)])
        i += chunk.count
        let result = try generate(model: model, prompts: chunk.map { ids[$0] }, config: config)
        for (k, seq) in zip(chunk, result.sequences) { out[k] = seq }
        done += chunk.count
        tokens += result.sequences.map(\.tokens.count).reduce(0, +)
        progress.update(done, detail: String(format: "%.1f tok/s", Double(tokens) / max(Date().timeIntervalSince(started), 1e-9)))
    }
    return out.map { $0! }
}

import AlignData
import AlignNN
import AlignTraining
import ArgumentParser
import Foundation

/// `align clean`: drops noisy, near-duplicate and already-learned preference pairs (seed 000,
/// `PreferenceCleaning`) and writes the kept lines of a JSONL file unchanged.
struct CleanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "Filter preference pairs: reward-model margin, chosen/rejected similarity, and pairs the policy already separates.",
        discussion: """
        A pair is dropped by the first rule it fails: (1) margin: the reward model's r(chosen) − r(rejected) < --min-margin \
        (needs --reward-model); (2) similar: the cosine similarity of the chosen and rejected responses' embeddings \
        (the policy's final hidden states averaged over the response) > --max-similarity; (3) learned: \
        |logπ(chosen) − logπ(rejected)| > --max-logp-gap under the policy (2 and 3 need --model). Pairs that cannot be \
        tokenised into a preference (empty or identical responses, too long) are dropped as unusable. \
        Kept lines are written unchanged, in order.
        """)

    @Option(help: "Preference pairs, JSONL ({\"prompt\", \"chosen\", \"rejected\"} in TRL's forms).") var input: String
    @Option(help: "Where to write the kept lines (JSONL, replaced atomically).") var output: String
    @Option(help: "The policy (similarity and log-probability rules).") var model: String?
    @Option(help: "A reward model (align rm) for the margin rule.") var rewardModel: String?
    @Option(parsing: .unconditional, help: "Drop pairs whose reward margin is below this.") var minMargin: Double = 0.5
    @Option(parsing: .unconditional, help: "Drop pairs whose responses' embeddings are more similar than this.") var maxSimilarity: Double = 0.9
    @Option(parsing: .unconditional, help: "Drop pairs whose log-probabilities under the policy differ by more than this.") var maxLogpGap: Double = 2.0
    @Option(help: "Also write the dropped lines here, each with its \"_dropped\" reason.") var dropped: String?
    @Option(parsing: .unconditional, help: "Longest prompt + response in tokens (default: the model's context).") var maxSeqLen: Int?
    @Option(parsing: .unconditional, help: "Pairs per batch.") var batchSize = 8
    @Flag(help: "Print the counts as one JSON object.") var json = false

    func validate() throws {
        guard FileManager.default.fileExists(atPath: input) else { throw ValidationError("--input \(input): no such file") }
        guard model != nil || rewardModel != nil else { throw ValidationError("give --model (similarity and log-probability rules), --reward-model (margin rule), or both") }
        for path in [model, rewardModel].compactMap({ $0 }) where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(path): no such file or directory")
        }
        try OutputPaths.check(inputs: [("--input", input), ("--model", model), ("--reward-model", rewardModel)],
                              outputs: [OutputPaths.Output.file("--output", output)] + (dropped.map { [OutputPaths.Output.file("--dropped", $0)] } ?? []))
        guard maxSimilarity > -1, batchSize >= 1 else { throw ValidationError("--max-similarity must be > -1 and --batch-size ≥ 1") }
    }

    func run() throws {
        let policy = try model.map { try ModelStore.load($0) }
        let rm = try rewardModel.map { try RewardModelStore.load($0) }
        let tokenizer: Tokenizer
        if let model { tokenizer = try ModelStore.loadTokenizer(model) } else if let t = rm?.tokenizer { tokenizer = t } else {
            throw ValidationError("--reward-model \(rewardModel!): no tokenizer saved with it; give --model too")
        }
        if let p = policy, let r = rm, p.model.config.vocabSize != r.model.backbone.config.vocabSize {
            throw ValidationError("--model and --reward-model have vocabularies of \(p.model.config.vocabSize) and \(r.model.backbone.config.vocabSize) tokens; they must match")
        }
        if model != nil, let theirs = rm?.tokenizer {
            try tokenizer.requireSameVocabulary(theirs, name: "--reward-model", path: rewardModel!, role: "the reward model")
        }
        let file = try DatasetFile.read(URL(fileURLWithPath: input), format: .preference)
        let text = try FileErrors.readText(input).split(separator: "\n", omittingEmptySubsequences: false)
        guard file.lines.allSatisfy({ $0 > 0 && $0 <= text.count }), Set(file.lines).count == file.lines.count else {
            throw ValidationError("\(input): align clean reads JSONL, one pair per line")
        }
        let context = policy?.model.config.contextLength ?? rm!.model.backbone.config.contextLength
        let template = try ChatTemplate.resolve(rm?.chatTemplate, tokenizer: tokenizer)
        let options = TokenizationOptions(maxSeqLen: maxSeqLen ?? context, chatTemplate: template)
        // one record at a time, so every example knows its line
        var pairs: [PreferenceExample] = [], pairLines: [Int] = [], unusable: [Int] = []
        for (record, line) in zip(file.records, file.lines) {
            let single = try DatasetFile(records: [record], source: input, lines: [line])
            if let example = try single.preferenceExamples(tokenizer: tokenizer, options: options).examples.first {
                pairs.append(example)
                pairLines.append(line)
            } else {
                unusable.append(line)
            }
        }
        var rules = PreferenceCleaning.Rules()
        rules.minMargin = minMargin
        rules.maxSimilarity = maxSimilarity
        rules.maxLogProbGap = maxLogpGap
        let margins = rm.map { r -> [Double] in
            let scores = r.model.score(pairs.flatMap { [$0.prompt + $0.chosen, $0.prompt + $0.rejected] }, batchSize: batchSize)
            return (0..<pairs.count).map { Double(scores[2 * $0].reward - scores[2 * $0 + 1].reward) }
        }
        let similarities = policy.map { PreferenceCleaning.similarities(pairs, model: $0.model) }
        let gaps = policy.map { PreferenceCleaning.logProbGaps(pairs, model: $0.model, padID: Batch.padID(for: tokenizer), batchSize: batchSize) }
        let verdicts = PreferenceCleaning.verdicts(margins: margins, similarities: similarities, logProbGaps: gaps, count: pairs.count, rules: rules)
        var verdictByLine: [Int: String] = [:]
        for (line, v) in zip(pairLines, verdicts) { verdictByLine[line] = v.rawValue }
        for line in unusable { verdictByLine[line] = "unusable" }
        var kept = "", droppedText = ""
        for line in file.lines {
            let raw = String(text[line - 1])
            if verdictByLine[line] == "kept" {
                kept += raw + "\n"
            } else if var obj = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any] {
                obj["_dropped"] = verdictByLine[line] ?? "unusable"
                droppedText += String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) + "\n"
            }
        }
        try writeFileAtomically(Data(kept.utf8), to: URL(fileURLWithPath: output))
        if let dropped { try writeFileAtomically(Data(droppedText.utf8), to: URL(fileURLWithPath: dropped)) }
        var counts: [String: Int] = [:]
        for v in verdictByLine.values { counts[v, default: 0] += 1 }
        let applied = [rm != nil ? "margin" : nil, policy != nil ? "similar" : nil, policy != nil ? "learned" : nil].compactMap { $0 }
        if json {
            let obj: [String: Any] = ["pairs": file.records.count, "kept": counts["kept"] ?? 0, "dropped": counts.filter { $0.key != "kept" },
                                      "rules": applied, "output": output]
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]), as: UTF8.self))
            return
        }
        let droppedSummary = ["margin", "similar", "learned", "unusable"].map { "\($0) \(counts[$0] ?? 0)" }.joined(separator: ", ")
        print("\(file.records.count) pairs: kept \(counts["kept"] ?? 0), dropped \(droppedSummary) (rules applied: \(applied.joined(separator: ", "))); wrote \(output)")
    }
}

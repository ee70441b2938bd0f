import AlignData
import Foundation

extension RunConfig {
    /// What a run writes inside `output_dir`.
    public static let outputEntries = ["run.json", "metrics.jsonl", "summary.json", "checkpoints", "final",
                                       "reference_logps.json", "reference_logps_eval.json", RunDirectoryLock.fileName]

    /// The checks of `checkOutputDirectory()` beyond earlier checkpoints: a finished run without
    /// checkpoints (its `final/` would be replaced, leaving stale files such as `final/adapter/`
    /// beside the new model), and inputs (the model, the reference, the tokenizer, the data) that
    /// lie in what the run writes (`output_dir/final`, …) or are `output_dir` itself. Each issue
    /// names the line of its key.
    func outputDirectoryIssues() -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        func origin(_ key: String) -> ConfigOrigin { origins[key] ?? origins["output_dir"] ?? .file(configFile, line: 1) }
        let output = OutputPaths.Output.directory("output_dir", outputDir.path, writes: Self.outputEntries)
        var inputs: [(String, String?)] = [("model.reference", model.reference)]
        switch model.source {
        case .path(let p): inputs.insert(("model.path", p), at: 0)
        case .initialize(let spec): inputs.insert(("model.init.tokenizer", spec.tokenizer), at: 0)
        }
        for (i, source) in data.train.enumerated() { inputs.append((data.isMixture ? "data.train[\(i)].path" : "data.train", source.path)) }
        inputs.append(("data.eval", data.eval))
        for (key, path) in inputs {
            guard let path else { continue }
            do {
                try OutputPaths.check(inputs: [(key, path)], outputs: [output])
            } catch let e as AlignDataError {
                let originKey = origins[key] != nil ? key : (key.hasPrefix("data.train") ? "data.train" : key)
                issues.append(ConfigIssue(origin(originKey), "\(key): \(e.message)"))
            } catch {}
        }
        guard Checkpoint.list(outputDir).isEmpty else { return issues }
        let fm = FileManager.default
        let finished = ["final", "summary.json"].filter { fm.fileExists(atPath: outputDir.appendingPathComponent($0).path) }
        if !finished.isEmpty {
            let what = finished.map { $0 == "final" ? "final/" : $0 }.joined(separator: " and ")
            let resumeNote = resumeFrom == .latest ? " and no checkpoint to resume from" : " and no checkpoints"
            issues.append(ConfigIssue(origin("output_dir"),
                "output_dir: \(ConfigJSONWriter.quote(outputDir.path)) already holds a finished run (\(what))\(resumeNote); "
                    + "a new run would replace its final model; choose a new output_dir (or remove the old run)"))
        }
        return issues
    }
}

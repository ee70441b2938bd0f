import AlignData
import AlignNN
import AlignTraining
import Foundation

/// The prompt data of an online trainer (`align ppo`, `align bon`): one prompt file (and an eval
/// file or `eval_fraction`), read before the model so file errors come first, then encoded
/// through the chat template and checked against the model's context with room for the responses.
package struct OnlinePrompts {
    package var train: [PromptRecord]
    package var trainIDs: [[Int]]
    package var eval: [PromptRecord]
    package var evalIDs: [[Int]]

    /// Reads the files named by `data.train` / `data.eval` (no model needed); `notes`: what the
    /// reward's rules found worth saying about them (records a `match` rule cannot score).
    package typealias Files = (train: [PromptRecord], eval: [PromptRecord], trainPath: String, evalPath: String, notes: [String])

    /// With `reward`, its rules check the records they read (`RuleReward.checkRecords`).
    package static func read(_ config: RunConfig, trainer: String, reward: RewardSettings? = nil) throws -> Files {
        let data = config.data
        guard data.train.count == 1 else {
            throw ModelConfigError("data.train: align \(trainer) reads one prompt file; mixtures of \(data.train.count) files are not supported")
        }
        let trainPath = data.train[0].path
        let train = try PromptDataset.read(URL(fileURLWithPath: trainPath))
        var eval: [PromptRecord] = []
        if let path = data.eval { eval = try PromptDataset.read(URL(fileURLWithPath: path)) }
        var notes: [String] = []
        if let reward {
            notes += try RuleReward.checkRecords(reward.rules, train, path: trainPath)
            if let path = data.eval { notes += try RuleReward.checkRecords(reward.rules, eval, path: path) }
        }
        return (train, eval, trainPath, data.eval ?? trainPath, notes)
    }

    /// Holds out `eval_fraction` when there is no eval file, and encodes every prompt; a prompt
    /// that leaves no room for `maxNewTokens` within `data.max_seq_len` and the model's context
    /// is an error naming its line.
    package static func prepare(_ files: Files, config: RunConfig, run: TrainerRun, trainer: String, maxNewTokens: Int,
                        minimumPrompts: Int) throws -> OnlinePrompts {
        var (train, eval, trainPath, evalPath, _) = files
        if config.data.eval == nil { (train, eval) = try run.holdOut(train) }
        guard train.count >= minimumPrompts else {
            throw AlignDataError(.invalidArgument, path: trainPath, "holds \(train.count) training prompts, fewer than one round needs (\(minimumPrompts))")
        }
        let template = try run.chatTemplate
        // a prompt and its response are one example: data.max_seq_len holds them, as every
        // trainer's examples, within the model's context
        let context = run.model.config.contextLength, limit = min(context, config.data.maxSeqLen)
        let what = limit < context ? "data.max_seq_len \(limit) (prompt + response; the model's context length is \(context))"
                                   : "the model's context length \(context)"
        func encode(_ records: [PromptRecord], file: String) throws -> [[Int]] {
            try records.map { r in
                let ids = try PromptEncoding.ids(r.prompt, tokenizer: run.tokenizer, template: template)
                guard !ids.isEmpty else { throw AlignDataError(.invalidArgument, path: "\(file):\(r.line)", "the prompt encodes to no tokens") }
                guard ids.count + maxNewTokens <= limit else {
                    throw AlignDataError(.invalidArgument, path: "\(file):\(r.line)",
                                         "the prompt is \(ids.count) tokens; with \(trainer).max_new_tokens \(maxNewTokens) that exceeds \(what)")
                }
                return ids
            }
        }
        return OnlinePrompts(train: train, trainIDs: try encode(train, file: trainPath), eval: eval, evalIDs: try encode(eval, file: evalPath))
    }

    /// Where responses end: the model config's EOS ids and the tokenizer's EOS.
    package static func stopTokens(_ run: TrainerRun) throws -> [Int] {
        var stops = run.model.config.eosTokenIDs
        if let eos = run.tokenizer.eosTokenID, !stops.contains(eos) { stops.append(eos) }
        guard !stops.isEmpty else {
            throw ModelConfigError("the model has no EOS token (config eos_token_id, tokenizer eos): responses could never end before max_new_tokens")
        }
        return stops
    }

    /// Gives `reward` the ids its reward model reads after a reply that ended with a stop token
    /// (`ChatTemplate.turnSuffixIDs`), and checks that the longest prompt, `maxNewTokens` and
    /// those ids fit the reward model's context (an error naming the prompt's line otherwise).
    package func prepareRewardModel(_ reward: RewardFunction, run: TrainerRun, stopTokens: [Int], maxNewTokens: Int,
                                    trainer: String, files: Files) throws {
        guard let rm = reward.rewardModel else { return }
        reward.turnSuffix = try run.chatTemplate.turnSuffixIDs(tokenizer: run.tokenizer, stopTokens: stopTokens)
        let context = rm.model.backbone.config.contextLength
        for (ids, records, path) in [(trainIDs, train, files.trainPath), (evalIDs, eval, files.evalPath)] {
            for (i, p) in ids.enumerated() where p.count + maxNewTokens + reward.turnSuffix.count > context {
                throw AlignDataError(.invalidArgument, path: "\(path):\(records[i].line)",
                                     "the prompt is \(p.count) tokens; with \(trainer).max_new_tokens \(maxNewTokens) and the \(reward.turnSuffix.count) end-of-turn token(s) the reward model reads, that exceeds its context length \(context)")
            }
        }
    }

    /// A checkpoint's prompt cursor must be over the same number of prompts as the data.
    package static func checkResume(_ cursor: EpochCursor, prompts: Int) throws {
        guard cursor.count == prompts else {
            throw AlignDataError(.invalidArgument, path: "", "cannot resume: the checkpoint was written for \(cursor.count) prompts, the data has \(prompts)")
        }
    }
}

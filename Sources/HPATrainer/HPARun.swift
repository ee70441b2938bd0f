import AlignData
import AlignNN
import AlignOnline
import AlignTensor
import AlignTraining
import DPOTrainer
import Foundation

/// `align hpa --config run.json`: prompts (`data.train`), offline pairs (`hpa.preferences`) and
/// the reward, all checked before anything is written, then `HPAObjective` in the shared loop →
/// `final/` (LoRA merged unless `lora.merge` is false) and `samples.jsonl`.
public enum HPARun {
    @discardableResult
    public static func run(config: RunConfig, callback: @escaping TrainingCallback) throws -> [String: Any] {
        let hpa = config.trainerConfig(HPAConfig.self)
        let promptsPerStep = config.batchSize * config.gradAccum
        let setup = try OnlineSetup.prepare(config, callback: callback, trainer: "hpa", reward: hpa.reward, maxNewTokens: hpa.sampling.maxNewTokens,
                                            minimumPrompts: promptsPerStep)
        let (run, reward, policy, data, padID) = (setup.run, setup.reward, setup.run.model, setup.data, setup.padID)
        defer { reward.close() }
        let reference = try ReferenceSource.frozen(for: run, orElse: " (the KL terms need one)")

        // the offline pairs and their reference log-probs
        var offline: DPOObjective?
        var pairCounts = (train: 0, eval: 0)
        if let path = hpa.preferences {
            if hpa.dpoWeight == 0 {
                callback(.message("hpa.dpo_weight is 0: the pairs in \(path) are not used"))
            } else {
                try run.checkSequenceLength()
                let options = TokenizationOptions(maxSeqLen: config.data.maxSeqLen, completionOnlyLoss: true, truncationSide: config.data.truncationSide,
                                                  chatTemplate: try run.chatTemplate)
                let trainSet = try run.preferencePairs(path, trainer: "hpa", options: options, readAsPreference: true)
                callback(.message("preference pairs \(trainSet.report)"))
                var train = trainSet.examples, eval: [PreferenceExample] = []
                if let evalPath = hpa.preferencesEval {
                    let set = try run.preferencePairs(evalPath, trainer: "hpa", options: options, readAsPreference: true)
                    callback(.message("held-out pairs \(set.report)"))
                    eval = set.examples
                } else {
                    (train, eval) = try run.holdOut(train)
                }
                guard train.count >= config.batchSize else {
                    throw AlignDataError(.invalidArgument, path: path, "holds \(train.count) training pairs, fewer than one micro-batch (batch_size \(config.batchSize))")
                }
                let offlineSeed = config.seed ^ 0xD70
                let order = DPOObjective.firstEpochOrder(train, batchSize: config.batchSize, seed: offlineSeed, shuffle: config.data.shuffle)
                let refs = try DPORun.references(run: run, dpo: hpa.dpo, train: train, eval: eval, padID: padID, trainOrder: order)
                offline = DPOObjective(model: policy, config: hpa.dpo, train: train, eval: eval, trainReference: refs.train, evalReference: refs.eval,
                                       referenceModel: refs.model, batchSize: config.batchSize, seed: offlineSeed, shuffle: config.data.shuffle,
                                       padID: padID)
                offline?.communicator = run.communicator
                pairCounts = (train.count, eval.count)
            }
        }

        let session = setup.session(hpa.sampling, samplesFile: true)
        let objective = HPAObjective(session: session, reference: reference, config: hpa, offline: offline)
        let total = config.maxSteps ?? hpa.iterations * hpa.ppoEpochs
        callback(.message("\(data.train.count) prompts (\(data.eval.count) held out); \(promptsPerStep) prompts × \(hpa.numCandidates) candidates per rollout, \(hpa.ppoEpochs) step\(hpa.ppoEpochs == 1 ? "" : "s") per rollout, \(total) optimizer steps; "
            + (offline == nil ? "no DPO term" : "\(pairCounts.train) pairs (\(pairCounts.eval) held out), loss \(hpa.dpo.loss.rawValue)")
            + "; reward: \(reward.sourceNames.joined(separator: ", "))"))
        return try run.train(objective, examples: data.train.count * hpa.numCandidates * hpa.ppoEpochs, totalSteps: total,
                             extraSummary: ["trainer": "hpa", "train_prompts": data.train.count, "eval_prompts": data.eval.count,
                                            "train_pairs": pairCounts.train, "eval_pairs": pairCounts.eval,
                                            "dpo_loss": offline == nil ? "none" : hpa.dpo.loss.rawValue])
    }
}

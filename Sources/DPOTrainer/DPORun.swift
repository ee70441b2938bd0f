import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation

/// `align dpo --config run.json`: preference pairs → reference log-probs (cached) → the DPO-family
/// objective in the shared loop → `final/`.
public enum DPORun {
    @discardableResult
    public static func run(config: RunConfig, callback: @escaping TrainingCallback) throws -> [String: Any] {
        let dpo = config.trainerConfig(DPOConfig.self)
        try config.checkOutputDirectory()
        let run = try TrainerRun(config: config, callback: callback)
        let data = config.data
        try run.checkSequenceLength()
        guard data.train.count == 1 else {
            throw ModelConfigError("data.train: align dpo trains on one preference file; mixtures are for align sft")
        }
        let template = try run.chatTemplate
        let options = TokenizationOptions(maxSeqLen: data.maxSeqLen, completionOnlyLoss: true, truncationSide: data.truncationSide,
                                          chatTemplate: template)
        func pairs(_ path: String) throws -> PreferenceDataset { try run.preferencePairs(path, trainer: "dpo", options: options, readAsPreference: true) }
        let trainSet = try pairs(data.train[0].path)
        callback(.message("train \(trainSet.report)"))
        var train = trainSet.examples
        var eval: [PreferenceExample] = []
        if let path = data.eval {
            let set = try pairs(path)
            callback(.message("eval \(set.report)"))
            eval = set.examples
        } else {
            (train, eval) = try run.holdOut(train)
        }
        let padID = Batch.padID(for: run.tokenizer)

        // the first epoch's micro-batches, so the cache is computed on exactly the batches the policy sees first
        let order = DPOObjective.firstEpochOrder(train, batchSize: config.batchSize, seed: config.seed, shuffle: data.shuffle)
        let refs = try references(run: run, dpo: dpo, train: train, eval: eval, padID: padID, trainOrder: order)
        let objective = DPOObjective(model: run.model, config: dpo, train: train, eval: eval, trainReference: refs.train,
                                     evalReference: refs.eval, referenceModel: refs.model, batchSize: config.batchSize,
                                     seed: config.seed, shuffle: data.shuffle, padID: padID)
        objective.communicator = run.communicator
        return try run.train(objective, examples: train.count,
                             extraSummary: ["trainer": "dpo", "loss": dpo.loss.rawValue, "beta": dpo.beta,
                                            "train_pairs": train.count, "eval_pairs": eval.count])
    }

    /// The reference log-probs of a DPO-family loss over `train` and `eval` pairs: the caches in
    /// `output_dir` (`<prefix>reference_logps.json`, `…_eval.json`) when they were written for
    /// exactly these pairs, else computed once with the reference and cached there; with
    /// `precompute_ref_log_probs: false` the reference model itself, to score every batch again.
    /// Nothing for simpo. `trainOrder`: the order the training pairs are first batched in
    /// (`ReferenceLogProbCache.compute`).
    package static func references(run: TrainerRun, dpo: DPOConfig, train: [PreferenceExample], eval: [PreferenceExample], padID: Int,
                                   trainOrder: [Int]? = nil, filePrefix: String = "")
        throws -> (train: ReferenceLogProbCache?, eval: ReferenceLogProbCache?, model: (any CausalLM)?) {
        let config = run.config, callback = run.callback
        var trainRef: ReferenceLogProbCache?, evalRef: ReferenceLogProbCache?
        var referenceModel: (any CausalLM)?
        if dpo.usesReference {
            let out = config.outputDir
            let trainURL = out.appendingPathComponent("\(filePrefix)reference_logps.json"), evalURL = out.appendingPathComponent("\(filePrefix)reference_logps_eval.json")
            trainRef = dpo.precomputeRefLogProbs ? ReferenceLogProbCache.load(trainURL, for: train) : nil
            evalRef = dpo.precomputeRefLogProbs ? ReferenceLogProbCache.load(evalURL, for: eval) : nil
            if trainRef == nil || (!eval.isEmpty && evalRef == nil) || !dpo.precomputeRefLogProbs {
                // the cached log-probs of the starting policy need no second copy of it: nothing
                // has been trained (or restored from a checkpoint) yet, and LoRA adapters start at zero
                let startingPolicy: Bool
                if case .path = run.config.model.source { startingPolicy = dpo.precomputeRefLogProbs && run.config.model.reference == nil } else { startingPolicy = false }
                let reference = startingPolicy ? run.model : try ReferenceModel.ofRun(run, hint: ", or use loss \"simpo\"")
                if dpo.precomputeRefLogProbs {
                    let started = Date()
                    let comm = run.communicator
                    let t = ReferenceLogProbCache.compute(reference: reference, examples: train, padID: padID, batchSize: config.batchSize,
                                                          order: trainOrder, communicator: comm)
                    let e = ReferenceLogProbCache.compute(reference: reference, examples: eval, padID: padID, batchSize: config.batchSize,
                                                          communicator: comm)
                    if comm.isWriter {
                        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                        try t.save(trainURL)
                        try e.save(evalURL)
                    }
                    trainRef = t
                    evalRef = e
                    callback(.message(String(format: "reference log-probs of %d + %d pairs computed once in %.1f s and cached in %@",
                                             train.count, eval.count, Date().timeIntervalSince(started), trainURL.path)))
                } else {
                    referenceModel = reference
                }
            } else {
                callback(.message("reference log-probs reused from \(trainURL.path)"))
            }
        }
        return (trainRef, evalRef, referenceModel)
    }
}

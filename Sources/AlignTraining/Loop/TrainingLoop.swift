import AlignData
import AlignNN
import AlignTensor
import Dispatch
import Foundation

/// Settings of the shared loop (from the run config's top level and `optim` section).
public struct LoopSettings: Sendable {
    public var totalSteps: Int
    public var gradAccum: Int = 1
    public var learningRate: Float
    public var schedule: LRSchedule = .linear
    public var warmupSteps: Int = 0
    public var maxGradNorm: Float? = 1
    public var logEvery: Int = 10
    public var evalEvery: Int?
    public var saveEvery: Int?
    public var keepCheckpoints: Int = 2
    public var earlyStopping: EarlyStopping?
    public var recovery: Recovery?
    /// Optimizer steps per epoch, for the `epoch` metric.
    public var stepsPerEpoch: Double = 1

    public init(totalSteps: Int, learningRate: Float) {
        self.totalSteps = totalSteps
        self.learningRate = learningRate
    }
}

/// How a run ended.
public enum LoopOutcome: Equatable, Sendable {
    case completed
    /// Stopped by SIGINT/SIGTERM after writing a checkpoint at `step`.
    case interrupted(step: Int)
    /// Stopped by `early_stopping` after the evaluation at `step`.
    case stoppedEarly(step: Int)
}

/// A non-finite loss or gradient: the run stops, the last good checkpoint stays.
public struct NonFiniteLossError: Error, CustomStringConvertible {
    public let step: Int
    public let value: Float
    public let lastCheckpoint: String?
    public init(step: Int, value: Float, lastCheckpoint: String?) {
        self.step = step
        self.value = value
        self.lastCheckpoint = lastCheckpoint
    }
    public var description: String {
        "non-finite loss (\(value)) at step \(step); training stopped"
            + (lastCheckpoint.map { ", the last good checkpoint is \($0) (resume_from it with a lower learning rate)" } ?? ", no checkpoint had been written yet")
    }
}

/// A step the objective reported as anomalous (a reward or KL spike) and no recovery was left.
public struct TrainingAnomalyError: Error, CustomStringConvertible {
    public let step: Int
    public let reason: String
    public let lastCheckpoint: String?
    public init(step: Int, reason: String, lastCheckpoint: String?) {
        self.step = step
        self.reason = reason
        self.lastCheckpoint = lastCheckpoint
    }
    public var description: String {
        "\(reason) at step \(step); training stopped"
            + (lastCheckpoint.map { ", the last good checkpoint is \($0)" } ?? ", no checkpoint had been written yet")
    }
}

/// The loop every trainer shares: gradient accumulation with exact loss weighting, global-norm
/// clipping, the learning-rate schedule, AdamW, periodic logging, evaluation and checkpoints,
/// resume, and a clean stop on Ctrl-C/SIGTERM.
///
/// Data parallel over a `Communicator` of several ranks: every rank draws the whole step's
/// micro-batches (so the data position is global and the same everywhere) and computes the
/// loss and gradients of micro-batch i when i % size == rank; the weights are known to all, so
/// each rank scales by its batches' share of the global weight, the gradients and the step's
/// loss, metrics and tokens are summed over the ranks, and clipping, the schedule and AdamW
/// then run identically on every rank. Rank 0 alone writes metrics and checkpoints.
public final class TrainingLoop<Objective: TrainingObjective> {
    public let objective: Objective
    public let parameters: [(String, Tensor)]
    public let optimizer: AdamW
    public let settings: LoopSettings
    public let outputDir: URL
    public var callback: TrainingCallback
    public var stop: StopSignal?
    /// The model whose LoRA dropout streams the checkpoints carry (nil: none).
    public let dropoutModel: Module?
    /// The ranks of a data-parallel run (one rank: the single-process loop).
    public let communicator: Communicator

    public private(set) var step = 0
    public private(set) var tokensSeen = 0
    public private(set) var lastCheckpoint: URL?
    /// Metrics of the most recent logged step and evaluation (for summaries).
    public private(set) var lastMetrics: [String: Double] = [:]
    public private(set) var lastEval: [String: Double] = [:]
    /// Best value so far of the early-stopping metric, and how many evaluations did not beat it.
    public private(set) var earlyStoppingState = EarlyStopping.State()
    /// Rollbacks after failed steps (with `recovery`): count, learning-rate scale, skipped batches.
    public private(set) var recovery = Recovery.State()
    private var lastTrackedStep: Int?

    /// `parameters`: the trainable parameters by name (the optimizer's, in the same order).
    /// `dropoutModel`: the model whose LoRA dropout streams are saved in checkpoints.
    public init(objective: Objective, parameters: [(String, Tensor)], optimizer: AdamW, settings: LoopSettings,
                outputDir: URL, dropoutModel: Module? = nil, communicator: Communicator = ProcessGroup.current,
                callback: @escaping TrainingCallback = { _ in }) {
        precondition(optimizer.parameters.count == parameters.count && zip(optimizer.parameters, parameters).allSatisfy { $0 === $1.1 },
                     "TrainingLoop: the optimizer must hold exactly the trainable parameters, in order")
        self.objective = objective
        self.parameters = parameters
        self.optimizer = optimizer
        self.settings = settings
        self.outputDir = outputDir
        self.dropoutModel = dropoutModel
        self.communicator = communicator
        self.callback = callback
    }

    /// Continues from a checkpoint directory: parameters, optimizer, data position, step.
    public func resume(from directory: URL) throws {
        let ckpt = try Checkpoint.load(directory)
        try ckpt.restore(parameters: parameters, optimizer: optimizer)
        try objective.restoreState(ckpt.state.objective)
        if let model = dropoutModel, let streams = ckpt.state.loraDropout {
            if let ranks = ckpt.state.loraDropoutRanks, ranks.count == communicator.size {
                LoRADropoutState.restore(ranks[communicator.rank], into: model)
            } else {
                // another world size: rank 0's streams, and every other rank's derived from them as at a start
                LoRADropoutState.restore(streams, into: model)
                LoRADropoutState.separate(model, rank: communicator.rank)
            }
        }
        step = ckpt.state.step
        tokensSeen = ckpt.state.tokensSeen
        earlyStoppingState = ckpt.state.earlyStopping ?? EarlyStopping.State()
        recovery = ckpt.state.recovery ?? Recovery.State()
        lastCheckpoint = directory
        callback(.resumed(step: step, path: directory.path))
    }

    /// What a checkpoint records besides parameters and optimizer, taken at a step boundary.
    struct Snapshot {
        var objective: Data
        var tokensSeen: Int
        var loraDropout: [RandomGenerator?]?
    }

    func snapshot() throws -> Snapshot {
        Snapshot(objective: try objective.saveState(), tokensSeen: tokensSeen,
                 loraDropout: dropoutModel.map { LoRADropoutState.capture($0) })
    }

    /// Writes a checkpoint of the current step; `at` is the state at the start of the step when
    /// a stop interrupts it between micro-batches (the parameters have not moved yet).
    @discardableResult
    public func saveCheckpoint() throws -> URL { try saveCheckpoint(at: nil) }

    @discardableResult
    func saveCheckpoint(at taken: Snapshot?) throws -> URL {
        let snap = try taken ?? snapshot()
        var state = Checkpoint.State(step: step, totalSteps: settings.totalSteps, optimizerStep: optimizer.stepCount,
                                     objective: snap.objective, tokensSeen: snap.tokensSeen,
                                     earlyStopping: settings.earlyStopping == nil ? nil : earlyStoppingState,
                                     recovery: settings.recovery == nil ? nil : recovery,
                                     loraDropout: snap.loraDropout)
        let url: URL
        if communicator.size > 1 {
            state.worldSize = communicator.size
            if let streams = snap.loraDropout {
                // every rank's dropout streams, so a resume with the same world size continues exactly
                let encoded = try JSONEncoder().encode(streams)
                state.loraDropoutRanks = try communicator.allGather([UInt8](encoded)).map {
                    try JSONDecoder().decode([RandomGenerator?].self, from: Data($0))
                }
            }
            if communicator.isWriter {
                url = try Checkpoint.write(outputDir: outputDir, parameters: parameters, optimizer: optimizer, state: state,
                                           keep: settings.keepCheckpoints)
            } else {
                url = Checkpoint.root(outputDir).appendingPathComponent("step-\(state.step)")
            }
            communicator.barrier()   // the checkpoint is complete before any rank may roll back to it
        } else {
            url = try Checkpoint.write(outputDir: outputDir, parameters: parameters, optimizer: optimizer, state: state,
                                       keep: settings.keepCheckpoints)
        }
        lastCheckpoint = url
        callback(.checkpoint(step: step, path: url.path))
        return url
    }

    /// A stop was requested: writes a checkpoint (of the state at the start of the step when
    /// the step was cut short) and reports.
    private func interrupt(at taken: Snapshot?) throws -> LoopOutcome {
        if let taken { tokensSeen = taken.tokensSeen }
        try saveCheckpoint(at: taken)
        callback(.message("stopped at step \(step) on request; resume with resume_from: \"latest\""))
        return .interrupted(step: step)
    }

    /// Runs until `settings.totalSteps` optimizer steps are done (from the current step).
    ///
    /// A stop request (SIGINT/SIGTERM) is honoured between micro-batches: the step in progress
    /// is dropped and the checkpoint holds the state at its start, so a resumed run computes
    /// exactly that step again.
    public func run(metrics log: MetricsLog?) throws -> LoopOutcome {
        let s = settings
        if s.recovery != nil && lastCheckpoint == nil { try saveCheckpoint() }   // something to roll back to
        var intervalTokens = 0
        var intervalStart = DispatchTime.now().uptimeNanoseconds
        let ranks = communicator.size, rank = communicator.rank
        let distributed = ranks > 1
        let parameterTensors = parameters.map(\.1)
        var intervalCommunication: UInt64 = 0   // nanoseconds in the step's collectives (waiting for other ranks included)
        while step < s.totalSteps {
            // ranks stop together, at a step boundary (a signal may reach them at different moments)
            if communicator.anyTrue(stop?.stopRequested != nil) { return try interrupt(at: nil) }
            let stepStart = try snapshot()
            let progress = Double(step) / Double(max(s.totalSteps, 1))
            let context = StepContext(step: step + 1, totalSteps: s.totalSteps)
            // batches that made an earlier attempt at this step fail are drawn and dropped
            for _ in 0..<(recovery.skips[step + 1] ?? 0) { try objective.skipStep(microBatches: s.gradAccum, progress: progress) }
            var batches: [Objective.MicroBatch] = []
            for _ in 0..<s.gradAccum {
                batches.append(try objective.nextBatch(progress: progress))
                if !distributed, stop?.stopRequested != nil { return try interrupt(at: stepStart) }
            }
            let weights = batches.map { objective.weight(of: $0) }
            let total = weights.reduce(0, +)
            var grads = Gradients()
            var mine = StepTotals()
            for (i, (batch, w)) in zip(batches, weights).enumerated() where w > 0 && i % ranks == rank {
                if !distributed, stop?.stopRequested != nil { return try interrupt(at: stepStart) }
                let share = w / total
                let (loss, m) = objective.loss(batch, context: context)
                let value = loss.item
                guard value.isFinite else {
                    mine.failure = "non-finite loss (\(value))"
                    mine.failedValue = value
                    break
                }
                mine.loss += Double(value) * share
                for (k, v) in m { mine.metrics[k, default: 0] += v * share }
                grads.add((loss * Float(share)).backward())
                mine.tokens += objective.tokens(in: batch)
            }
            let exchangeStart = DispatchTime.now().uptimeNanoseconds
            let totals = mine.combined(over: communicator)
            if distributed { intervalCommunication += DispatchTime.now().uptimeNanoseconds - exchangeStart }
            let stepLoss = totals.loss, stepTokens = totals.tokens
            var metrics = totals.metrics
            var failure = totals.failure
            var failedValue = totals.failedValue
            for (k, v) in try objective.stepMetrics() { metrics[k] = v }
            var norm: Float = .nan
            // clipping: the optimizer multiplies each gradient value by this as it reads it (the
            // same numbers as scaling the gradients first, without copying them)
            var clipScale: Float = 1
            if failure == nil {
                if distributed {
                    let reduceStart = DispatchTime.now().uptimeNanoseconds
                    GradientAllReduce.sum(&grads, parameters: parameterTensors, communicator: communicator)
                    intervalCommunication += DispatchTime.now().uptimeNanoseconds - reduceStart
                    // summed in parameter order: every rank computes the same norm from the same gradients
                    norm = grads.globalNorm(inOrder: parameterTensors)
                } else {
                    norm = grads.globalNorm()
                }
                if let maxNorm = s.maxGradNorm, norm.isFinite { clipScale = gradientClipScale(norm: norm, maxNorm: maxNorm) }
                if !norm.isFinite { failure = "non-finite gradient norm (\(norm))"; failedValue = norm }
            }
            if failure == nil, let reason = objective.anomaly(in: metrics) { failure = reason }
            if let failure {
                try recover(from: failure, value: failedValue)
                continue
            }
            intervalTokens += stepTokens
            tokensSeen += stepTokens
            let lr = s.schedule.learningRate(base: s.learningRate, step: step, totalSteps: s.totalSteps, warmupSteps: s.warmupSteps)
                * recovery.learningRateScale
            optimizer.step(grads, lr: lr, gradientScale: clipScale)
            step += 1

            if step % max(s.logEvery, 1) == 0 || step == s.totalSteps || step == 1 {
                let now = DispatchTime.now().uptimeNanoseconds
                let seconds = Double(now - intervalStart) / 1e9
                metrics["loss"] = stepLoss
                metrics["learning_rate"] = Double(lr)
                metrics["grad_norm"] = Double(norm)
                metrics["tokens_per_second"] = seconds > 0 ? Double(intervalTokens) / seconds : 0
                metrics["num_tokens"] = Double(tokensSeen)
                metrics["epoch"] = Double(step) / max(s.stepsPerEpoch, 1e-9)
                metrics["step"] = Double(step)
                if distributed {
                    // rank 0's share of the interval's wall time spent in the step's collectives
                    metrics["communication_share"] = seconds > 0 ? Double(intervalCommunication) / 1e9 / seconds : 0
                    intervalCommunication = 0
                }
                intervalTokens = 0
                intervalStart = now
                lastMetrics = metrics
                try log?.append(metrics.mapValues { $0 as Any }.merging(["step": step]) { _, new in new })
                callback(.step(step: step, totalSteps: s.totalSteps, metrics: metrics))
            }
            if let every = s.evalEvery, step % every == 0, step < s.totalSteps {
                try evaluate(log: log)
                if let es = s.earlyStopping, es.shouldStop(earlyStoppingState) {
                    callback(.message("early stopping at step \(step): \(es.metric) has not improved on \(earlyStoppingState.best.map { String(format: "%.6g", $0) } ?? "-") (step \(earlyStoppingState.bestStep ?? 0)) for \(es.patience) evaluation\(es.patience == 1 ? "" : "s")"))
                    return .stoppedEarly(step: step)
                }
            }
            if let every = s.saveEvery, step % every == 0, step < s.totalSteps {
                try saveCheckpoint()
            }
        }
        return .completed
    }

    /// A failed step `step + 1` (a non-finite loss or gradient, or an anomaly the objective
    /// reported): with `recovery` and rollbacks left, restores the last checkpoint, scales the
    /// learning rate down and marks the step's batches to be skipped when the run gets there
    /// again; otherwise throws `NonFiniteLossError` / `TrainingAnomalyError`.
    func recover(from reason: String, value: Float) throws {
        let failed = step + 1
        guard let r = settings.recovery, recovery.count < r.maxRecoveries, let checkpoint = lastCheckpoint else {
            if reason.hasPrefix("non-finite") {
                throw NonFiniteLossError(step: failed, value: value, lastCheckpoint: lastCheckpoint?.path)
            }
            throw TrainingAnomalyError(step: failed, reason: reason, lastCheckpoint: lastCheckpoint?.path)
        }
        var record = recovery
        record.count += 1
        record.learningRateScale *= r.learningRateFactor
        record.skips[failed, default: 0] += 1
        try resume(from: checkpoint)
        recovery = record   // the newer record wins over the checkpoint's
        callback(.message(String(format: "%@ at step %d: rolled back to step %d, learning rate ×%g, skipping that batch (recovery %d of %d)",
                                 reason, failed, step, Double(record.learningRateScale), record.count, r.maxRecoveries)))
    }

    /// Runs the objective's evaluation, logs and reports it. With `track` (the default) the
    /// result also feeds early stopping: a new best writes `checkpoints/best/`.
    @discardableResult
    public func evaluate(log: MetricsLog?, track: Bool = true) throws -> [String: Double] {
        let m = try withNoGrad { try objective.evaluate() }
        guard !m.isEmpty else { return m }
        lastEval = m
        var line: [String: Any] = m.mapValues { $0 as Any }
        line["step"] = step
        try log?.append(line)
        callback(.evaluation(step: step, metrics: m))
        if track, let es = settings.earlyStopping {
            guard let value = m[es.metric] else {
                throw ModelConfigError("early_stopping.metric \"\(es.metric)\" is not among the evaluation metrics: \(m.keys.sorted().joined(separator: ", "))")
            }
            var stopValue: Double?
            if let stop = es.stopMetric {
                stopValue = m[stop]
                if stopValue == nil && step > 0 {
                    throw ModelConfigError("early_stopping.stop_metric \"\(stop)\" is not among the evaluation metrics: \(m.keys.sorted().joined(separator: ", "))")
                }
            }
            lastTrackedStep = step
            if es.update(&earlyStoppingState, value: value, step: step), communicator.isWriter {
                try EarlyStopping.saveBest(parameters, step: step, value: value, metric: es.metric, outputDir: outputDir)
            }
            if let stopValue { es.updateStop(&earlyStoppingState, value: stopValue) }   // absent at step 0: not counted
            if es.keepTop > 1 {
                let r = EarlyStopping.retain(earlyStoppingState.top, adding: .init(step: step, value: value), keep: es.keepTop, minimize: es.minimize)
                if communicator.isWriter {
                    if r.admitted { try EarlyStopping.saveTop(parameters, step: step, value: value, metric: es.metric, outputDir: outputDir) }
                    for e in r.evicted { try? FileManager.default.removeItem(at: EarlyStopping.topDirectory(outputDir, step: e.step)) }
                }
                earlyStoppingState.top = r.top
            }
        }
        return m
    }

    /// With `early_stopping.restore_best`, copies the best evaluated parameters back; returns
    /// the step they are from (nil when nothing was restored).
    @discardableResult
    public func restoreBestIfRequested() throws -> Int? {
        guard let es = settings.earlyStopping, es.restoreBest else { return nil }
        // the parameters of the last step compete too
        if lastTrackedStep != step { try evaluate(log: nil) }
        guard let best = earlyStoppingState.bestStep else { return nil }
        guard best != step else { return best }
        try EarlyStopping.restoreBest(parameters, outputDir: outputDir)
        callback(.message("restored the best parameters (step \(best), \(es.metric) \(String(format: "%.6g", earlyStoppingState.best ?? .nan)))"))
        return best
    }
}

import AlignData
import AlignTensor
import Foundation

/// Early stopping on an evaluation metric (`early_stopping` in run configs; seed 000's "stop after
/// `patience` evaluations without improving by `min_delta`", TRL/transformers'
/// `EarlyStoppingCallback` with `metric_for_best_model`): every evaluation, the step 0 one
/// included, either improves on the best value by more than `minDelta` (a new best: its
/// trainable parameters are written to `checkpoints/best/`) or counts against `patience`.
/// With `restoreBest` the run ends on the best parameters, so `final/` is the best model.
public struct EarlyStopping: Sendable, Equatable {
    public var metric: String
    public var minimize: Bool
    public var patience: Int
    public var minDelta: Double
    public var restoreBest: Bool

    public init(metric: String, minimize: Bool, patience: Int, minDelta: Double = 0, restoreBest: Bool = true) {
        self.metric = metric
        self.minimize = minimize
        self.patience = patience
        self.minDelta = minDelta
        self.restoreBest = restoreBest
    }

    /// What survives a checkpoint (so a resumed run stops where the uninterrupted one would).
    public struct State: Codable, Equatable, Sendable {
        public var best: Double?
        public var bestStep: Int?
        public var evaluationsWithoutImprovement = 0

        enum CodingKeys: String, CodingKey {
            case best
            case bestStep = "best_step"
            case evaluationsWithoutImprovement = "evaluations_without_improvement"
        }

        public init() {}
    }

    /// Records `value` measured at `step`; returns true for a new best.
    public func update(_ state: inout State, value: Double, step: Int) -> Bool {
        let improved: Bool
        if let best = state.best {
            improved = minimize ? value < best - minDelta : value > best + minDelta
        } else {
            improved = value.isFinite
        }
        if improved {
            state.best = value
            state.bestStep = step
            state.evaluationsWithoutImprovement = 0
        } else {
            state.evaluationsWithoutImprovement += 1
        }
        return improved
    }

    public func shouldStop(_ state: State) -> Bool { state.evaluationsWithoutImprovement >= patience }

    /// `checkpoints/best/` of a run.
    public static func directory(_ outputDir: URL) -> URL { Checkpoint.root(outputDir).appendingPathComponent("best") }

    /// Writes the trainable parameters as the best so far (atomically replacing the previous).
    static func saveBest(_ parameters: [(String, Tensor)], step: Int, value: Double, metric: String, outputDir: URL) throws {
        let dir = directory(outputDir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try SafeTensorsWriter.write(tensors: parameters.map { (name: $0.0, shape: $0.1.shape, data: $0.1.scalars) },
                                    to: dir.appendingPathComponent("trainable.safetensors"))
        let info: [String: Any] = ["step": step, "metric": metric, "value": value]
        try writeFileAtomically(try JSONSerialization.data(withJSONObject: info, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
                                to: dir.appendingPathComponent("best.json"))
    }

    /// Copies the best parameters back into `parameters`.
    static func restoreBest(_ parameters: [(String, Tensor)], outputDir: URL) throws {
        let dir = directory(outputDir)
        let values = try StateDictFiles.load(file: dir.appendingPathComponent("trainable.safetensors"))
        for (name, p) in parameters {
            guard let t = values[name], t.shape == p.shape else {
                throw AlignDataError(.malformed, path: dir.path, "the best parameters lack '\(name)' or have another shape")
            }
            p.pointer.update(from: t.pointer, count: p.count)
        }
    }
}

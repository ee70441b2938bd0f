import AlignData
import AlignTensor
import Foundation

/// Early stopping on an evaluation metric (`early_stopping` in run configs; seed 000's "stop after
/// `patience` evaluations without improving by `min_delta`", TRL/transformers'
/// `EarlyStoppingCallback` with `metric_for_best_model`): every evaluation, the step 0 one
/// included, either improves on the best value by more than `minDelta` (a new best: its
/// trainable parameters are written to `checkpoints/best/`) or counts against `patience`.
/// With `restoreBest` the run ends on the best parameters, so `final/` is the best model.
///
/// Seed 000's variant: `keepTop` > 1 also keeps the k best evaluations by `metric` in
/// `checkpoints/top/step-N/` (its CheckpointManager's top-k by validation reward), and
/// `stopMetric` lets patience watch another metric than the one that picks the best (its
/// reward-window score), in its own direction.
public struct EarlyStopping: Sendable, Equatable {
    public var metric: String
    public var minimize: Bool
    public var patience: Int
    public var minDelta: Double
    public var restoreBest: Bool
    public var keepTop: Int
    /// The metric patience watches (nil: `metric`); an evaluation at step 0 may lack it.
    public var stopMetric: String?
    public var stopMinimize: Bool

    public init(metric: String, minimize: Bool, patience: Int, minDelta: Double = 0, restoreBest: Bool = true, keepTop: Int = 1,
                stopMetric: String? = nil, stopMinimize: Bool = false) {
        precondition(keepTop >= 1, "EarlyStopping: keepTop \(keepTop)")
        self.metric = metric
        self.minimize = minimize
        self.patience = patience
        self.minDelta = minDelta
        self.restoreBest = restoreBest
        self.keepTop = keepTop
        self.stopMetric = stopMetric
        self.stopMinimize = stopMinimize
    }

    /// One evaluation kept among the top k.
    public struct TopEntry: Codable, Equatable, Sendable {
        public var step: Int
        public var value: Double

        public init(step: Int, value: Double) {
            self.step = step
            self.value = value
        }
    }

    /// What survives a checkpoint (so a resumed run stops where the uninterrupted one would).
    public struct State: Codable, Equatable, Sendable {
        public var best: Double?
        public var bestStep: Int?
        public var evaluationsWithoutImprovement = 0
        /// The best value of `stopMetric` so far (when it is set).
        public var stopBest: Double?
        /// The `keepTop` best evaluations by `metric`, best first.
        public var top: [TopEntry] = []

        enum CodingKeys: String, CodingKey {
            case best
            case bestStep = "best_step"
            case evaluationsWithoutImprovement = "evaluations_without_improvement"
            case stopBest = "stop_best"
            case top
        }

        public init() {}

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            best = try c.decodeIfPresent(Double.self, forKey: .best)
            bestStep = try c.decodeIfPresent(Int.self, forKey: .bestStep)
            evaluationsWithoutImprovement = try c.decode(Int.self, forKey: .evaluationsWithoutImprovement)
            stopBest = try c.decodeIfPresent(Double.self, forKey: .stopBest)
            top = try c.decodeIfPresent([TopEntry].self, forKey: .top) ?? []   // checkpoints written before top-k
        }
    }

    /// Records `value` of `metric` measured at `step`; returns true for a new best. Without a
    /// separate `stopMetric` it also moves the patience count.
    public func update(_ state: inout State, value: Double, step: Int) -> Bool {
        let improved = Self.improves(value, on: state.best, minimize: minimize, minDelta: minDelta)
        if improved {
            state.best = value
            state.bestStep = step
        }
        if stopMetric == nil { state.evaluationsWithoutImprovement = improved ? 0 : state.evaluationsWithoutImprovement + 1 }
        return improved
    }

    /// Records `value` of `stopMetric`: an improvement by more than `minDelta` resets the patience count.
    public func updateStop(_ state: inout State, value: Double) {
        if Self.improves(value, on: state.stopBest, minimize: stopMinimize, minDelta: minDelta) {
            state.stopBest = value
            state.evaluationsWithoutImprovement = 0
        } else {
            state.evaluationsWithoutImprovement += 1
        }
    }

    static func improves(_ value: Double, on best: Double?, minimize: Bool, minDelta: Double) -> Bool {
        guard let best else { return value.isFinite }
        return minimize ? value < best - minDelta : value > best + minDelta
    }

    /// Top-k retention: `top` (best first) after an evaluation `entry`; `admitted` when the entry
    /// joined, `evicted` the entries that left. A non-finite value never joins, and a value equal
    /// to the worst of a full list does not displace it (the earlier evaluation stays).
    public static func retain(_ top: [TopEntry], adding entry: TopEntry, keep: Int, minimize: Bool)
        -> (top: [TopEntry], admitted: Bool, evicted: [TopEntry]) {
        guard entry.value.isFinite else { return (top, false, []) }
        let better: (Double, Double) -> Bool = minimize ? { $0 < $1 } : { $0 > $1 }
        let at = top.firstIndex { better(entry.value, $0.value) } ?? top.count
        guard at < keep else { return (top, false, []) }
        var out = top
        out.insert(entry, at: at)
        let evicted = Array(out.dropFirst(keep))
        return (Array(out.prefix(keep)), true, evicted)
    }

    public func shouldStop(_ state: State) -> Bool { state.evaluationsWithoutImprovement >= patience }

    /// `checkpoints/best/` of a run.
    public static func directory(_ outputDir: URL) -> URL { Checkpoint.root(outputDir).appendingPathComponent("best") }

    /// `checkpoints/top/step-N/` of a run: one of the `keep_top` best evaluations.
    public static func topDirectory(_ outputDir: URL, step: Int) -> URL {
        Checkpoint.root(outputDir).appendingPathComponent("top").appendingPathComponent("step-\(step)")
    }

    /// Writes the trainable parameters as the best so far (atomically replacing the previous).
    static func saveBest(_ parameters: [(String, Tensor)], step: Int, value: Double, metric: String, outputDir: URL) throws {
        try save(parameters, step: step, value: value, metric: metric, to: directory(outputDir), info: "best.json")
    }

    /// The trainable parameters of the evaluation at `step` as one of the top k.
    static func saveTop(_ parameters: [(String, Tensor)], step: Int, value: Double, metric: String, outputDir: URL) throws {
        try save(parameters, step: step, value: value, metric: metric, to: topDirectory(outputDir, step: step), info: "top.json")
    }

    static func save(_ parameters: [(String, Tensor)], step: Int, value: Double, metric: String, to dir: URL, info name: String) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try SafeTensorsWriter.write(tensors: parameters.map { (name: $0.0, shape: $0.1.shape, data: $0.1.scalars) },
                                    to: dir.appendingPathComponent("trainable.safetensors"))
        let info: [String: Any] = ["step": step, "metric": metric, "value": value]
        try writeFileAtomically(try JSONSerialization.data(withJSONObject: info, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
                                to: dir.appendingPathComponent(name))
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

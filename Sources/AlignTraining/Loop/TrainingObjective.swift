import AlignTensor
import Foundation

/// Where a step is: what the loss of a micro-batch may depend on besides the batch (schedules
/// over training progress, such as HPA's KL weights).
public struct StepContext: Sendable, Equatable {
    /// The optimizer step being computed, 1-based (the first step is 1).
    public var step: Int
    public var totalSteps: Int
    /// (step − 1) / totalSteps ∈ [0, 1): the progress at the start of this step.
    public var progress: Double

    public init(step: Int, totalSteps: Int) {
        self.step = step
        self.totalSteps = totalSteps
        progress = Double(step - 1) / Double(Swift.max(totalSteps, 1))
    }
}

/// What a trainer plugs into the shared loop: where batches come from, the loss of one
/// micro-batch, evaluation, and the state that makes a resumed run continue exactly.
///
/// Losses are pure functions of tensors living in the trainer targets; the objective only
/// wires a batch through the model into them. Online objectives (PPO) produce their batches
/// by sampling from the policy inside `nextBatch`.
public protocol TrainingObjective: AnyObject {
    associatedtype MicroBatch

    /// The next micro-batch at training progress `progress` ∈ [0, 1] (mixture schedules use it).
    func nextBatch(progress: Double) throws -> MicroBatch

    /// The batch's share of a step's loss: loss tokens for token-mean losses (SFT), pairs for
    /// pair-mean losses (DPO). A step's loss is Σ weight·loss / Σ weight over its micro-batches,
    /// so gradient accumulation equals one large batch.
    func weight(of batch: MicroBatch) -> Double

    /// Tokens processed (prompt and response, without padding), for `tokens_per_second`.
    func tokens(in batch: MicroBatch) -> Int

    /// The batch's mean loss (a scalar tensor recording the graph) and metrics (batch means,
    /// combined over a step's micro-batches with the batches' weights).
    func loss(_ batch: MicroBatch, context: StepContext) -> (loss: Tensor, metrics: [String: Double])

    /// Metrics of the step as a whole that are not means over its micro-batches (rollout
    /// statistics of an online trainer): merged into the step's logged metrics. Called once
    /// per optimizer step on every rank, after the step's losses were computed (an objective may
    /// finish statistics there that its losses fed, with collectives over the ranks).
    func stepMetrics() throws -> [String: Double]

    /// A reason to treat the step as failed although its loss is finite (a reward or KL spike
    /// past a configured threshold), or nil. With `recovery` the loop rolls back as for a
    /// non-finite loss; without, the run stops with the reason.
    func anomaly(in metrics: [String: Double]) -> String?

    /// Drops the batches of one step that made an earlier attempt at it fail (recovery): by
    /// default the step's `microBatches` batches are drawn and dropped. An online trainer drops
    /// the rollout the step would train on, so the step samples a new one.
    func skipStep(microBatches: Int, progress: Double) throws

    /// Metrics on held-out data (names starting with `eval/`), or empty when there is none.
    /// Runs under no-grad.
    func evaluate() throws -> [String: Double]

    /// Data position and RNG state, serialised; restored by `restoreState`. (LoRA dropout
    /// streams are the loop's: no objective saves them.)
    func saveState() throws -> Data
    func restoreState(_ data: Data) throws

    /// The trainer's headline metrics, drawn in `curves.svg` after the loss.
    var plottedMetrics: [String] { get }
}

extension TrainingObjective {
    public var plottedMetrics: [String] { [] }
    public func stepMetrics() -> [String: Double] { [:] }
    public func anomaly(in metrics: [String: Double]) -> String? { nil }
    public func skipStep(microBatches: Int, progress: Double) throws {
        for _ in 0..<microBatches { _ = try nextBatch(progress: progress) }
    }
}

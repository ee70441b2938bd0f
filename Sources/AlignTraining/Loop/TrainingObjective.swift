import AlignTensor
import Foundation

/// What a trainer plugs into the shared loop: where batches come from, the loss of one
/// micro-batch, evaluation, and the state that makes a resumed run continue exactly.
///
/// Losses are pure functions of tensors living in the trainer targets; the objective only
/// wires a batch through the model into them.
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

    /// The batch's mean loss (a scalar tensor recording the graph) and metrics (batch means).
    func loss(_ batch: MicroBatch) -> (loss: Tensor, metrics: [String: Double])

    /// Metrics on held-out data (names starting with `eval/`), or empty when there is none.
    /// Runs under no-grad.
    func evaluate() throws -> [String: Double]

    /// Data position and RNG state, serialised; restored by `restoreState`.
    func saveState() throws -> Data
    func restoreState(_ data: Data) throws

    /// The trainer's headline metrics, drawn in `curves.svg` after the loss.
    var plottedMetrics: [String] { get }
}

extension TrainingObjective {
    public var plottedMetrics: [String] { [] }
}

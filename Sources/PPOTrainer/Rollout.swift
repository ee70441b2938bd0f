import AlignData
import Foundation

/// One rollout: the sampled rows and everything PPO's passes over them need, per response
/// token (one array per row, no padding). Part of a checkpoint, so a run stopped in the middle
/// of a rollout's passes resumes on the same samples.
struct Rollout: Codable, Equatable {
    var prompts: [[Int]]
    var responses: [[Int]]
    /// Per row and response token: logp_old (the training forward under no-grad, at the
    /// sampling temperature; empty, no row at all, when the loss uses its own forward's
    /// log-probs), logp_ref, the values (gae) and the targets of the update.
    var oldLogProbs: [[Float]]
    var referenceLogProbs: [[Float]]
    var oldValues: [[Float]]
    var advantages: [[Float]]
    var returns: [[Float]]
    /// Row order of each PPO epoch; epoch 0's micro-batches are the ones logp_old was computed on.
    var order: [[Int]]
    /// Micro-batches handed out so far.
    var cursor: Int = 0
    /// Rollout statistics (TRL's `objective/*` names), logged with every step of this rollout.
    var metrics: [String: Double]

    /// Rows of micro-batch `k` (epoch-major, then minibatch, then micro-batch).
    func rows(ofMicroBatch k: Int, batchSize: Int) -> [Int] {
        let perEpoch = order[0].count / batchSize
        let epoch = k / perEpoch, start = (k % perEpoch) * batchSize
        return Array(order[epoch][start..<start + batchSize])
    }

}

/// What one PPO micro-batch carries into the loss: the rows as a right-padded batch (targets on
/// the response tokens) and the per-token constants in the batch's scored order.
public struct PPOMicroBatch {
    public let batch: Batch
    /// The rollout rows it holds, in batch order.
    public let rows: [Int]
    public let oldLogProbs: [Float]
    public let referenceLogProbs: [Float]
    public let oldValues: [Float]
    public let advantages: [Float]
    public let returns: [Float]

    /// Rows `rows` of a rollout, prompt + response, the response tokens scored. logp_old is
    /// empty when the rollout made no pass for it (`PPOObjective.usesOwnLogProbsAsOld`).
    static func make(_ r: Rollout, rows: [Int], padID: Int) -> PPOMicroBatch {
        let batch = Self.batch(prompts: r.prompts, responses: r.responses, rows: rows, padID: padID)
        func flat(_ a: [[Float]]) -> [Float] { a.isEmpty ? [] : rows.flatMap { a[$0] } }
        return PPOMicroBatch(batch: batch, rows: rows, oldLogProbs: flat(r.oldLogProbs), referenceLogProbs: flat(r.referenceLogProbs),
                             oldValues: flat(r.oldValues), advantages: flat(r.advantages), returns: flat(r.returns))
    }

    /// The batch of rows before logp_old exists (for computing it).
    static func batch(prompts: [[Int]], responses: [[Int]], rows: [Int], padID: Int) -> Batch {
        Batch.promptResponse(rows.map { (prompts[$0], responses[$0]) }, padID: padID)
    }
}

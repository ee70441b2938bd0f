import AlignData
import AlignTraining
import Foundation
import AlignOnline

/// One HPA rollout after shaping and filtering: the kept candidates and the per-token constants
/// their losses need. Part of a checkpoint, so a run stopped between the rollout's steps resumes
/// on the same samples.
struct HPARollout: Codable, Equatable {
    /// The kept candidates: prompt and response token ids.
    var prompts: [[Int]]
    var responses: [[Int]]
    /// Per kept row: the whitened shaped reward (whitened over all candidates of the rollout).
    var advantages: [Float]
    /// Per kept row and response token: logp_old (the training forward under no-grad, at the
    /// sampling temperature, on epoch 0's micro-batches) and logp_ref.
    var oldLogProbs: [[Float]]
    var referenceLogProbs: [[Float]]
    /// Per kept row: the reference's mean-pooled final hidden state over the response (C values).
    var referencePooled: [[Float]]
    /// Kept rows of each micro-batch, per epoch: `groups[e][m]` (round-robin over a permutation;
    /// a micro-batch may get none when fewer rows than micro-batches were kept).
    var groups: [[[Int]]]
    /// Micro-batches handed out so far.
    var cursor: Int = 0
    /// Rollout statistics, logged with every step trained on it.
    var metrics: [String: Double]

    var keptTokens: Int { responses.reduce(0) { $0 + $1.count } }

    /// Round-robin assignment of `count` rows (in the order of `permutation`) to `microBatches` groups.
    static func groups(permutation: [Int], microBatches: Int) -> [[Int]] {
        var out = [[Int]](repeating: [], count: microBatches)
        for (j, row) in permutation.enumerated() { out[j % microBatches].append(row) }
        return out
    }
}

/// What one HPA micro-batch carries into the loss: some of the step's kept candidates (or none)
/// and, with a DPO term, `batch_size` offline pairs. `scale` is the number of the step's
/// micro-batches that carry anything: the loop weighs each of them 1/scale, so the loss of a
/// micro-batch is its sums divided by the step's totals, times `scale`, and the step's loss is
/// exactly the mean over all kept tokens / rows / pairs of the step.
public struct HPAMicroBatch {
    public struct Online {
        /// Prompt + response rows, right-padded, the response tokens scored.
        public let batch: Batch
        /// Per scored token, in the batch's order.
        public let oldLogProbs: [Float]
        public let referenceLogProbs: [Float]
        public let advantages: [Float]
        /// (rows × C) row-major: the reference's pooled response states.
        public let referencePooled: [Float]
        /// Response tokens per row.
        public let lengths: [Int]
    }

    public let online: Online?
    public let pairs: PreferenceBatch?
    /// Micro-batches of the step that carry anything (see above).
    public let scale: Int
    /// The step's kept tokens and rows (the normalisers of the PPO and KL terms).
    public let stepTokens: Int
    public let stepRows: Int

    var isEmpty: Bool { online == nil && pairs == nil }

    static func online(_ r: HPARollout, rows: [Int], padID: Int) -> Online? {
        guard !rows.isEmpty else { return nil }
        let batch = Batch.promptResponse(rows.map { (r.prompts[$0], r.responses[$0]) }, padID: padID)
        return Online(batch: batch, oldLogProbs: rows.flatMap { r.oldLogProbs[$0] }, referenceLogProbs: rows.flatMap { r.referenceLogProbs[$0] },
                      advantages: rows.flatMap { Array(repeating: r.advantages[$0], count: r.responses[$0].count) },
                      referencePooled: rows.flatMap { r.referencePooled[$0] }, lengths: rows.map { r.responses[$0].count })
    }
}

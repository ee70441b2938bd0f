import AlignData
import AlignNN
import AlignTensor
import Foundation

/// One sequence's reward: the K head outputs, their mean (the reward) and their population
/// standard deviation (the ensemble's uncertainty; 0 for K = 1).
public struct RewardScore: Sendable, Equatable {
    public var heads: [Float]
    public var reward: Float
    public var std: Float

    public init(heads: [Float]) {
        precondition(!heads.isEmpty, "RewardScore: no heads")
        self.heads = heads
        (reward, std) = RewardModel.ensemble(heads)
    }
}

/// A reward model: any causal LM backbone's final hidden states read by a `ScalarHead` with K
/// outputs (`num_heads`; K > 1 is an ensemble) at the last non-padding token of each
/// prompt+response row.
///
/// Parameter names are Hugging Face's sequence-classification names: the backbone's own
/// (`model.…` / `transformer.…`) plus `score.weight` (K, hidden), so the state dict is that of
/// `LlamaForSequenceClassification` / `GPT2ForSequenceClassification` with `num_labels` = K.
///
/// Where the reward is read: transformers (5.x, `GenericForSequenceClassification` and
/// `GPT2ForSequenceClassification`) takes "the rightmost token that is not equal to
/// `pad_token_id`". `padID` plays `pad_token_id` here and is written to `config.json`, so both
/// read the same token: the last real token of a right-padded row (`rowLengths[b] − 1`) unless
/// that token is itself the pad id (e.g. a response ending with EOS when pad = EOS, which TRL
/// also uses), in which case, exactly like transformers, the reward is read at the rightmost
/// earlier token that is not the pad id (0 when there is none). Without a pad id (nil) the last
/// real token is used.
public final class RewardModel: Module {
    public let backbone: any CausalLM
    public let head: ScalarHead
    /// The token id treated as padding when locating the reading position (config.json's
    /// `pad_token_id`), and used to pad batches.
    public let padID: Int?

    /// Heads in the ensemble (K).
    public var numHeads: Int { head.outputs }
    public var hiddenSize: Int { backbone.config.hiddenSize }

    public init(backbone: any CausalLM, head: ScalarHead, padID: Int?) {
        precondition(head.score.inFeatures == backbone.config.hiddenSize,
                     "RewardModel: head reads \(head.score.inFeatures) features, the backbone's hidden size is \(backbone.config.hiddenSize)")
        self.backbone = backbone
        self.head = head
        self.padID = padID
    }

    /// How a new head's weights start.
    public enum HeadInit: String, Sendable {
        /// N(0, 1/√(hidden + 1)): the value/reward head initialisation of OpenAI's
        /// lm-human-preferences and TRL's value heads (not transformers' `score` default,
        /// N(0, initializer_range = 0.02)). Breaks the symmetry between ensemble heads.
        case normal
        /// All zeros: every reward starts at 0 (ensemble heads then differ only by their bootstraps).
        case zeros
    }

    /// A new head of `heads` outputs over `hiddenSize` features.
    public static func makeHead(hiddenSize: Int, heads: Int, initialization: HeadInit = .normal,
                                rng: inout RandomGenerator) -> ScalarHead {
        let head = ScalarHead(hiddenSize: hiddenSize, outputs: heads, bias: false,
                              std: 1 / Float(hiddenSize + 1).squareRoot(), rng: &rng)
        if initialization == .zeros { head.score.weight.pointer.update(repeating: 0, count: head.score.weight.count) }
        return head
    }

    public func namedParameters() -> [(String, Tensor)] {
        backbone.namedParameters() + prefixed(ScalarHead.huggingFaceName, head)
    }

    public func children() -> [(String, Module)] { backbone.children() + [(ScalarHead.huggingFaceName, head)] }

    /// Where each row's reward is read (see the type's documentation): for row b of a
    /// right-padded (batch, length) id array with `rowLengths[b]` real tokens, the rightmost
    /// t < rowLengths[b] with ids[t] ≠ padID (0 if none), or rowLengths[b] − 1 without a pad id.
    public static func readPositions(ids: [Int], batch: Int, length: Int, rowLengths: [Int], padID: Int?) -> [Int] {
        precondition(ids.count == batch * length && rowLengths.count == batch,
                     "readPositions: \(ids.count) ids and \(rowLengths.count) row lengths for a (\(batch), \(length)) batch")
        return (0..<batch).map { b in
            let n = rowLengths[b]
            precondition(n >= 1 && n <= length, "readPositions: row \(b) has \(n) tokens of \(length)")
            guard let padID else { return n - 1 }
            var t = n - 1
            while t > 0 && ids[b * length + t] == padID { t -= 1 }
            return ids[b * length + t] == padID ? 0 : t
        }
    }

    /// Rewards (B, K) of right-padded rows (ids row-major, `rowLengths[b]` real tokens each).
    /// Records the graph when gradients are on.
    public func scores(ids: [Int], batch: Int, length: Int, rowLengths: [Int]) -> Tensor {
        // right padding: causal attention never lets a real token see the padding after it, so
        // no key mask is needed and positions are 0…T−1 (as in the SFT objective)
        let hidden = backbone.hiddenStates(ids: ids, batch: batch, length: length, positions: nil, keyMask: nil, cache: nil)
        return head(hidden, at: Self.readPositions(ids: ids, batch: batch, length: length, rowLengths: rowLengths, padID: padID))
    }

    /// Rewards (rows, K) of a batch's rows.
    public func scores(_ batch: Batch) -> Tensor {
        scores(ids: batch.ids, batch: batch.batch, length: batch.length, rowLengths: batch.rowLengths)
    }

    /// Scores token sequences (each non-empty, prompt + response) in right-padded batches of
    /// `batchSize`, without recording gradients.
    public func score(_ sequences: [[Int]], batchSize: Int = 8) -> [RewardScore] {
        ChunkedScoring.map(sequences, batchSize: batchSize) { chunk, _ in
            let batch = Batch(rows: chunk.map { ($0, Array(repeating: false, count: $0.count)) }, padID: padID ?? 0)
            let K = numHeads, values = scores(batch).scalars
            return (0..<batch.batch).map { RewardScore(heads: Array(values[$0 * K..<($0 + 1) * K])) }
        }
    }

    /// Mean and population standard deviation (divide by K, not K − 1; 0 for one head) of the
    /// heads' rewards.
    public static func ensemble(_ heads: [Float]) -> (mean: Float, std: Float) {
        let n = Double(heads.count)
        let mean = heads.reduce(0.0) { $0 + Double($1) } / n
        let variance = heads.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        return (Float(mean), Float(variance.squareRoot()))
    }
}

import Foundation

/// A right-padded batch of token rows, ready for a causal LM forward pass and
/// `logits.crossEntropy(targets:)` (or `logProbs(ofTargets:)` for per-row sums).
///
/// All arrays are row-major (B·T). Row b holds its `rowLengths[b]` real tokens and then
/// padding (`padID`, key mask 0). Targets are already shifted: `targets[b·T + t]` is the token
/// at t+1 when position t+1 is a loss token, else `Batch.ignoreIndex` (−100), which also
/// covers the last real token and all padding.
public struct Batch: Sendable, Equatable {
    public static let ignoreIndex = -100

    public var ids: [Int]
    public var targets: [Int]
    /// 1 for real tokens, 0 for padding (the models' `keyMask` as a (B, T) tensor).
    public var keyMask: [Float]
    /// 0, 1, … along each row (right padding keeps the real tokens' positions from 0).
    public var positions: [Int]
    public var batch: Int
    public var length: Int
    /// Targets that are not ignored, over the whole batch (the denominator of the mean loss).
    public var lossTokens: Int
    /// Real (non-padding) tokens of each row; `rowLengths[b] − 1` is the last real token
    /// (where a reward model reads its score).
    public var rowLengths: [Int]
    /// Targets that are not ignored, per row (|y| for length-normalised losses).
    public var rowLossTokens: [Int]
    /// The dataset indices of the rows' examples when the batch came from a loader, else empty.
    public var exampleIndices: [Int]

    /// Builds a batch from rows of (ids, loss mask), padded on the right to the longest row.
    public init(rows: [(ids: [Int], lossMask: [Bool])], padID: Int, exampleIndices: [Int] = []) {
        precondition(!rows.isEmpty, "Batch: no rows")
        let B = rows.count
        let T = rows.map(\.ids.count).max()!
        precondition(T > 0, "Batch: all rows are empty")
        ids = Array(repeating: padID, count: B * T)
        targets = Array(repeating: Batch.ignoreIndex, count: B * T)
        keyMask = Array(repeating: 0, count: B * T)
        positions = (0 ..< B * T).map { $0 % T }
        batch = B
        length = T
        rowLengths = rows.map(\.ids.count)
        rowLossTokens = Array(repeating: 0, count: B)
        lossTokens = 0
        self.exampleIndices = exampleIndices
        for (b, row) in rows.enumerated() {
            precondition(row.ids.count == row.lossMask.count, "Batch: row \(b) has \(row.ids.count) ids but \(row.lossMask.count) mask entries")
            let base = b * T
            for t in 0 ..< row.ids.count {
                ids[base + t] = row.ids[t]
                keyMask[base + t] = 1
                if t + 1 < row.ids.count && row.lossMask[t + 1] {
                    targets[base + t] = row.ids[t + 1]
                    rowLossTokens[b] += 1
                }
            }
            lossTokens += rowLossTokens[b]
        }
    }

    /// A batch of SFT examples.
    public init(examples: [SFTExample], padID: Int, exampleIndices: [Int] = []) {
        self.init(rows: examples.map { ($0.ids, $0.lossMask) }, padID: padID, exampleIndices: exampleIndices)
    }

    /// Row b's slice of a row-major B·T array.
    public func row<T>(_ b: Int, of values: [T]) -> ArraySlice<T> {
        values[b * length ..< (b + 1) * length]
    }

    /// The padding id to use with `tokenizer`: its pad token, else its EOS token, else 0
    /// (padding is masked everywhere, so any valid id works).
    public static func padID(for tokenizer: Tokenizer) -> Int {
        tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0
    }
}

/// Preference pairs as one batch of 2·pairs rows: rows 0..<pairs are prompt+chosen and rows
/// pairs..<2·pairs prompt+rejected of the same pairs, in the same order (TRL's concatenated
/// forward). Targets mask the prompt, so summing `logProbs(ofTargets:)` over a row gives
/// logπ(y|x) of its response, with `rowLossTokens` = |y|.
public struct PreferenceBatch: Sendable, Equatable {
    public var rows: Batch
    public var pairs: Int
    /// Each pair's `margin`, 0 where the record had none.
    public var margins: [Float]
    /// Whether any pair of the batch had a margin.
    public var hasMargins: Bool
    /// The dataset indices of the pairs when the batch came from a loader, else empty.
    public var exampleIndices: [Int]

    public init(examples: [PreferenceExample], padID: Int, exampleIndices: [Int] = []) {
        precondition(!examples.isEmpty, "PreferenceBatch: no pairs")
        func row(_ prompt: [Int], _ response: [Int]) -> (ids: [Int], lossMask: [Bool]) {
            (prompt + response, Array(repeating: false, count: prompt.count) + Array(repeating: true, count: response.count))
        }
        let chosen = examples.map { row($0.prompt, $0.chosen) }
        let rejected = examples.map { row($0.prompt, $0.rejected) }
        rows = Batch(rows: chosen + rejected, padID: padID, exampleIndices: exampleIndices.isEmpty ? [] : exampleIndices + exampleIndices)
        pairs = examples.count
        margins = examples.map { $0.margin ?? 0 }
        hasMargins = examples.contains { $0.margin != nil }
        self.exampleIndices = exampleIndices
    }

    /// Row index of pair i's chosen row.
    public func chosenRow(_ i: Int) -> Int { i }
    /// Row index of pair i's rejected row.
    public func rejectedRow(_ i: Int) -> Int { pairs + i }
}

import Foundation

/// A FIFO bank of recent response embeddings (mean-pooled final hidden states of the reference,
/// ALGORITHMS.md HPA step 2), for the diversity bonus div = 1 − mean cosine similarity between a
/// response's embedding and the bank. Part of a checkpoint, so a resumed run scores diversity
/// against the same bank.
public struct DiversityBank: Codable, Equatable, Sendable {
    public let capacity: Int
    /// Oldest first; at most `capacity` entries, each of the same width.
    public private(set) var embeddings: [[Float]] = []

    public init(capacity: Int) {
        precondition(capacity >= 1, "DiversityBank: capacity \(capacity)")
        self.capacity = capacity
    }

    /// 1 − mean cosine similarity of `e` to the bank; 0 for an empty bank (nothing to differ from).
    /// A zero vector has similarity 0 to everything.
    public func diversity(_ e: [Float]) -> Double {
        guard !embeddings.isEmpty else { return 0 }
        let total = embeddings.reduce(0.0) { $0 + Self.cosine(e, $1) }
        return 1 - total / Double(embeddings.count)
    }

    /// Appends `items` in order, dropping the oldest beyond capacity.
    public mutating func append(_ items: [[Float]]) {
        embeddings += items
        if embeddings.count > capacity { embeddings.removeFirst(embeddings.count - capacity) }
    }

    /// cos(a, b) in double precision; 0 when either vector is zero.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count, "DiversityBank.cosine: widths \(a.count) and \(b.count)")
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in a.indices {
            let x = Double(a[i]), y = Double(b[i])
            dot += x * y
            na += x * x
            nb += y * y
        }
        guard na > 0, nb > 0 else { return 0 }
        return dot / (na.squareRoot() * nb.squareRoot())
    }
}

import AlignTensor
import Foundation

/// A weight as a piecewise-linear function of training progress p ∈ [0, 1], given by
/// `(p, weight)` points: linear between neighbouring points, constant before the first and
/// after the last. Two points at the same p make a step (the later one holds from that p on).
/// E.g. `[(0.7, 0), (1, 0.5)]`: 0 until p = 0.7, then rising to 0.5 at p = 1.
public struct WeightSchedule: Sendable, Equatable, Codable, CustomStringConvertible {
    public struct Point: Sendable, Equatable, Codable {
        public var p: Double
        public var weight: Double
    }

    public private(set) var points: [Point]

    public init(_ points: [(p: Double, weight: Double)]) throws {
        guard !points.isEmpty else {
            throw AlignDataError(.invalidArgument, path: "", "a weight schedule needs at least one (p, weight) point")
        }
        for (i, pt) in points.enumerated() {
            guard pt.p.isFinite, (0 ... 1).contains(pt.p) else {
                throw AlignDataError(.invalidArgument, path: "", "weight schedule point \(i): p = \(pt.p) is not in [0, 1]")
            }
            guard pt.weight.isFinite, pt.weight >= 0 else {
                throw AlignDataError(.invalidArgument, path: "", "weight schedule point \(i): weight \(pt.weight) must be finite and ≥ 0")
            }
            if i > 0, pt.p < points[i - 1].p {
                throw AlignDataError(.invalidArgument, path: "", "weight schedule points must be in increasing p order (point \(i): \(pt.p) < \(points[i - 1].p))")
            }
        }
        self.points = points.map { Point(p: $0.p, weight: $0.weight) }
    }

    /// The same weight throughout.
    public static func constant(_ weight: Double) -> WeightSchedule {
        precondition(weight.isFinite && weight >= 0, "WeightSchedule.constant: weight must be finite and ≥ 0")
        return try! WeightSchedule([(0, weight)])
    }

    /// Parses `"0.3"` (constant) or `"p:w,p:w,…"`, e.g. `"0:0,0.7:0,1:0.5"`.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let w = Double(trimmed) {
            try self.init([(0, w)])
            return
        }
        var pts: [(p: Double, weight: Double)] = []
        for piece in trimmed.split(separator: ",") {
            let parts = piece.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let p = Double(parts[0]), let w = Double(parts[1]) else {
                throw AlignDataError(.invalidArgument, path: "", "weight schedule \(jsonQuoted(text)): expected a number or p:weight pairs separated by commas")
            }
            pts.append((p, w))
        }
        try self.init(pts)
    }

    public func weight(at p: Double) -> Double {
        guard let upper = points.firstIndex(where: { $0.p > p }) else { return points[points.count - 1].weight }
        if upper == 0 { return points[0].weight }
        let a = points[upper - 1], b = points[upper]
        return a.weight + (b.weight - a.weight) * (p - a.p) / (b.p - a.p)
    }

    public var description: String {
        points.count == 1 ? "\(points[0].weight)" : points.map { "\($0.p):\($0.weight)" }.joined(separator: ",")
    }
}

/// One data set of a mixture.
public struct MixtureSource<Example: Sendable>: Sendable {
    public var name: String
    public var examples: [Example]
    public var schedule: WeightSchedule

    public init(name: String, examples: [Example], schedule: WeightSchedule) {
        self.name = name
        self.examples = examples
        self.schedule = schedule
    }
}

/// Where a `MixtureLoader` is: the source-choice generator and every source's cursor.
public struct MixtureState: Sendable, Equatable, Codable {
    public var rng: RandomGenerator
    public var cursors: [EpochCursor]
    /// Batches produced so far.
    public var step: Int
    /// Examples drawn from each source so far.
    public var drawn: [Int]
    public var batchSize: Int
}

/// Batches drawn from several data sets whose weights follow training progress.
///
/// Each element of a batch picks its source with probability weight_i(p) / Σ weight(p), using
/// the loader's seeded generator, and takes that source's next example; every source has its
/// own shuffled `EpochCursor` (a new permutation each time it is exhausted), so sampling is
/// endless and the trainer decides the number of steps. `state` holds the generator and all
/// cursors, so a restored loader continues exactly.
public struct MixtureLoader<Example: Sendable>: Sendable {
    public let sources: [MixtureSource<Example>]
    public let batchSize: Int
    public private(set) var state: MixtureState

    public init(sources: [MixtureSource<Example>], batchSize: Int, seed: UInt64) throws {
        guard !sources.isEmpty else { throw AlignDataError(.invalidArgument, path: "", "a mixture needs at least one source") }
        guard batchSize > 0 else { throw AlignDataError(.invalidArgument, path: "", "batchSize must be positive, got \(batchSize)") }
        for s in sources where s.examples.isEmpty {
            throw AlignDataError(.invalidArgument, path: "", "mixture source \(jsonQuoted(s.name)) has no examples")
        }
        // The total weight is piecewise linear with breakpoints among the sources' points, so it
        // is positive everywhere when it is positive at 0, 1 and every breakpoint.
        let breakpoints = Set([0.0, 1.0] + sources.flatMap { $0.schedule.points.map(\.p) })
        for p in breakpoints.sorted() {
            for q in p > 0 ? [p, p.nextDown] : [p] where sources.map({ $0.schedule.weight(at: q) }).reduce(0, +) <= 0 {
                throw AlignDataError(.invalidArgument, path: "", "the mixture weights are all 0 at p = \(q)")
            }
        }
        self.sources = sources
        self.batchSize = batchSize
        var base = RandomGenerator(seed: seed)
        let chooser = base.fork()
        let cursors = sources.map { EpochCursor(count: $0.examples.count, rng: base.fork()) }
        state = MixtureState(rng: chooser, cursors: cursors, step: 0, drawn: Array(repeating: 0, count: sources.count), batchSize: batchSize)
    }

    /// The sampling probabilities at progress p (clamped to [0, 1]).
    public func probabilities(at p: Double) -> [Double] {
        let p = min(max(p, 0), 1)
        let w = sources.map { $0.schedule.weight(at: p) }
        let total = w.reduce(0, +)
        return w.map { $0 / total }
    }

    /// (source, example index) for each element of the next batch at progress p.
    public mutating func nextIndices(progress p: Double) -> [(source: Int, index: Int)] {
        let probs = probabilities(at: p)
        var out: [(source: Int, index: Int)] = []
        out.reserveCapacity(batchSize)
        for _ in 0 ..< batchSize {
            let u = state.rng.uniformDouble()
            var acc = 0.0
            var source = probs.lastIndex(where: { $0 > 0 })!
            for (i, q) in probs.enumerated() where q > 0 {
                acc += q
                if u < acc { source = i; break }
            }
            out.append((source, state.cursors[source].next()))
            state.drawn[source] += 1
        }
        state.step += 1
        return out
    }

    /// The examples of the next batch at progress p.
    public mutating func next(progress p: Double) -> [Example] {
        nextIndices(progress: p).map { sources[$0.source].examples[$0.index] }
    }

    /// Continues from a saved state; the sources' sizes and the batch size must match.
    public mutating func restore(_ saved: MixtureState) throws {
        guard saved.cursors.count == sources.count, saved.drawn.count == sources.count else {
            throw AlignDataError(.invalidArgument, path: "", "cannot resume: the saved mixture has \(saved.cursors.count) sources, this one \(sources.count)")
        }
        for (i, (c, s)) in zip(saved.cursors, sources).enumerated() where c.count != s.examples.count {
            throw AlignDataError(.invalidArgument, path: "",
                                 "cannot resume: mixture source \(i) (\(jsonQuoted(s.name))) had \(c.count) examples, now \(s.examples.count)")
        }
        guard saved.batchSize == batchSize else {
            throw AlignDataError(.invalidArgument, path: "", "cannot resume: the saved mixture has batch size \(saved.batchSize), this one \(batchSize)")
        }
        state = saved
    }
}

extension MixtureLoader where Example == SFTExample {
    public mutating func nextBatch(progress p: Double, padID: Int) -> Batch {
        Batch(examples: next(progress: p), padID: padID)
    }
}

extension MixtureLoader where Example == PreferenceExample {
    public mutating func nextBatch(progress p: Double, padID: Int) -> PreferenceBatch {
        PreferenceBatch(examples: next(progress: p), padID: padID)
    }
}

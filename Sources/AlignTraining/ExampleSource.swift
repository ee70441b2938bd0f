import AlignData
import AlignNN
import AlignTensor
import Foundation

/// Where a trainer's batches come from: one data set (a seeded, shuffled, endless loader) or a
/// mixture of several whose weights follow training progress. Its `State` is what a checkpoint
/// stores to continue with exactly the batches the uninterrupted run would have seen.
public struct ExampleSource<Example: Sendable>: Sendable {
    enum Kind: Sendable {
        case single(DataLoader<Example>)
        case mixture(MixtureLoader<Example>)
    }

    private var kind: Kind

    /// One source, or several with weight schedules (a mixture).
    public init(_ sources: [MixtureSource<Example>], batchSize: Int, seed: UInt64, shuffle: Bool) throws {
        precondition(!sources.isEmpty, "ExampleSource: no training data")
        if sources.count == 1 {
            kind = .single(DataLoader(examples: sources[0].examples, batchSize: batchSize, seed: seed, epochs: nil, shuffle: shuffle))
        } else {
            kind = .mixture(try MixtureLoader(sources: sources, batchSize: batchSize, seed: seed))
        }
    }

    /// The next batch's examples and, for a single data set, their indices (empty for a mixture).
    public mutating func next(progress: Double) -> (examples: [Example], indices: [Int]) {
        switch kind {
        case .single(var loader):
            let indices = loader.nextIndices()!  // endless
            kind = .single(loader)
            return (indices.map { loader.examples[$0] }, indices)
        case .mixture(var loader):
            let examples = loader.next(progress: progress)
            kind = .mixture(loader)
            return (examples, [])
        }
    }

    public struct State: Codable, Sendable {
        public var single: DataLoaderState?
        public var mixture: MixtureState?
    }

    public var state: State {
        switch kind {
        case .single(let l): return State(single: l.state, mixture: nil)
        case .mixture(let l): return State(single: nil, mixture: l.state)
        }
    }

    public mutating func restore(_ s: State) throws {
        switch kind {
        case .single(var l):
            guard let st = s.single else { throw AlignDataError(.invalidArgument, path: "", "cannot resume: the checkpoint was written for a data mixture") }
            try l.restore(st)
            kind = .single(l)
        case .mixture(var l):
            guard let st = s.mixture else { throw AlignDataError(.invalidArgument, path: "", "cannot resume: the checkpoint was written for a single data set") }
            try l.restore(st)
            kind = .mixture(l)
        }
    }
}

/// The LoRA adapters' dropout streams of a model, for checkpoints (exact resume with dropout):
/// one entry per `Linear` of the model in `namedLinears()` order (nil where it has no adapter
/// or no dropout), so capture and restore always line up.
public enum LoRADropoutState {
    public static func capture(_ model: Module) -> [RandomGenerator?] {
        model.namedLinears().map { $0.1.lora?.dropoutRNG }
    }

    public static func restore(_ streams: [RandomGenerator?], into model: Module) {
        for ((_, linear), stream) in zip(model.namedLinears(), streams) where linear.lora != nil { linear.lora?.dropoutRNG = stream }
    }

    /// Gives rank `rank` of a data-parallel run streams of its own, derived from rank 0's
    /// (rank r forks each stream r times), so ranks never draw the same dropout masks.
    public static func separate(_ model: Module, rank: Int) {
        guard rank > 0 else { return }
        for (_, linear) in model.namedLinears() where linear.lora?.dropoutRNG != nil {
            var stream = linear.lora!.dropoutRNG!
            for _ in 0..<rank { stream = stream.fork() }
            linear.lora?.dropoutRNG = stream
        }
    }
}

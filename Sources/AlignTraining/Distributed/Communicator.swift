/// The processes of a data-parallel run and the collective operations the training loop needs.
///
/// Every process (rank) of a run calls the same collectives in the same order; each call returns
/// once every rank made it. A run without a launcher has one rank (`SingleProcessCommunicator`,
/// where every collective is the identity); under `mpirun` the ranks talk through Open MPI
/// (`MPICommunicator`). Trainers never see MPI: they go through this protocol.
public protocol Communicator: AnyObject {
    /// This process's index, 0..<size. Rank 0 alone writes the run's files.
    var rank: Int { get }
    /// The number of processes in the run.
    var size: Int { get }

    /// Replaces every element of `buffer` by its sum over all ranks.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>)
    /// Replaces every element of `buffer` by its sum over all ranks.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>)
    /// Replaces every element of `buffer` by its maximum over all ranks.
    func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>)
    /// Every rank's `bytes`, indexed by rank (the lengths may differ between ranks).
    func allGather(_ bytes: [UInt8]) -> [[UInt8]]
    /// Returns once every rank has called it.
    func barrier()
}

extension Communicator {
    /// Whether this process writes the run's files (run.json, metrics, checkpoints, final/).
    public var isWriter: Bool { rank == 0 }

    /// True on every rank when `value` is true on any rank.
    public func anyTrue(_ value: Bool) -> Bool {
        guard size > 1 else { return value }
        var v: [Int64] = [value ? 1 : 0]
        v.withUnsafeMutableBufferPointer { allReduceMax($0) }
        return v[0] != 0
    }

    /// `values` summed over all ranks.
    public func sum(_ values: [Double]) -> [Double] {
        guard size > 1 else { return values }
        var v = values
        v.withUnsafeMutableBufferPointer { allReduceSum($0) }
        return v
    }

    /// The concatenation, in rank order, of every rank's `values`.
    public func allGather(_ values: [Float]) -> [Float] {
        guard size > 1 else { return values }
        let bytes = values.withUnsafeBytes { [UInt8]($0) }
        return allGather(bytes).flatMap { part -> [Float] in
            part.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float.self)) }
        }
    }

    /// The contiguous share of `0..<count` this rank takes when `count` items are split over
    /// the ranks (the first `count % size` ranks take one more).
    public func share(of count: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let lower = rank * base + Swift.min(rank, extra)
        return lower..<(lower + base + (rank < extra ? 1 : 0))
    }
}

import CMPI

/// The ranks of an `mpirun` launch, over Open MPI's `MPI_COMM_WORLD`.
///
/// Open MPI's default error handler on the world communicator aborts the whole job, so a rank
/// that dies ends every rank's collective with a non-zero exit instead of a hang.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let world: MPI_Comm

    /// Initialises MPI (once per process); `finalize()` must be called before a normal exit.
    public init() {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 { MPI_Init(nil, nil) }
        world = align_mpi_comm_world()
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &s)
        rank = Int(r)
        size = Int(s)
    }

    /// Ends MPI for this process (after the last collective).
    public func finalize() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0 { MPI_Finalize() }
    }

    /// Elements per `MPI_Allreduce` call. Large buffers go in chunks of 256 Ki elements (1 MiB of
    /// floats): on one host Open MPI's shared-memory all-reduce moved 1 MiB messages at 1.8–6.8
    /// GB/s but 16 MiB and larger ones at 0.13–0.57 GB/s (`align bench --job allreduce`,
    /// BENCHMARKS.md), so a gradient goes faster as many small all-reduces than as one.
    private static let chunk = 1 << 18

    private func reduce(_ base: UnsafeMutableRawPointer?, count: Int, stride: Int, type: MPI_Datatype, op: MPI_Op) {
        guard let base, count > 0 else { return }
        var offset = 0
        while offset < count {
            let n = Swift.min(Self.chunk, count - offset)
            MPI_Allreduce(UnsafeRawPointer(align_mpi_in_place()), base + offset * stride, Int32(n), type, op, world)
            offset += n
        }
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) {
        reduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, stride: 4, type: align_mpi_float(), op: align_mpi_sum())
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) {
        reduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, stride: 8, type: align_mpi_double(), op: align_mpi_sum())
    }

    public func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>) {
        reduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, stride: 8, type: align_mpi_int64(), op: align_mpi_max())
    }

    public func allGather(_ bytes: [UInt8]) -> [[UInt8]] {
        var mine = Int64(bytes.count)
        var lengths = [Int64](repeating: 0, count: size)
        MPI_Allgather(&mine, 1, align_mpi_int64(), &lengths, 1, align_mpi_int64(), world)
        var counts = lengths.map { Int32($0) }
        var displacements = [Int32](repeating: 0, count: size)
        for i in 1..<Swift.max(size, 1) { displacements[i] = displacements[i - 1] + counts[i - 1] }
        var all = [UInt8](repeating: 0, count: Int(lengths.reduce(0, +)))
        var send = bytes
        send.withUnsafeMutableBytes { s in
            all.withUnsafeMutableBytes { a in
                _ = MPI_Allgatherv(s.baseAddress, Int32(bytes.count), align_mpi_byte(), a.baseAddress, &counts, &displacements,
                                   align_mpi_byte(), world)
            }
        }
        return (0..<size).map { r in Array(all[Int(displacements[r])..<Int(displacements[r] + counts[r])]) }
    }

    public func barrier() { MPI_Barrier(world) }
}

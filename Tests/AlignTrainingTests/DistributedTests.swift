import AlignTensor
import Foundation
import XCTest
@testable import AlignTraining

/// The parts of data parallelism that need no second process: recognising a launch, splitting
/// work over ranks, the step totals' wire format and merge, and which gradients the all-reduce
/// produces. (`mpirun` runs are in AlignCLITests' DataParallelTests.)
final class DistributedTests: XCTestCase {
    /// Rank `rank` of `size` ranks whose peers always contribute what this rank does: a sum
    /// all-reduce multiplies by `size`, a max all-reduce keeps the value, an all-gather returns
    /// `gathered` when given (else this rank's bytes from every rank).
    final class MirroredRanks: Communicator {
        let rank: Int, size: Int
        var gathered: [[UInt8]]?
        init(rank: Int, size: Int, gathered: [[UInt8]]? = nil) { self.rank = rank; self.size = size; self.gathered = gathered }
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) { for i in buffer.indices { buffer[i] *= Float(size) } }
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) { for i in buffer.indices { buffer[i] *= Double(size) } }
        func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Int64>) {}
        func allGather(_ bytes: [UInt8]) -> [[UInt8]] { gathered ?? Array(repeating: bytes, count: size) }
        func barrier() {}
    }

    func testALaunchIsRecognisedFromTheLaunchersVariables() {
        XCTAssertFalse(ProcessGroup.launched([:]))
        XCTAssertFalse(ProcessGroup.launched(["OMPI_COMM_WORLD": "x", "PATH": "/bin"]))
        XCTAssertTrue(ProcessGroup.launched(["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertTrue(ProcessGroup.launched(["PMI_SIZE": "4"]))
        XCTAssertTrue(ProcessGroup.launched(["PMIX_RANK": "0"]))
        // a process not started by a launcher has one rank and never initialises MPI
        XCTAssertEqual(ProcessGroup.current.size, 1)
        XCTAssertTrue(ProcessGroup.current is SingleProcessCommunicator)
    }

    func testSharesAreContiguousInRankOrderAndCoverEveryItemOnce() {
        for size in 1...5 {
            for count in 0...11 {
                let shares = (0..<size).map { MirroredRanks(rank: $0, size: size).share(of: count) }
                XCTAssertEqual(shares.flatMap { Array($0) }, Array(0..<count), "size \(size), count \(count)")
                let lengths = shares.map(\.count)
                XCTAssertLessThanOrEqual(lengths.max()! - lengths.min()!, 1)
            }
        }
    }

    func testStepTotalsSurviveTheWireAndCombineInRankOrder() {
        var a = StepTotals()
        a.loss = 0.25
        a.tokens = 7
        a.metrics = ["nll": 0.5, "kl": -1e-300]
        var b = StepTotals()
        b.loss = 0.125
        b.tokens = 3
        b.metrics = ["nll": 0.25, "extra": 2]
        b.failure = "non-finite loss (nan)"
        b.failedValue = .nan
        var c = StepTotals()
        c.failure = "non-finite loss (inf)"
        c.failedValue = .infinity
        for t in [a, b, c] {
            let back = StepTotals(decoding: t.encoded())
            XCTAssertEqual(back.loss, t.loss)
            XCTAssertEqual(back.tokens, t.tokens)
            XCTAssertEqual(back.metrics, t.metrics)
            XCTAssertEqual(back.failure, t.failure)
            XCTAssertEqual(back.failedValue.bitPattern, t.failedValue.bitPattern)
        }
        let all = a.combined(over: MirroredRanks(rank: 0, size: 3, gathered: [a.encoded(), b.encoded(), c.encoded()]))
        XCTAssertEqual(all.loss, 0.375)
        XCTAssertEqual(all.tokens, 10)
        XCTAssertEqual(all.metrics, ["nll": 0.75, "kl": -1e-300, "extra": 2])
        XCTAssertEqual(all.failure, "non-finite loss (nan)", "the lowest failing rank's failure")
        XCTAssertTrue(all.failedValue.isNaN)
        // one rank: unchanged, no exchange
        let alone = a.combined(over: SingleProcessCommunicator())
        XCTAssertEqual(alone.loss, a.loss)
        XCTAssertEqual(alone.tokens, a.tokens)
        XCTAssertEqual(alone.metrics, a.metrics)
        XCTAssertNil(alone.failure)
    }

    func testTheAllReduceSumsEveryParameterSomeRankHasAGradientFor() {
        let p = [Tensor([1, 2, 3], shape: [3], requiresGrad: true), Tensor([4, 5], shape: [2], requiresGrad: true),
                 Tensor([6], shape: [1], requiresGrad: true)]
        var grads = Gradients()
        grads.set(p[0], Tensor([0.5, -1, 2], shape: [3]))
        grads.set(p[2], Tensor([3], shape: [1]))
        GradientAllReduce.sum(&grads, parameters: p, communicator: MirroredRanks(rank: 1, size: 2))
        XCTAssertEqual(grads[p[0]]?.scalars, [1, -2, 4])
        XCTAssertNil(grads[p[1]], "no rank had a gradient for it: AdamW must skip it, as in one process")
        XCTAssertEqual(grads[p[2]]?.scalars, [6])
        XCTAssertEqual(grads.globalNorm(inOrder: p), Float((1.0 + 4 + 16 + 36).squareRoot()))
    }
}

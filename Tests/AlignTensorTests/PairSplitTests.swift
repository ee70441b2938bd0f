import Foundation
import XCTest
@testable import AlignTensor

/// The caller/helper split of short parallel work, and the fused few-row products built on it:
/// every item is computed once, and the fused products give `linear`'s bits.
final class PairSplitTests: XCTestCase {
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<n).map { _ in rng.uniform() * 2 - 1 }
    }

    func testEveryItemRunsOnceAndNestedCallsDoNotWaitForThemselves() {
        for n in [1, 2, 3, 17, 1000] {
            var seen = [Int](repeating: 0, count: n)
            seen.withUnsafeMutableBufferPointer { counts in
                PairSplit.run(0..<n) { r in
                    for i in r { counts[i] += 1 }
                    // a split inside a split (the helper is taken): runs here, nothing is lost
                    var inner = 0
                    PairSplit.run(0..<10) { s in inner += s.count }
                    precondition(inner == 10)
                }
            }
            XCTAssertEqual(seen, [Int](repeating: 1, count: n), "n \(n)")
        }
        // an offset range
        var hits = [Int](repeating: 0, count: 20)
        hits.withUnsafeMutableBufferPointer { h in PairSplit.run(5..<15) { r in for i in r { h[i] += 1 } } }
        XCTAssertEqual(hits, (0..<20).map { (5..<15).contains($0) ? 1 : 0 })
    }

    func testFusedProductsGiveLinearsBitsInAndOutOfTheBFloat16Scope() {
        let inF = 256
        for rows in [1, 3, 8] {
            for withBias in [false, true] {
                let shapes = [120, 40, 200]   // large enough for the two-thread split
                let layers: [(weight: Tensor, bias: Tensor?)] = shapes.enumerated().map { i, outF in
                    (Tensor(values(outF * inF, seed: UInt64(10 + i)), shape: [outF, inF]),
                     withBias ? Tensor(values(outF, seed: UInt64(20 + i)), shape: [outF]) : nil)
                }
                let x = Tensor(values(rows * inF, seed: UInt64(rows)), shape: [rows, 1, inF])
                let fused = withNoGrad { Tensor.linears(x, layers) }
                let separate = withNoGrad { layers.map { Tensor.linear(x, weight: $0.weight, bias: $0.bias) } }
                for (a, b) in zip(fused, separate) {
                    XCTAssertEqual(a.shape, b.shape)
                    XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "rows \(rows) bias \(withBias)")
                }
                let copies = BFloat16WeightCopies()
                let fusedHalf = copies.reading { withNoGrad { Tensor.linears(x, layers) } }
                let separateHalf = copies.reading { withNoGrad { layers.map { Tensor.linear(x, weight: $0.weight, bias: $0.bias) } } }
                for (a, b) in zip(fusedHalf, separateHalf) {
                    XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "bfloat16 rows \(rows) bias \(withBias)")
                }
                if FewRowsGemm.readsBFloat16 {
                    XCTAssertNotEqual(fusedHalf[0].scalars, fused[0].scalars, "the bfloat16 copies were read")
                }
            }
        }
        // recording gradients: plain linear layers, a graph to differentiate
        let w = Tensor(values(30 * 16, seed: 1), shape: [30, 16], requiresGrad: true)
        let x = Tensor(values(2 * 16, seed: 2), shape: [2, 16])
        let y = Tensor.linears(x, [(w, nil)])[0]
        XCTAssertNotNil(y.backward(seed: Tensor.ones([2, 30]))[w])
    }
}

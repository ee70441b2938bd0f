import XCTest
@testable import AlignTensor

/// Gather, index-select, where / masked-fill and dropout.
final class IndexingGradientTests: XCTestCase {
    func testGatherLastAxis() {
        let x = param([2, 3, 5], seed: 21)
        let idx = [4, 0, 2, 2, 1, 3]
        let g = x.gather(lastAxis: idx)
        XCTAssertEqual(g.shape, [2, 3, 1])
        XCTAssertEqual(g.scalars[0], x.scalars[4])
        XCTAssertEqual(g.scalars[5], x.scalars[25 + 3])
        checkGradients([x]) { $0[0].gather(lastAxis: idx) }
        // k > 1 with a repeated index: gradients add up
        checkGradients([x]) { $0[0].gather(lastAxis: [0, 0, 1, 2, 4, 4, 3, 3, 1, 0, 2, 2], k: 2) }
    }

    func testIndexSelectRowsWithRepeats() {
        let table = param([6, 4], seed: 22)
        let ids = [5, 0, 5, 2, 2, 2]
        let e = table.indexSelect(rows: ids, indexShape: [2, 3])
        XCTAssertEqual(e.shape, [2, 3, 4])
        XCTAssertEqual(Array(e.scalars[0..<4]), Array(table.scalars[20..<24]))
        checkGradients([table]) { $0[0].indexSelect(rows: ids, indexShape: [2, 3]) }
    }

    func testWhereAndMaskedFill() {
        let a = param([2, 3], seed: 23), b = param([3], seed: 24)
        let cond = Tensor([1, 0, 1, 0, 0, 1], shape: [2, 3])
        checkGradients([a, b]) { Tensor.where(cond, $0[0], $0[1]) }
        let mask = Tensor([0, 1, 0], shape: [1, 3])
        let filled = a.maskedFill(mask, -.infinity)
        XCTAssertEqual(filled.scalars[1], -.infinity)
        XCTAssertEqual(filled.scalars[0], a.scalars[0])
        checkGradients([a]) { $0[0].maskedFill(mask, 7) }
        // a masked -inf then softmax: the masked column gets probability 0, no NaN
        let p = filled.softmax().scalars
        XCTAssertEqual(p[1], 0)
        XCTAssertTrue(p.allSatisfy { $0.isFinite })
    }

    func testDropoutIsSeededAndScaled() {
        let x = Tensor.ones([1000], requiresGrad: true)
        var r1 = RandomGenerator(seed: 5), r2 = RandomGenerator(seed: 5)
        let a = x.dropout(0.25, rng: &r1), b = x.dropout(0.25, rng: &r2)
        XCTAssertEqual(a.scalars, b.scalars)
        let kept = a.scalars.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / 1000, 0.75, accuracy: 0.05)
        let g = a.sum().backward()[x]!.scalars
        XCTAssertEqual(g, a.scalars)
    }
}

import XCTest
@testable import AlignTensor

/// Finite-difference checks of reductions and of ops that move elements.
final class ReductionAndShapeGradientTests: XCTestCase {
    let x = param([2, 3, 4], seed: 11)

    func testSumMeanOverEveryAxisCombination() {
        for axes in [[0], [1], [2], [-1], [0, 1], [1, 2], [0, 2], [0, 1, 2]] {
            for keep in [false, true] {
                checkGradients([x]) { $0[0].sum(axes: axes, keepDims: keep) }
                checkGradients([x]) { $0[0].mean(axes: axes, keepDims: keep) }
            }
        }
        checkGradients([x]) { $0[0].sum() }
        checkGradients([x]) { $0[0].mean() }
    }

    func testSumValuesAndShapes() {
        let t = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        XCTAssertEqual(t.sum(axes: [0, 2]).scalars, [60, 92, 124])
        XCTAssertEqual(t.sum(axes: [0, 2], keepDims: true).shape, [1, 3, 1])
        XCTAssertEqual(t.sum(axis: 1).shape, [2, 4])
        XCTAssertEqual(t.sum().item, 276)
    }

    func testVarianceBiasedAndUnbiased() {
        let t = Tensor([1, 2, 3, 4, 2, 2, 2, 6], shape: [2, 4])
        assertClose(t.variance(axes: [1]).scalars, [1.25, 3], atol: 1e-6)
        assertClose(t.variance(axes: [1], correction: 1).scalars, [5.0 / 3, 4], atol: 1e-6)
        checkGradients([x]) { $0[0].variance(axes: [2]) }
        checkGradients([x]) { $0[0].variance(axes: [0, 1], correction: 1, keepDims: true) }
    }

    func testMaxAndMin() {
        let t = Tensor([1, 5, 3, 7, 2, 2], shape: [2, 3], requiresGrad: true)
        XCTAssertEqual(t.max(axis: 1).scalars, [5, 7])
        XCTAssertEqual(t.min(axis: 1).scalars, [1, 2])
        XCTAssertEqual(t.max().item, 7)
        checkGradients([x]) { $0[0].max(axes: [1]) }
        checkGradients([x]) { $0[0].min(axes: [0, 2], keepDims: true) }
        // ties: the first maximal element takes the gradient
        let tie = Tensor([2, 2, 1], shape: [3], requiresGrad: true)
        XCTAssertEqual(tie.max().backward()[tie]!.scalars, [1, 0, 0])
    }

    func testReshapeSharesStorageAndBackpropagates() {
        let r = x.reshaped([6, -1])
        XCTAssertEqual(r.shape, [6, 4])
        XCTAssertTrue(r.storage === x.storage)
        checkGradients([x]) { $0[0].reshaped([4, 6]) }
        checkGradients([x]) { $0[0].unsqueezed(1).squeezed(1) }
    }

    func testPermuteTransposeBroadcast() {
        checkGradients([x]) { $0[0].permuted([2, 0, 1]) }
        checkGradients([x]) { $0[0].transposed() }
        checkGradients([x]) { $0[0].transposed(0, 2) }
        let t = Tensor((0..<6).map(Float.init), shape: [2, 3])
        XCTAssertEqual(t.transposed().scalars, [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(t.permuted([1, 0]).shape, [3, 2])
        let b = param([3, 1], seed: 12)
        checkGradients([b]) { $0[0].broadcast(to: [2, 3, 4]) }
    }

    func testSliceAndConcat() {
        checkGradients([x]) { $0[0].slice(axis: 1, 1..<3) }
        checkGradients([x]) { $0[0].slice(axis: -1, 0..<1) }
        let y = param([2, 2, 4], seed: 13)
        checkGradients([x, y]) { Tensor.concat([$0[0], $0[1]], axis: 1) }
        let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([5, 6], shape: [2, 1])
        XCTAssertEqual(Tensor.concat([a, b], axis: 1).scalars, [1, 2, 5, 3, 4, 6])
        XCTAssertEqual(Tensor.concat([a, a], axis: 0).shape, [4, 2])
    }

    func testEmptyAndSizeOneDimensions() {
        let empty = Tensor.zeros([0, 3], requiresGrad: true)
        XCTAssertEqual(empty.sum(axis: 0).scalars, [0, 0, 0])
        XCTAssertEqual(empty.sum().item, 0)
        XCTAssertEqual(empty.exp().shape, [0, 3])
        XCTAssertEqual((empty + Tensor.ones([3])).shape, [0, 3])
        let g = (empty * 2).sum().backward()
        XCTAssertEqual(g[empty]!.shape, [0, 3])
        let one = param([1, 1, 5], seed: 14)
        checkGradients([one]) { $0[0].sum(axes: [0, 1]) }
        checkGradients([one]) { $0[0].softmax() }
        XCTAssertEqual(Tensor.matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 3])).scalars, [0, 0, 0, 0, 0, 0])
    }
}

import XCTest
@testable import AlignTensor

/// Finite-difference checks of broadcasting binary ops, including every broadcast path
/// (same shape, trailing suffix, leading-suffix, general, scalar tensors).
final class BinaryOpGradientTests: XCTestCase {
    func testSameShape() {
        let a = param([3, 4], seed: 1), b = param([3, 4], seed: 2, std: 0.5, shift: 2)
        checkGradients([a, b]) { $0[0] + $0[1] }
        checkGradients([a, b]) { $0[0] - $0[1] }
        checkGradients([a, b]) { $0[0] * $0[1] }
        checkGradients([a, b]) { $0[0] / $0[1] }
    }

    func testTrailingSuffixBroadcast() {
        let a = param([2, 3, 4], seed: 3), bias = param([4], seed: 4, std: 0.5, shift: 2)
        checkGradients([a, bias]) { $0[0] + $0[1] }
        checkGradients([a, bias]) { $0[0] * $0[1] }
        checkGradients([a, bias]) { $0[1] / $0[0].exp() }
        checkGradients([a, bias]) { $0[1] - $0[0] }
    }

    func testGeneralBroadcastBothSides() {
        let col = param([3, 1], seed: 5), row = param([1, 4], seed: 6, std: 0.5, shift: 2)
        checkGradients([col, row]) { $0[0] * $0[1] }
        checkGradients([col, row]) { $0[0] / $0[1] }
        let mid = param([2, 1, 4], seed: 7), other = param([3, 1], seed: 8)
        checkGradients([mid, other]) { $0[0] + $0[1] }
    }

    func testScalarTensorOperand() {
        let a = param([2, 5], seed: 9), s = param([], seed: 10)
        checkGradients([a, s]) { $0[0] * $0[1] }
        checkGradients([a, s]) { $0[1] - $0[0] }
    }

    func testMinimumMaximumAwayFromTies() {
        let a = Tensor([0.1, 2, -1, 3, 0.5, -2], shape: [2, 3], requiresGrad: true)
        let b = Tensor([1.0, -1, 0.5], shape: [3], requiresGrad: true)
        checkGradients([a, b]) { Tensor.maximum($0[0], $0[1]) }
        checkGradients([a, b]) { Tensor.minimum($0[0], $0[1]) }
    }

    func testTiesSplitTheGradientAsPyTorch() {
        let a = Tensor([1, 2], shape: [2], requiresGrad: true)
        let b = Tensor([1, 3], shape: [2], requiresGrad: true)
        let g = Tensor.maximum(a, b).sum().backward()
        XCTAssertEqual(g[a]!.scalars, [0.5, 0])
        XCTAssertEqual(g[b]!.scalars, [0.5, 1])
    }
}

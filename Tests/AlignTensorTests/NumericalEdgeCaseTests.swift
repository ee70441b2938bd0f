import XCTest
@testable import AlignTensor

/// Extreme inputs: no NaN or Inf where the mathematics is finite.
final class NumericalEdgeCaseTests: XCTestCase {
    func testLogSoftmaxAndCrossEntropyWithHugeLogits() {
        // the third row's exact answers (−2e30) are representable; ±3e38 would overflow any float32 kernel
        let x = Tensor([1e4, -1e4, 0, 88, 89, -89, 1e30, -1e30, 0], shape: [3, 3], requiresGrad: true)
        let ls = x.logSoftmax()
        XCTAssertTrue(ls.scalars.allSatisfy { $0.isFinite }, "\(ls.scalars)")
        XCTAssertEqual(ls.scalars[0], 0, accuracy: 1e-6)
        XCTAssertEqual(ls.scalars[1], -2e4, accuracy: 1)
        let ce = x.crossEntropy(targets: [1, 0, 2])
        XCTAssertTrue(ce.item.isFinite)
        let g = ce.backward()[x]!.scalars
        XCTAssertTrue(g.allSatisfy { $0.isFinite }, "\(g)")
    }

    func testLogSigmoidSoftplusSigmoidAtExtremes() {
        let x = Tensor([-1e4, -100, -20, 0, 20, 100, 1e4], shape: [7], requiresGrad: true)
        let ls = x.logSigmoid().scalars
        XCTAssertEqual(ls[0], -1e4, accuracy: 1e-2)
        XCTAssertEqual(ls[6], 0)
        XCTAssertEqual(ls[3], -Float(M_LN2), accuracy: 1e-7)
        let sp = x.softplus().scalars
        XCTAssertEqual(sp[0], 0)
        XCTAssertEqual(sp[6], 1e4, accuracy: 1e-2)
        let s = x.sigmoid().scalars
        XCTAssertEqual(s[0], 0)
        XCTAssertEqual(s[6], 1)
        for out in [x.logSigmoid(), x.softplus(), x.sigmoid()] {
            let g = out.sum().backward()[x]!.scalars
            XCTAssertTrue(g.allSatisfy { $0.isFinite }, "\(g)")
        }
    }

    func testSoftmaxOfAllMinusInfinityRowIsZero() {
        let x = Tensor([-.infinity, -.infinity, 1, 2], shape: [2, 2], requiresGrad: true)
        let p = x.softmax()
        XCTAssertEqual(Array(p.scalars[0..<2]), [0, 0])
        XCTAssertEqual(p.scalars[2] + p.scalars[3], 1, accuracy: 1e-6)
    }

    func testVectorExpAccuracy() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let rel = abs(fastExp(x) - Foundation.exp(x)) / Foundation.exp(x)
            worst = max(worst, rel)
            x += 0.0137
        }
        XCTAssertLessThan(worst, 3e-7)
        XCTAssertEqual(fastExp(-.infinity), 0)
        XCTAssertEqual(fastExp(-100), 0)
        XCTAssertTrue(fastExp(.nan).isNaN)
    }
}

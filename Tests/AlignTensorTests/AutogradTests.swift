import XCTest
@testable import AlignTensor

/// The graph machinery: recording, no-grad scopes, detach, gradient accumulation when a tensor
/// is used more than once, and independence of the returned gradient buffers.
final class AutogradTests: XCTestCase {
    func testReusedTensorAccumulatesGradient() {
        let x = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        let y = (x * x + x * 3).sum()   // dy/dx = 2x + 3
        XCTAssertEqual(y.backward()[x]!.scalars, [5, 7, 9])
    }

    func testNoGradScopeRecordsNothing() {
        let x = Tensor([1, 2], shape: [2], requiresGrad: true)
        let y = withNoGrad { (x * 2).exp() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.opName)
        let z = withNoGrad { withGrad { x * 2 } }
        XCTAssertTrue(z.requiresGrad)
        XCTAssertTrue(GradMode.isEnabled)
    }

    func testDetachStopsGradient() {
        let x = Tensor([1, 2], shape: [2], requiresGrad: true)
        let y = (x * x.detached()).sum()   // d/dx = x (the detached factor is a constant)
        XCTAssertEqual(y.backward()[x]!.scalars, [1, 2])
    }

    func testGradientsOnlyForTensorsThatRequireThem() {
        let x = Tensor([1, 2], shape: [2], requiresGrad: true)
        let c = Tensor([3, 4], shape: [2])
        let g = (x * c).sum().backward()
        XCTAssertNil(g[c])
        XCTAssertEqual(g[x]!.scalars, [3, 4])
        XCTAssertEqual(g.count, 1)
    }

    func testLeafGradientsAreDistinctBuffers() {
        // a + b passes the same upstream buffer to both leaves; scaling one must not touch the other
        let a = Tensor([1, 1], shape: [2], requiresGrad: true), b = Tensor([2, 2], shape: [2], requiresGrad: true)
        var g = (a + b).backward(seed: Tensor([1, 2], shape: [2]))
        XCTAssertFalse(g[a]!.storage === g[b]!.storage)
        g.scale(by: 0.5)
        XCTAssertEqual(g[a]!.scalars, [0.5, 1])
        XCTAssertEqual(g[b]!.scalars, [0.5, 1])
    }

    func testGradientStoreAddsMicroBatches() {
        let w = Tensor([1, -1], shape: [2], requiresGrad: true)
        var total = Gradients()
        total.add((w * 2).sum().backward())
        total.add((w * 3).sum().backward())
        XCTAssertEqual(total[w]!.scalars, [5, 5])
        XCTAssertEqual(total.globalNorm(), (50 as Float).squareRoot(), accuracy: 1e-6)
    }

    func testDeepChainDoesNotOverflowTheStack() {
        let x = Tensor([1], shape: [1], requiresGrad: true)
        var y = x
        for _ in 0..<20_000 { y = y * 1.0001 }
        let g = y.sum().backward()[x]!.item
        XCTAssertEqual(g, Float(pow(1.0001, 20_000.0)), accuracy: 1e-2)
    }

    func testBackwardOfTensorWithoutGraphIsEmpty() {
        XCTAssertEqual(Tensor.ones([1]).backward().count, 0)
    }
}

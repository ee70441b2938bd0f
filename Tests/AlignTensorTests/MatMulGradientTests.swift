import XCTest
@testable import AlignTensor

/// matmul in every transpose/batch combination and the fused linear layer, against a naive
/// reference product and by finite differences.
final class MatMulGradientTests: XCTestCase {
    /// Reference op(A)·op(B) for one batch in Double.
    func naive(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, tA: Bool, tB: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = tA ? a[p * m + i] : a[i * k + p]
                let bv = tB ? b[j * k + p] : b[p * n + j]
                s += Double(av) * Double(bv)
            }
            c[i * n + j] = Float(s)
        } }
        return c
    }

    func testAllTransposeCombinations2D() {
        let (m, n, k) = (3, 4, 5)
        for tA in [false, true] { for tB in [false, true] {
            let a = param(tA ? [k, m] : [m, k], seed: 31), b = param(tB ? [n, k] : [k, n], seed: 32)
            let c = Tensor.matmul(a, b, transposeA: tA, transposeB: tB)
            XCTAssertEqual(c.shape, [m, n])
            assertClose(c.scalars, naive(a.scalars, b.scalars, m: m, n: n, k: k, tA: tA, tB: tB), atol: 1e-5)
            checkGradients([a, b]) { Tensor.matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
        } }
    }

    func testBatchedWithSharedAndPerBatchRightOperand() {
        for tA in [false, true] { for tB in [false, true] {
            let a = param(tA ? [2, 3, 4, 2] : [2, 3, 2, 4], seed: 33)
            let shared = param(tB ? [5, 4] : [4, 5], seed: 34)
            let batched = param(tB ? [2, 3, 5, 4] : [2, 3, 4, 5], seed: 35)
            checkGradients([a, shared]) { Tensor.matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
            checkGradients([a, batched]) { Tensor.matmul($0[0], $0[1], transposeA: tA, transposeB: tB) }
        } }
    }

    func testLinearBothLayoutsWithAndWithoutBias() {
        let x = param([2, 3, 4], seed: 36)
        let wOI = param([5, 4], seed: 37), wIO = param([4, 5], seed: 38), b = param([5], seed: 39)
        checkGradients([x, wOI, b]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        checkGradients([x, wOI]) { Tensor.linear($0[0], weight: $0[1]) }
        checkGradients([x, wIO, b]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2], layout: .inOut) }
        // the two layouts agree when the weights are transposes of each other
        let y1 = Tensor.linear(x, weight: wOI, bias: b)
        let y2 = Tensor.linear(x, weight: wOI.transposed().detached(), bias: b, layout: .inOut)
        assertClose(y1.scalars, y2.scalars, atol: 1e-6)
        let ref = (Tensor.matmul(x.reshaped([6, 4]), wOI, transposeB: true) + b).scalars
        assertClose(y1.scalars, ref, atol: 1e-5)
    }

    func testSingleRowProductsTakeTheMatrixVectorPath() {
        // m = 1 goes through sgemv, split over output columns when large; check every layout,
        // with a bias folded in (beta = 1) and in the backward
        for (k, n) in [(5, 7), (512, 600)] {
            let x = param([1, k], seed: 40, std: 0.1)
            for layout in [Tensor.WeightLayout.outIn, .inOut] {
                let w = param(layout == .outIn ? [n, k] : [k, n], seed: 41, std: 0.1), b = param([n], seed: 42)
                let y = Tensor.linear(x, weight: w, bias: b, layout: layout)
                let ref = naive(x.scalars, w.scalars, m: 1, n: n, k: k, tA: false, tB: layout == .outIn)
                assertClose(y.scalars, zip(ref, b.scalars).map { $0 + $1 }, atol: 1e-4, "linear \(layout) \(k)x\(n)")
            }
            for tB in [false, true] {
                let w = param(tB ? [n, k] : [k, n], seed: 43, std: 0.1)
                let y = Tensor.matmul(x, w, transposeB: tB)
                assertClose(y.scalars, naive(x.scalars, w.scalars, m: 1, n: n, k: k, tA: false, tB: tB), atol: 1e-4)
            }
        }
        let x = param([1, 6], seed: 44), w = param([6, 4], seed: 45)
        checkGradients([x, w]) { Tensor.matmul($0[0], $0[1]) }
        checkGradients([w, x]) { Tensor.matmul($0[1], $0[0]) }
    }

    func testShapeErrorsNameBothShapes() throws {
        let e = matmulShapeError([2, 3], [4, 5])
        XCTAssertEqual(e?.message, "matmul: inner dimensions 3 and 4 differ for shapes [2, 3] and [4, 5]")
        let rank = try XCTUnwrap(matmulShapeError([3], [3, 3])).message
        XCTAssertTrue(rank.contains("rank ≥ 2"), rank)
        XCTAssertNil(matmulShapeError([2, 3], [4, 3], transposeB: true))
        let batch = try XCTUnwrap(matmulShapeError([2, 2, 3], [3, 3, 4])).message
        XCTAssertTrue(batch.contains("batch dimensions differ"), batch)
        guard case .failure(let be) = broadcastResult([2, 3], [4], op: "add") else { return XCTFail("broadcast accepted") }
        XCTAssertEqual(be.message, "add: shapes [2, 3] and [4] cannot be broadcast together (dimension 1: 3 vs 4)")
        guard case .success(let s) = broadcastResult([2, 1, 4], [3, 1], op: "mul") else { return XCTFail() }
        XCTAssertEqual(s, [2, 3, 4])
    }
}

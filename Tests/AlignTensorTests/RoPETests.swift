import Foundation
import XCTest
@testable import AlignTensor

/// Rotary position embedding: finite-difference gradients, agreement with a composition of
/// primitive ops, and the rotation's defining properties (norm preserved, scores depend only on
/// relative position, backward = inverse rotation). The transformers golden is in
/// AlignNNTests (RoPEGoldenTests, fixture from scripts/gen_model_parity.py).
final class RoPETests: XCTestCase {
    /// HF `apply_rotary_pos_emb` from primitive ops: x·cos + rotate_half(x)·sin, per head.
    func referenceRoPE(_ x: Tensor, heads: Int, headDim D: Int, positions: [Int], theta: Double) -> Tensor {
        let rows = x.count / (heads * D)
        let half = D / 2
        var cosT = [Float](repeating: 0, count: rows * D), sinT = cosT
        for r in 0..<rows {
            for i in 0..<half {
                let angle = Double(positions[r]) / pow(theta, Double(2 * i) / Double(D))
                for j in [i, i + half] {
                    cosT[r * D + j] = Float(cos(angle))
                    sinT[r * D + j] = Float(sin(angle))
                }
            }
        }
        let xh = x.reshaped([rows, heads, D])
        let c = Tensor(cosT, shape: [rows, 1, D]), s = Tensor(sinT, shape: [rows, 1, D])
        let rotated = Tensor.concat([-xh.slice(axis: 2, half..<D), xh.slice(axis: 2, 0..<half)], axis: 2)
        return (xh * c + rotated * s).reshaped(x.shape)
    }

    func testMatchesPrimitiveOpReference() {
        let x = param([2, 3, 2 * 8], seed: 301)
        let positions = [0, 1, 2, 5, 3, 40]
        let y = x.rope(heads: 2, headDim: 8, positions: positions, theta: 10000)
        let ref = referenceRoPE(x, heads: 2, headDim: 8, positions: positions, theta: 10000)
        assertClose(y.scalars, ref.scalars, atol: 2e-5, "rope vs reference")
        XCTAssertEqual(y.shape, x.shape)
        XCTAssertEqual(y.opName, "rope")
        // position 0 is the identity
        let zero = x.rope(heads: 2, headDim: 8, positions: [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(zero.scalars, x.scalars)
    }

    func testGradients() {
        // (B, T, heads·D) with per-token positions as for left padding and a KV-cache offset
        let x = param([2, 3, 3 * 4], seed: 302)
        checkGradients([x]) { $0[0].rope(heads: 3, headDim: 4, positions: [4, 5, 6, 1, 1, 0], theta: 100) }
        let table = RoPETable(headDim: 6, theta: 10000, maxPositions: 64)
        let y = param([5, 2 * 6], seed: 303)
        checkGradients([y]) { $0[0].rope(heads: 2, headDim: 6, positions: [0, 9, 17, 33, 63], table: table) }
        // composed with other ops (gradient reaches the input through the rotation)
        checkGradients([x]) { ($0[0].rope(heads: 3, headDim: 4, positions: [0, 1, 2, 0, 1, 2]) * $0[0]).sum(axes: [2]) }
    }

    func testBackwardIsInverseRotation() {
        let x = param([1, 4, 16], seed: 304)
        let positions = [3, 7, 11, 1000]
        let y = x.rope(heads: 2, headDim: 8, positions: positions)
        // the gradient of Σ y·g is R⁻¹g; with g = y it gives back x
        let g = y.backward(seed: y.detached())[x]!
        assertClose(g.scalars, x.scalars, atol: 1e-5, "R⁻¹(R x)")
        // rotations preserve every head's norm
        for r in 0..<4 {
            for h in 0..<2 {
                let a = (0..<8).map { x.pointer[r * 16 + h * 8 + $0] }, b = (0..<8).map { y.pointer[r * 16 + h * 8 + $0] }
                XCTAssertEqual(a.map { $0 * $0 }.reduce(0, +), b.map { $0 * $0 }.reduce(0, +), accuracy: 1e-4)
            }
        }
    }

    func testScoresDependOnlyOnRelativePosition() {
        let q = param([1, 1, 8], seed: 305), k = param([1, 1, 8], seed: 306)
        func score(_ pq: Int, _ pk: Int) -> Float {
            let a = q.rope(heads: 1, headDim: 8, positions: [pq]), b = k.rope(heads: 1, headDim: 8, positions: [pk])
            return zip(a.scalars, b.scalars).map(*).reduce(0, +)
        }
        XCTAssertEqual(score(5, 2), score(13, 10), accuracy: 1e-4)
        XCTAssertEqual(score(0, 0), score(30, 30), accuracy: 1e-4)
        XCTAssertNotEqual(score(5, 2), score(2, 5), accuracy: 1e-3)
    }

    func testTableMatchesOnTheFlyAndLargeBatchesRunParallel() {
        // enough rows to take the parallel path of parallelChunks
        let x = param([4, 256, 2 * 16], seed: 307)
        let positions = (0..<4).flatMap { b in (0..<256).map { $0 + 3 * b } }
        let table = RoPETable(headDim: 16, theta: 500_000, maxPositions: 300)
        let a = x.rope(heads: 2, headDim: 16, positions: positions, table: table)
        let b = x.rope(heads: 2, headDim: 16, positions: positions, theta: 500_000)
        XCTAssertEqual(a.scalars, b.scalars)
        let ref = referenceRoPE(x, heads: 2, headDim: 16, positions: positions, theta: 500_000)
        assertClose(a.scalars, ref.scalars, atol: 5e-4, "parallel rope vs reference")
        let g = a.backward(seed: Tensor.ones(a.shape))[x]!
        XCTAssertEqual(g.shape, x.shape)
    }
}

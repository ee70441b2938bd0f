import XCTest
@testable import AlignTensor

/// Finite-difference checks of every element-wise op of one tensor.
final class UnaryOpGradientTests: XCTestCase {
    let x = param([3, 5], seed: 1)

    func testNegExpTanhSigmoid() {
        checkGradients([x]) { $0[0].neg() }
        checkGradients([x]) { $0[0].exp() }
        checkGradients([x]) { $0[0].tanh() }
        checkGradients([x]) { $0[0].sigmoid() }
        checkGradients([x]) { -$0[0] }
    }

    func testLogSqrtRsqrtPowOnPositiveInputs() {
        let pos = param([3, 4], seed: 2, std: 0.3, shift: 2)
        checkGradients([pos]) { $0[0].log() }
        checkGradients([pos]) { $0[0].sqrt() }
        checkGradients([pos]) { $0[0].rsqrt() }
        checkGradients([pos]) { $0[0].pow(3) }
        checkGradients([pos]) { $0[0].pow(-0.5) }
        checkGradients([pos]) { $0[0].square() }
        checkGradients([pos]) { 2 / $0[0] }
    }

    func testLogSigmoidSoftplusSiLUGELU() {
        let wide = param([4, 6], seed: 3, std: 3)
        checkGradients([wide]) { $0[0].logSigmoid() }
        checkGradients([wide]) { $0[0].softplus() }
        checkGradients([wide]) { $0[0].silu() }
        checkGradients([wide]) { $0[0].gelu() }
    }

    func testPiecewiseOpsAwayFromKinks() {
        // inputs kept ≥ 0.1 away from the kinks so the finite difference does not straddle one
        let v: [Float] = [-2, -0.7, -0.3, 0.2, 0.6, 1.4, 2.5, -1.2]
        let t = Tensor(v, shape: [2, 4], requiresGrad: true)
        checkGradients([t]) { $0[0].relu() }
        checkGradients([t]) { $0[0].abs() }
        checkGradients([t]) { $0[0].clamp(min: -0.5, max: 1.0) }
    }

    func testScalarArithmetic() {
        checkGradients([x]) { $0[0] + 3 }
        checkGradients([x]) { 3 - $0[0] }
        checkGradients([x]) { $0[0] * 2.5 }
        checkGradients([x]) { $0[0] / 4 }
        checkGradients([x]) { ($0[0] - 1) * -0.5 }
    }

    func testGELUSingleElementTailsAndLargeMagnitudes() {
        // counts not divisible by 8 exercise the scalar tail of the vector kernel
        let t = Tensor([-30, -6, -1, 0, 0.5, 6, 30], shape: [7], requiresGrad: true)
        let y = t.gelu().scalars
        XCTAssertEqual(y[0], 0, accuracy: 1e-6)
        XCTAssertEqual(y[3], 0, accuracy: 1e-7)
        XCTAssertEqual(y[6], 30, accuracy: 1e-5)
        checkGradients([Tensor([-2.5, -0.3, 0.4, 1.7, 3.1], shape: [5], requiresGrad: true)]) { $0[0].gelu() }
    }
}

extension UnaryOpGradientTests {
    func testSiLUValuesTailsAndExtremes() {
        // 11 values: the vector body and the scalar tail; compared with x/(1+e^{-x}) in Double
        let v: [Float] = [-200, -30, -5, -1, -0.1, 0, 0.1, 1, 5, 30, 200]
        let y = Tensor(v, shape: [11]).silu().scalars
        for (x, got) in zip(v, y) {
            let want = Double(x) / (1 + exp(-Double(x)))
            XCTAssertEqual(Double(got), want, accuracy: 1e-6 + 1e-6 * abs(want), "silu(\(x))")
        }
        let t = Tensor(v, shape: [11], requiresGrad: true)
        XCTAssertTrue(t.silu().sum().backward()[t]!.scalars.allSatisfy { $0.isFinite })
        checkGradients([Tensor([-3.3, -0.7, 0.2, 1.9, 4.4, -6, 2.5, 0.9, -1.5], shape: [9], requiresGrad: true)]) { $0[0].silu() }
    }

    /// The fused SwiGLU gate equals silu(gate) ⊙ up bit for bit, forward and backward, and its
    /// gradient passes the finite-difference check (sizes with and without a SIMD tail).
    func testFusedSwiGLUIsTheUnfusedOpsExactly() {
        var rng = RandomGenerator(seed: 8)
        for n in [5, 16, 37] {
            let gate = Tensor.randn([n], std: 3, rng: &rng, requiresGrad: true), up = Tensor.randn([n], rng: &rng, requiresGrad: true)
            let seed = Tensor.randn([n], rng: &rng)
            let fused = Tensor.swiglu(gate: gate, up: up), plain = gate.silu() * up
            XCTAssertEqual(fused.scalars, plain.scalars)
            let gf = fused.backward(seed: seed), gp = plain.backward(seed: seed)
            XCTAssertEqual(gf[gate]!.scalars, gp[gate]!.scalars)
            XCTAssertEqual(gf[up]!.scalars, gp[up]!.scalars)
        }
        checkGradients([Tensor([-3.3, -0.7, 0.2, 1.9, 4.4, -6, 2.5, 0.9, -1.5], shape: [3, 3], requiresGrad: true),
                        Tensor([0.5, -1.2, 2.0, 0.3, -0.8, 1.1, -2.2, 0.7, 1.6], shape: [3, 3], requiresGrad: true)]) {
            Tensor.swiglu(gate: $0[0], up: $0[1])
        }
    }
}

import AlignTensor
import AlignTraining
import Foundation
import XCTest
@testable import DPOTrainer

/// Gradients (finite differences), the step-0 invariant, label smoothing, extreme inputs.
final class DPOLossPropertyTests: XCTestCase {
    typealias Kit = DPOLossTestKit

    /// Four pairs away from every kink (hinge at βΔ = 1, dpop at ρ_w = 0) by much more than the
    /// finite-difference step: ρ_w = [0.8, −0.6, 0.35, −2.1], ρ_l = [−0.4, 1.2, 0.5, 0.7],
    /// Δ = [1.2, −1.8, −0.15, −2.8].
    static let smooth = Kit.Pairs(policyChosen: [-3.2, -7.5, -1.1, -12.0], policyRejected: [-5.5, -6.0, -2.4, -9.3],
                                  referenceChosen: [-4.0, -6.9, -1.45, -9.9], referenceRejected: [-5.1, -7.2, -2.9, -10.0],
                                  chosenLength: [3, 8, 1, 12], rejectedLength: [5, 6, 2, 9])

    /// Each kind with the parameters its gradient is checked at.
    static let settings: [(DPOLoss, beta: Float, eps: Float, lambda: Float, gamma: Float)] = [
        (.sigmoid, 0.5, 0, 50, 0.5),
        (.sigmoid, 0.5, 0.2, 50, 0.5),
        (.robust, 0.5, 0.2, 50, 0.5),
        (.hinge, 2.0, 0, 50, 0.5),      // βΔ = [2.4, −3.6, −0.3, −5.6]: pair 0 past the hinge
        (.ipo, 0.5, 0, 50, 0.5),
        (.dpop, 0.5, 0, 5, 0.5),        // pairs 1 and 3 have ρ_w < 0 (penalty active)
        (.lnDPO, 0.5, 0, 50, 0.5),
        (.simpo, 2.0, 0, 50, 0.5),
    ]

    func testFiniteDifferenceGradientsOfEveryLoss() {
        XCTAssertEqual(Set(Self.settings.map(\.0)), Set(DPOLoss.allCases), "every loss kind is checked")
        for (kind, beta, eps, lambda, gamma) in Self.settings {
            let x = Kit.inputs(Self.smooth)
            let what = "\(kind.rawValue) β=\(beta) ε=\(eps)"
            Kit.checkGradients([x.policyChosen, x.policyRejected], what) {
                Kit.run(kind, x, beta: beta, labelSmoothing: eps, dpopLambda: lambda, simpoGamma: gamma).losses
            }
            Kit.checkGradients([x.policyChosen, x.policyRejected], what + " (mean)") {
                Kit.run(kind, x, beta: beta, labelSmoothing: eps, dpopLambda: lambda, simpoGamma: gamma).loss
            }
        }
    }

    func testReferenceAndLengthsReceiveNoGradient() {
        let p = Self.smooth, n = [p.count]
        let pc = Tensor(p.policyChosen, shape: n, requiresGrad: true)
        let pr = Tensor(p.policyRejected, shape: n, requiresGrad: true)
        let rc = Tensor(p.referenceChosen, shape: n, requiresGrad: true)
        let rr = Tensor(p.referenceRejected, shape: n, requiresGrad: true)
        let lc = Tensor(p.chosenLength, shape: n, requiresGrad: true)
        let lr = Tensor(p.rejectedLength, shape: n, requiresGrad: true)
        for kind in DPOLoss.allCases {
            let out = DPOLosses.loss(kind, policyChosen: pc, policyRejected: pr, referenceChosen: rc, referenceRejected: rr,
                                     chosenLength: lc, rejectedLength: lr, beta: 0.5, labelSmoothing: 0,
                                     dpopLambda: 5, simpoGamma: 0.5)
            let g = out.loss.backward()
            XCTAssertNotNil(g[pc], kind.rawValue)
            XCTAssertNotNil(g[pr], kind.rawValue)
            for t in [rc, rr, lc, lr] { XCTAssertNil(g[t], "\(kind.rawValue): reference/length got a gradient") }
        }
    }

    func testStepZeroPolicyEqualsReference() {
        // policy = reference ⇒ ρ = 0, Δ = 0: sigmoid = ln 2 whatever ε; robust = ((1−ε)ln2 − ε ln2)/(1−2ε) = ln 2;
        // hinge = relu(1) = 1; ipo = (0 − 1/(2β))² = 1/(4β²) = 25 at β = 0.1; dpop = ln_dpo = ln 2.
        var rng = RandomGenerator(seed: 7)
        let logps = (0..<5).map { _ in -20 * rng.uniform() - 1 }
        let rejected = (0..<5).map { _ in -20 * rng.uniform() - 1 }
        let p = Kit.Pairs(policyChosen: logps, policyRejected: rejected, referenceChosen: logps, referenceRejected: rejected,
                          chosenLength: [3, 7, 1, 12, 5], rejectedLength: [4, 2, 9, 6, 5])
        let ln2: Float = 0.6931471806
        let expected: [(DPOLoss, Float, Float)] = [
            (.sigmoid, 0, ln2), (.sigmoid, 0.2, ln2), (.robust, 0, ln2), (.robust, 0.3, ln2),
            (.hinge, 0, 1), (.ipo, 0, 25), (.dpop, 0, ln2), (.lnDPO, 0, ln2),
        ]
        for (kind, eps, value) in expected {
            let x = Kit.inputs(p)
            let out = Kit.run(kind, x, beta: 0.1, labelSmoothing: eps)
            Kit.assertClose(out.losses.scalars, [Float](repeating: value, count: 5), atol: 2e-6, rtol: 1e-6, kind.rawValue)
            XCTAssertEqual(out.loss.item, value, accuracy: 2e-6, kind.rawValue)
            XCTAssertEqual(out.chosenRewards.scalars, [0, 0, 0, 0, 0], kind.rawValue)
            XCTAssertEqual(out.rejectedRewards.scalars, [0, 0, 0, 0, 0], kind.rawValue)
            let m = DPOMetrics.compute(out, kind: kind, policyChosen: x.policyChosen, policyRejected: x.policyRejected,
                                       chosenLength: x.chosenLength, rejectedLength: x.rejectedLength)
            for key in ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"] {
                XCTAssertEqual(m[key], 0, "\(kind.rawValue) \(key)")
            }
        }
        // sigmoid gradient at step 0: ∂L/∂logπ_w = −β·σ(0)/P = −0.1·½/5 = −0.01 (dpop is the same:
        // its penalty max(0, −ρ_w) is flat at ρ_w = 0)
        for kind in [DPOLoss.sigmoid, .dpop] {
            let x = Kit.inputs(p)
            let g = Kit.run(kind, x, beta: 0.1).loss.backward()
            Kit.assertClose(g[x.policyChosen]!.scalars, [Float](repeating: -0.01, count: 5), atol: 1e-8, kind.rawValue)
            Kit.assertClose(g[x.policyRejected]!.scalars, [Float](repeating: 0.01, count: 5), atol: 1e-8, kind.rawValue)
        }
    }

    /// One pair with margin Δ (ρ_w = Δ, ρ_l = 0).
    func onePair(_ delta: Float) -> Kit.Inputs {
        Kit.inputs(Kit.Pairs(policyChosen: [-10 + delta], policyRejected: [-12], referenceChosen: [-10],
                             referenceRejected: [-12], chosenLength: [4], rejectedLength: [4]))
    }

    func testLabelSmoothingMovesTheMinimumToAFiniteMargin() {
        // cDPO: ∂L/∂Δ = β·(ε·σ(z) − (1−ε)·σ(−z)) vanishes at z* = ln((1−ε)/ε); with ε = 0.1, β = 0.1:
        // Δ* = 10·ln 9 = 21.9722. Plain DPO (ε = 0) keeps pushing Δ up (negative gradient everywhere).
        let beta: Float = 0.1, eps: Float = 0.1
        let star = log((1 - eps) / eps) / beta
        func slope(_ delta: Float, _ e: Float) -> Float {
            let x = onePair(delta)
            return Kit.run(.sigmoid, x, beta: beta, labelSmoothing: e).loss.backward()[x.policyChosen]!.item
        }
        XCTAssertEqual(slope(star, eps), 0, accuracy: 1e-6)
        XCTAssertLessThan(slope(star - 5, eps), 0)
        XCTAssertGreaterThan(slope(star + 5, eps), 0)
        XCTAssertLessThan(slope(star + 5, 0), 0)
        // far past the optimum the smoothed loss grows like ε·βΔ: at Δ = 500, sp(−50) + 0.1·50 ≈ 5
        XCTAssertEqual(Kit.run(.sigmoid, onePair(500), beta: beta, labelSmoothing: eps).loss.item, 5, accuracy: 1e-4)
    }

    func testRobustLossIsUnbiasedUnderLabelFlips() {
        // Chowdhury et al.: if a label is flipped with probability ε, the expected robust loss is the
        // clean DPO loss: (1−ε)·L_rob(Δ) + ε·L_rob(−Δ) = −logσ(βΔ). L_rob(−Δ) swaps chosen and rejected.
        for eps: Float in [0.05, 0.2, 0.4] {
            for delta: Float in [-30, -4, -0.5, 0, 1, 7, 25] {
                let robust = Kit.run(.robust, onePair(delta), beta: 0.1, labelSmoothing: eps).loss.item
                let flipped = Kit.run(.robust, onePair(-delta), beta: 0.1, labelSmoothing: eps).loss.item
                let clean = Kit.run(.sigmoid, onePair(delta), beta: 0.1).loss.item
                XCTAssertEqual((1 - eps) * robust + eps * flipped, clean, accuracy: 1e-5, "ε \(eps) Δ \(delta)")
            }
        }
    }

    func testZeroSmoothingIsPlainDPOAndOtherLossesIgnoreIt() {
        let plain = Kit.run(.sigmoid, Kit.inputs(Self.smooth), beta: 0.5).losses.scalars
        XCTAssertEqual(Kit.run(.robust, Kit.inputs(Self.smooth), beta: 0.5, labelSmoothing: 0).losses.scalars, plain)
        XCTAssertEqual(Kit.run(.sigmoid, Kit.inputs(Self.smooth), beta: 0.5, labelSmoothing: 0).losses.scalars, plain)
        // smoothing changes sigmoid and robust ...
        XCTAssertNotEqual(Kit.run(.sigmoid, Kit.inputs(Self.smooth), beta: 0.5, labelSmoothing: 0.1).losses.scalars, plain)
        XCTAssertNotEqual(Kit.run(.robust, Kit.inputs(Self.smooth), beta: 0.5, labelSmoothing: 0.1).losses.scalars, plain)
        // ... and nothing else (the configuration rejects it there; TRL's CPO would smooth simpo)
        for kind in [DPOLoss.hinge, .ipo, .dpop, .lnDPO, .simpo] {
            let a = Kit.run(kind, Kit.inputs(Self.smooth), beta: 0.5, labelSmoothing: 0).losses.scalars
            let b = Kit.run(kind, Kit.inputs(Self.smooth), beta: 0.5, labelSmoothing: 0.3).losses.scalars
            XCTAssertEqual(a, b, kind.rawValue)
        }
    }

    func testDPOPEqualsSigmoidWhileTheChosenRatioIsPositive() {
        // penalty max(0, −ρ_w) = 0 when ρ_w ≥ 0 (pairs 0 and 2 of `smooth`), active otherwise
        let s = Kit.run(.sigmoid, Kit.inputs(Self.smooth), beta: 0.5).losses.scalars
        let d = Kit.run(.dpop, Kit.inputs(Self.smooth), beta: 0.5, dpopLambda: 5).losses.scalars
        XCTAssertEqual(d[0], s[0])
        XCTAssertEqual(d[2], s[2])
        XCTAssertGreaterThan(d[1], s[1])
        XCTAssertGreaterThan(d[3], s[3])
        // λ = 0 is plain DPO
        XCTAssertEqual(Kit.run(.dpop, Kit.inputs(Self.smooth), beta: 0.5, dpopLambda: 0).losses.scalars, s)
    }

    func testExtremeMarginsGiveFiniteLossesAndGradients() {
        // pair 0: ρ_w = +1000, ρ_l = 0 → Δ = +1000; pair 1: ρ_w = −1000 → Δ = −1000;
        // pair 2: Δ = +1000 through ρ_l = −1000 (ρ_w = 0)
        let p = Kit.Pairs(policyChosen: [0, -1000, -5], policyRejected: [-7, -7, -1007],
                          referenceChosen: [-1000, 0, -5], referenceRejected: [-7, -7, -7],
                          chosenLength: [10, 10, 10], rejectedLength: [10, 10, 10])
        for kind in DPOLoss.allCases {
            for beta: Float in [0.1, 1, 2] {
                let x = Kit.inputs(p)
                let out = Kit.run(kind, x, beta: beta, labelSmoothing: kind == .robust || kind == .sigmoid ? 0.1 : 0)
                let g = out.loss.backward()
                let what = "\(kind.rawValue) β=\(beta)"
                XCTAssertTrue(Kit.allFinite(out.losses.scalars), "\(what) losses \(out.losses.scalars)")
                XCTAssertTrue(out.loss.item.isFinite, what)
                XCTAssertTrue(Kit.allFinite(out.chosenRewards.scalars + out.rejectedRewards.scalars), what)
                XCTAssertTrue(Kit.allFinite(g[x.policyChosen]!.scalars + g[x.policyRejected]!.scalars), what)
            }
        }
        // plain DPO at z = βΔ = ±1000 (β = 1): sp(−1000) = 0 (σ(−1000) underflows: zero gradient),
        // sp(1000) = 1000 exactly in float32 with gradient −β/P = −1/3 on logπ_w
        let x = Kit.inputs(p)
        let out = Kit.run(.sigmoid, x, beta: 1)
        Kit.assertClose(out.losses.scalars, [0, 1000, 0], atol: 1e-6, rtol: 1e-7)
        let g = out.loss.backward()
        Kit.assertClose(g[x.policyChosen]!.scalars, [0, -1.0 / 3, 0], atol: 1e-7)
        Kit.assertClose(g[x.policyRejected]!.scalars, [0, 1.0 / 3, 0], atol: 1e-7)
    }
}

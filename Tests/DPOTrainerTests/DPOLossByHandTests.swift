import AlignTensor
import AlignTraining
import XCTest
@testable import DPOTrainer

/// Every DPO-family loss of ALGORITHMS.md on three pairs computed by hand.
///
/// Inputs (DPOLossTestKit.hand): ρ_w = [2, −2, 0], ρ_l = [−1, 3, 0], Δ = [3, −5, 0],
/// |y_w| = [4, 10, 2], |y_l| = [5, 8, 3], logπ_w = [−10, −20, −5], logπ_l = [−15, −22, −9].
/// sp(x) = softplus(x) = ln(1 + eˣ), so −logσ(z) = sp(−z); the values were evaluated once with
/// 30-digit arithmetic (mpmath) and pasted.
final class DPOLossByHandTests: XCTestCase {
    typealias Kit = DPOLossTestKit
    let tol: Float = 2e-6

    func check(_ out: DPOLossOutput, losses: [Float], chosenRewards: [Float], rejectedRewards: [Float],
               file: StaticString = #filePath, line: UInt = #line) {
        Kit.assertClose(out.losses.scalars, losses, atol: tol, rtol: 1e-6, "losses", file: file, line: line)
        let mean = losses.reduce(0, +) / Float(losses.count)
        XCTAssertEqual(out.loss.shape, [], file: file, line: line)
        XCTAssertEqual(out.loss.item, mean, accuracy: tol + 1e-6 * abs(mean), "mean loss", file: file, line: line)
        Kit.assertClose(out.chosenRewards.scalars, chosenRewards, atol: 1e-6, "chosen rewards", file: file, line: line)
        Kit.assertClose(out.rejectedRewards.scalars, rejectedRewards, atol: 1e-6, "rejected rewards", file: file, line: line)
        XCTAssertFalse(out.chosenRewards.requiresGrad, "rewards are detached", file: file, line: line)
        XCTAssertFalse(out.rejectedRewards.requiresGrad, "rewards are detached", file: file, line: line)
    }

    // β·ρ with β = 0.1: chosen 0.1·[2, −2, 0], rejected 0.1·[−1, 3, 0]
    let dpoChosen: [Float] = [0.2, -0.2, 0], dpoRejected: [Float] = [-0.1, 0.3, 0]

    func testSigmoid() {
        // z = βΔ = [0.3, −0.5, 0]; loss = sp(−z) = [ln(1+e^−0.3), ln(1+e^0.5), ln 2]
        let out = Kit.run(.sigmoid, Kit.inputs(Kit.hand), beta: 0.1)
        check(out, losses: [0.5543552445, 0.9740769842, 0.6931471806],
              chosenRewards: dpoChosen, rejectedRewards: dpoRejected)
        XCTAssertEqual(out.loss.item, 0.7405264697, accuracy: tol)
    }

    func testSigmoidGradientByHand() {
        // ∂L/∂logπ_w = −β·σ(−z)/P, ∂L/∂logπ_l = +β·σ(−z)/P with P = 3, σ(−z) = [σ(−0.3), σ(0.5), ½]
        //   = −0.1/3·[0.4255574832, 0.6224593312, 0.5] = [−0.0141852494, −0.0207486444, −0.0166666667]
        let x = Kit.inputs(Kit.hand)
        let g = Kit.run(.sigmoid, x, beta: 0.1).loss.backward()
        let expected: [Float] = [-0.0141852494, -0.0207486444, -0.0166666667]
        Kit.assertClose(g[x.policyChosen]!.scalars, expected, atol: 1e-7, "d/dπ_w")
        Kit.assertClose(g[x.policyRejected]!.scalars, expected.map { -$0 }, atol: 1e-7, "d/dπ_l")
    }

    func testSigmoidWithLabelSmoothing() {
        // cDPO, ε = 0.1: 0.9·sp(−z) + 0.1·sp(z) = sp(−z) + 0.1·z (as sp(z) − sp(−z) = z)
        //   = [0.5543552445 + 0.03, 0.9740769842 − 0.05, 0.6931471806]
        check(Kit.run(.sigmoid, Kit.inputs(Kit.hand), beta: 0.1, labelSmoothing: 0.1),
              losses: [0.5843552445, 0.9240769842, 0.6931471806],
              chosenRewards: dpoChosen, rejectedRewards: dpoRejected)
    }

    func testRobust() {
        // ε = 0.1: [0.9·sp(−z) − 0.1·sp(z)] / 0.8 = [sp(−z) − 0.1·(sp(−z) + sp(z))] / 0.8
        //   pair 0: sp(−0.3) = 0.5543552445, sp(0.3) = 0.8543552445 → (0.4989197200 − 0.0854355245)/0.8
        //   = 0.5168552445; pair 1: (0.8766692858 − 0.0474076984)/0.8 = 1.036576984; pair 2: ln 2
        check(Kit.run(.robust, Kit.inputs(Kit.hand), beta: 0.1, labelSmoothing: 0.1),
              losses: [0.5168552445, 1.036576984, 0.6931471806],
              chosenRewards: dpoChosen, rejectedRewards: dpoRejected)
    }

    func testHinge() {
        // β = 0.1: relu(1 − [0.3, −0.5, 0]) = [0.7, 1.5, 1]
        check(Kit.run(.hinge, Kit.inputs(Kit.hand), beta: 0.1),
              losses: [0.7, 1.5, 1], chosenRewards: dpoChosen, rejectedRewards: dpoRejected)
        // β = 0.5: relu(1 − [1.5, −2.5, 0]) = [0, 3.5, 1]: pair 0 is past the hinge (no gradient)
        let x = Kit.inputs(Kit.hand)
        let out = Kit.run(.hinge, x, beta: 0.5)
        check(out, losses: [0, 3.5, 1], chosenRewards: [1, -1, 0], rejectedRewards: [-0.5, 1.5, 0])
        // ∂/∂logπ_w = −β/P where active: −0.5/3
        Kit.assertClose(out.loss.backward()[x.policyChosen]!.scalars, [0, -0.5 / 3, -0.5 / 3], atol: 1e-7)
    }

    func testIPOUsesPerTokenMeans() {
        // ρ̄_w = ρ_w/|y_w| = [2/4, −2/10, 0/2] = [0.5, −0.2, 0]
        // ρ̄_l = ρ_l/|y_l| = [−1/5, 3/8, 0/3] = [−0.2, 0.375, 0]
        // (ρ̄_w − ρ̄_l − 1/(2·0.1))² = (0.7 − 5)², (−0.575 − 5)², (0 − 5)² = [18.49, 31.080625, 25]
        // rewards stay β·ρ (not per-token), as TRL logs them.
        check(Kit.run(.ipo, Kit.inputs(Kit.hand), beta: 0.1),
              losses: [18.49, 31.080625, 25], chosenRewards: dpoChosen, rejectedRewards: dpoRejected)
    }

    func testDPOP() {
        // λ = 50: penalty max(0, −ρ_w) = [0, 2, 0]; Δ − λ·penalty = [3, −5 − 100, 0] = [3, −105, 0]
        // loss = sp(−0.1·[3, −105, 0]) = [sp(−0.3), sp(10.5), ln 2] = [0.5543552445, 10.50002754, ln 2]
        let x = Kit.inputs(Kit.hand)
        let out = Kit.run(.dpop, x, beta: 0.1, dpopLambda: 50)
        check(out, losses: [0.5543552445, 10.50002754, 0.6931471806],
              chosenRewards: dpoChosen, rejectedRewards: dpoRejected)
        // pair 1 (ρ_w < 0): ∂/∂logπ_w = −β·(1 + λ)·σ(−z)/P = −0.1·51·σ(10.5)/3 = −1.6999531893;
        // the others as sigmoid: −0.1·σ(−0.3)/3, −0.1·½/3 (relu'(0) = 0 at ρ_w = 0)
        let g = out.loss.backward()[x.policyChosen]!.scalars
        Kit.assertClose(g, [-0.0141852494, -1.6999531893, -0.0166666667], atol: 2e-6, rtol: 1e-6, "d/dπ_w")
    }

    func testLengthNormalisedDPO() {
        // z = β·(ρ̄_w − ρ̄_l) = 0.1·[0.7, −0.575, 0] = [0.07, −0.0575, 0]
        // loss = sp(−z) = [sp(−0.07), sp(0.0575), ln 2] = [0.6587595555, 0.7223104049, 0.6931471806]
        check(Kit.run(.lnDPO, Kit.inputs(Kit.hand), beta: 0.1),
              losses: [0.6587595555, 0.7223104049, 0.6931471806],
              chosenRewards: dpoChosen, rejectedRewards: dpoRejected)
    }

    func testSimPO() {
        // β = 2, γ = 0.5. logπ/|y|: chosen [−10/4, −20/10, −5/2] = [−2.5, −2, −2.5],
        // rejected [−15/5, −22/8, −9/3] = [−3, −2.75, −3]; differences [0.5, 0.75, 0.5]
        // z = 2·diff − 0.5 = [0.5, 1, 0.5]; loss = sp(−z) = [0.4740769842, 0.3132616875, 0.4740769842]
        // rewards (TRL CPO): β·logπ/|y| = chosen [−5, −4, −5], rejected [−6, −5.5, −6]
        let x = Kit.inputs(Kit.hand)
        let out = DPOLosses.loss(.simpo, policyChosen: x.policyChosen, policyRejected: x.policyRejected,
                                 referenceChosen: nil, referenceRejected: nil,
                                 chosenLength: x.chosenLength, rejectedLength: x.rejectedLength,
                                 beta: 2, labelSmoothing: 0, dpopLambda: 50, simpoGamma: 0.5)
        check(out, losses: [0.4740769842, 0.3132616875, 0.4740769842],
              chosenRewards: [-5, -4, -5], rejectedRewards: [-6, -5.5, -6])
        // the reference is ignored when given
        Kit.assertClose(Kit.run(.simpo, x, beta: 2, simpoGamma: 0.5).losses.scalars, out.losses.scalars, atol: 0)
    }

    func testMetrics() {
        // sigmoid, β = 0.1: rewards chosen [0.2, −0.2, 0], rejected [−0.1, 0.3, 0]
        //   rewards/chosen = 0/3 = 0, rewards/rejected = 0.2/3, margins = [0.3, −0.5, 0] → −0.2/3
        //   accuracies: only pair 0 has chosen > rejected (the tie does not count) → 1/3
        //   logps/chosen = (−10 − 20 − 5)/3 = −35/3, logps/rejected = (−15 − 22 − 9)/3 = −46/3
        let x = Kit.inputs(Kit.hand)
        let out = Kit.run(.sigmoid, x, beta: 0.1)
        let m = DPOMetrics.compute(out, kind: .sigmoid, policyChosen: x.policyChosen, policyRejected: x.policyRejected,
                                   chosenLength: x.chosenLength, rejectedLength: x.rejectedLength)
        XCTAssertEqual(Set(m.keys), ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies",
                                     "logps/chosen", "logps/rejected"])
        XCTAssertEqual(m["rewards/chosen"]!, 0, accuracy: 1e-7)
        XCTAssertEqual(m["rewards/rejected"]!, 0.2 / 3, accuracy: 1e-7)
        XCTAssertEqual(m["rewards/margins"]!, -0.2 / 3, accuracy: 1e-7)
        XCTAssertEqual(m["rewards/accuracies"]!, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m["logps/chosen"]!, -35.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(m["logps/rejected"]!, -46.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(DPOMetrics(out, kind: .sigmoid, policyChosen: x.policyChosen, policyRejected: x.policyRejected,
                                  chosenLength: x.chosenLength, rejectedLength: x.rejectedLength).pairs, 3)

        // simpo (CPO convention): logps/* are the per-token averages, rewards β·average
        //   logps/chosen = (−2.5 − 2 − 2.5)/3 = −7/3, logps/rejected = (−3 − 2.75 − 3)/3 = −8.75/3
        //   rewards/chosen = 2·(−7/3), accuracies 3/3 (every chosen average is higher)
        let s = Kit.run(.simpo, x, beta: 2, simpoGamma: 0.5)
        let ms = DPOMetrics.compute(s, kind: .simpo, policyChosen: x.policyChosen, policyRejected: x.policyRejected,
                                    chosenLength: x.chosenLength, rejectedLength: x.rejectedLength)
        XCTAssertEqual(ms["logps/chosen"]!, -7.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(ms["logps/rejected"]!, -8.75 / 3, accuracy: 1e-6)
        XCTAssertEqual(ms["rewards/chosen"]!, -14.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(ms["rewards/margins"]!, 2 * 1.75 / 3, accuracy: 1e-6)
        XCTAssertEqual(ms["rewards/accuracies"]!, 1)
    }
}

import AlignTensor
import AlignTraining
import XCTest
@testable import DPOTrainer

/// Helpers of the DPOLoss* tests (namespaced so they cannot clash with other tests of the target).
enum DPOLossTestKit {
    /// Per-pair inputs of `DPOLosses.loss`.
    struct Pairs {
        var policyChosen: [Float]
        var policyRejected: [Float]
        var referenceChosen: [Float]
        var referenceRejected: [Float]
        var chosenLength: [Float]
        var rejectedLength: [Float]

        var count: Int { policyChosen.count }
    }

    /// The three pairs of the hand-computed tests:
    ///   ρ_w = logπ_w − logπref_w = [−10+12, −20+18, −5+5] = [2, −2, 0]
    ///   ρ_l = logπ_l − logπref_l = [−15+14, −22+25, −9+9] = [−1, 3, 0]
    ///   Δ = ρ_w − ρ_l = [3, −5, 0];  |y_w| = [4, 10, 2], |y_l| = [5, 8, 3]
    static let hand = Pairs(policyChosen: [-10, -20, -5], policyRejected: [-15, -22, -9],
                            referenceChosen: [-12, -18, -5], referenceRejected: [-14, -25, -9],
                            chosenLength: [4, 10, 2], rejectedLength: [5, 8, 3])

    /// Tensors for `pairs`: the policy log-probs are leaves that require gradients.
    struct Inputs {
        let policyChosen, policyRejected, referenceChosen, referenceRejected, chosenLength, rejectedLength: Tensor
    }

    static func inputs(_ p: Pairs) -> Inputs {
        let n = [p.count]
        return Inputs(policyChosen: Tensor(p.policyChosen, shape: n, requiresGrad: true),
                      policyRejected: Tensor(p.policyRejected, shape: n, requiresGrad: true),
                      referenceChosen: Tensor(p.referenceChosen, shape: n),
                      referenceRejected: Tensor(p.referenceRejected, shape: n),
                      chosenLength: Tensor(p.chosenLength, shape: n),
                      rejectedLength: Tensor(p.rejectedLength, shape: n))
    }

    /// `DPOLosses.loss` on `x` (the references are passed for every kind, simpo ignores them).
    static func run(_ kind: DPOLoss, _ x: Inputs, beta: Float, labelSmoothing: Float = 0,
                    dpopLambda: Float = 50, simpoGamma: Float = 0.5) -> DPOLossOutput {
        DPOLosses.loss(kind, policyChosen: x.policyChosen, policyRejected: x.policyRejected,
                       referenceChosen: x.referenceChosen, referenceRejected: x.referenceRejected,
                       chosenLength: x.chosenLength, rejectedLength: x.rejectedLength,
                       beta: beta, labelSmoothing: labelSmoothing, dpopLambda: dpopLambda, simpoGamma: simpoGamma)
    }

    /// |a − b| ≤ atol + rtol·|b| element-wise, reporting the worst element.
    static func assertClose(_ a: [Float], _ b: [Float], atol: Float, rtol: Float = 0, _ what: String = "",
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
        var worst: (Float, Int) = (0, -1)
        for i in 0..<min(a.count, b.count) {
            let excess = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
            if !(excess <= 0) && (worst.1 < 0 || excess > worst.0 || excess.isNaN) { worst = (excess, i) }
        }
        if worst.1 >= 0 {
            XCTFail("\(what): element \(worst.1): \(a[worst.1]) vs expected \(b[worst.1]) (atol \(atol), rtol \(rtol))",
                    file: file, line: line)
        }
    }

    /// Finite-difference check of the gradients of L = Σ f(inputs)ᵢ·wᵢ (fixed random w, summed in
    /// Double) w.r.t. every input that requires gradients: central differences with ±eps on a
    /// float32 forward, |analytic − numeric| ≤ atol + rtol·|numeric| (the defaults of
    /// AlignTensorTests/GradCheck.swift).
    static func checkGradients(_ inputs: [Tensor], eps: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                               _ what: String = "", file: StaticString = #filePath, line: UInt = #line,
                               _ f: () -> Tensor) {
        var rng = RandomGenerator(seed: 4321)
        let probe = withNoGrad { f() }
        let w = (0..<probe.count).map { _ in Double(rng.normal()) }
        func weighted() -> Double {
            let out = withNoGrad { f() }
            var s = 0.0
            for i in 0..<out.count { s += Double(out.pointer[i]) * w[i] }
            return s
        }
        let out = f()
        let grads = out.backward(seed: Tensor(w.map { Float($0) }, shape: out.shape))
        for (k, x) in inputs.enumerated() where x.requiresGrad {
            guard let g = grads[x] else {
                XCTFail("\(what): input \(k) received no gradient", file: file, line: line)
                continue
            }
            for i in 0..<x.count {
                let orig = x.pointer[i]
                x.pointer[i] = orig + eps
                let up = weighted()
                x.pointer[i] = orig - eps
                let down = weighted()
                x.pointer[i] = orig
                let numeric = Float((up - down) / (2 * Double(eps)))
                let analytic = g.pointer[i]
                XCTAssertLessThanOrEqual(abs(analytic - numeric), atol + rtol * abs(numeric),
                                         "\(what): input \(k) element \(i): analytic \(analytic) vs numeric \(numeric)",
                                         file: file, line: line)
            }
        }
    }

    static func allFinite(_ xs: [Float]) -> Bool { xs.allSatisfy(\.isFinite) }
}

import AlignTensor
import Foundation
import XCTest
@testable import AlignOnline
@testable import BoNTrainer
@testable import PPOTrainer

/// PPO's pieces by hand: GAE, whitening, the clipped policy and value losses with their
/// statistics, the KL estimators, the adaptive KL controller and the group advantages; and
/// finite-difference checks of the losses' gradients.
final class PPOMathTests: XCTestCase {
    func testGAEByHand() {
        // γ = 0.9, λ = 0.5; r = [1, 0, 2], V = [0.5, 1, 1.5], V_3 = 0
        // δ = [1 + 0.9·1 − 0.5, 0 + 0.9·1.5 − 1, 2 + 0 − 1.5] = [1.4, 0.35, 0.5]
        // A_2 = 0.5; A_1 = 0.35 + 0.45·0.5 = 0.575; A_0 = 1.4 + 0.45·0.575 = 1.65875
        let g = Advantages.gae(rewards: [1, 0, 2], values: [0.5, 1, 1.5], gamma: 0.9, lambda: 0.5)
        for (a, e) in zip(g.advantages, [1.65875, 0.575, 0.5]) { XCTAssertEqual(a, e, accuracy: 1e-12) }
        for (r, e) in zip(g.returns, [2.15875, 1.575, 2.0]) { XCTAssertEqual(r, e, accuracy: 1e-12) }
        // γ = λ = 1: the advantage is the return-to-go minus the value
        let h = Advantages.gae(rewards: [1, 2, 3], values: [0, 0, 0], gamma: 1, lambda: 1)
        XCTAssertEqual(h.advantages, [6, 5, 3])
    }

    func testWhitenUsesTheUnbiasedVariance() {
        // mean 2, unbiased var = (1 + 0 + 1)/2 = 1
        let w = Advantages.whiten([1, 2, 3])
        for (a, e) in zip(w, [-1.0, 0, 1]) { XCTAssertEqual(a, e / (1 + 1e-8).squareRoot(), accuracy: 1e-12) }
        let kept = Advantages.whiten([1, 2, 3], shiftMean: false)
        XCTAssertEqual(kept[1], 2, accuracy: 1e-12)
    }

    func testGroupAdvantagesByHand() {
        // group [1, 3]: mean 2, unbiased std √2 → ±1/(√2 + 1e-4); group [5, 5]: std 0 → 0
        let a = Advantages.grpo(rewards: [1, 3, 5, 5], groupSize: 2)
        XCTAssertEqual(a[0], -1 / (2.0.squareRoot() + 1e-4), accuracy: 1e-12)
        XCTAssertEqual(a[1], 1 / (2.0.squareRoot() + 1e-4), accuracy: 1e-12)
        XCTAssertEqual(a[2], 0)
        XCTAssertEqual(a[3], 0)
        // rloo: r − mean of the others: [1 − 4, 3 − 3, 5 − 2] for the group [1, 3, 5]
        XCTAssertEqual(Advantages.rloo(rewards: [1, 3, 5], groupSize: 3), [-3, 0, 3])
    }

    func testKLEstimatorsByHand() {
        let lp: [Float] = [-1, -2], ref: [Float] = [-1.5, -1]
        XCTAssertEqual(PPOLosses.kl(lp, reference: ref, estimator: .k1), [0.5, -1])
        // k3 with logr = ref − lp = [−0.5, 1]: e^{−0.5} − 1 + 0.5, e − 1 − 1
        let k3 = PPOLosses.kl(lp, reference: ref, estimator: .k3)
        XCTAssertEqual(Double(k3[0]), Foundation.exp(-0.5) - 0.5, accuracy: 1e-6)
        XCTAssertEqual(Double(k3[1]), Foundation.exp(1.0) - 2, accuracy: 1e-6)
        XCTAssertTrue(k3.allSatisfy { $0 >= 0 })
    }

    func testAdaptiveKLControllerByHand() {
        var c = KLController(initial: 0.2, target: 6, horizon: 10000)
        c.update(kl: 9, samples: 100)    // e = clip(0.5) = 0.2 → ×(1 + 0.2·0.01)
        XCTAssertEqual(c.value, 0.2 * 1.002, accuracy: 1e-15)
        c.update(kl: 4.5, samples: 1000) // e = −0.25 → −0.2 → ×(1 − 0.02)
        XCTAssertEqual(c.value, 0.2 * 1.002 * 0.98, accuracy: 1e-15)
        var fixed = KLController(initial: 0.05)
        fixed.update(kl: 100, samples: 8)
        XCTAssertEqual(fixed.value, 0.05)
    }

    func testPolicyLossByHand() {
        // ratio = e^{new − old} = [1, e^{0.5}, e^{−0.5}], A = [1, 1, −1], ε = 0.2
        // token 0: max(−1, −1) = −1; token 1: max(−1.6487, −1.2) = −1.2 (clipped);
        // token 2: max(0.6065, 0.8) = 0.8 (clipped); mean = (−1 − 1.2 + 0.8)/3
        let new = Tensor([-1, -0.5, -2.5], shape: [3], requiresGrad: true)
        let out = PPOLosses.policy(newLogProbs: new, oldLogProbs: [-1, -1, -2], advantages: [1, 1, -1], clip: 0.2)
        XCTAssertEqual(Double(out.loss.item), (-1 - 1.2 + 0.8) / 3, accuracy: 1e-6)
        XCTAssertEqual(out.clipFraction, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(out.approxKL, 0.5 * (0 + 0.25 + 0.25) / 3, accuracy: 1e-7)
        // only the unclipped token has a gradient: d/dnew_0 of −A·ratio/3 = −1/3
        let g = out.loss.backward()[new]!.scalars
        XCTAssertEqual(g[0], -1.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(g[1], 0)
        XCTAssertEqual(g[2], 0)
    }

    func testRatioIsOneAndNothingClipsWhenNothingMoved() {
        let lp: [Float] = [-0.3, -2.1, -4.0, -0.9]
        let out = PPOLosses.policy(newLogProbs: Tensor(lp, shape: [4]), oldLogProbs: lp, advantages: [0.5, -1, 2, -0.1], clip: 0.2)
        XCTAssertEqual(out.ratioMean, 1)
        XCTAssertEqual(out.ratioVariance, 0)
        XCTAssertEqual(out.clipFraction, 0)
        XCTAssertEqual(out.approxKL, 0)
    }

    func testValueLossByHand() {
        // V = [1, 2], V_old = [0.5, 2], R = [2, 0], ε = 0.2
        // token 0: (1−2)² = 1 vs clip(1, 0.3, 0.7) = 0.7 → (0.7−2)² = 1.69: clipped branch
        // token 1: (2−0)² = 4 vs clip → 2 → 4: unclipped; loss = 0.5·(1.69 + 4)/2
        let v = Tensor([1, 2], shape: [2], requiresGrad: true)
        let out = PPOLosses.value(values: v, oldValues: [0.5, 2], returns: [2, 0], clip: 0.2)
        XCTAssertEqual(Double(out.loss.item), 0.5 * (1.69 + 4) / 2, accuracy: 1e-6)
        XCTAssertEqual(out.clipFraction, 0.5)
        let g = out.loss.backward()[v]!.scalars
        XCTAssertEqual(g[0], 0)
        XCTAssertEqual(g[1], 0.5 * 2 * 2 / 2, accuracy: 1e-6)   // d/dV 0.5·(V−R)²/2
    }

    func testLossGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 7)
        let n = 9
        let old = (0..<n).map { _ in -1 - abs(rng.normal()) }
        let adv = (0..<n).map { _ in rng.normal() }
        // ratios within ±0.15 of 1 stay off the clip boundary by more than the probe step
        let new = Tensor(zip(old, (0..<n).map { _ in rng.normal() * 0.05 }).map(+), shape: [n], requiresGrad: true)
        finiteDifference(new) { PPOLosses.policy(newLogProbs: $0, oldLogProbs: old, advantages: adv, clip: 0.2).loss }
        let returns = (0..<n).map { _ in rng.normal() }
        let oldV = (0..<n).map { _ in rng.normal() }
        let values = Tensor(zip(oldV, (0..<n).map { _ in rng.normal() * 0.05 }).map(+), shape: [n], requiresGrad: true)
        finiteDifference(values) { PPOLosses.value(values: $0, oldValues: oldV, returns: returns, clip: 0.2).loss }
        let ref = (0..<n).map { _ in -1 - abs(rng.normal()) }
        finiteDifference(new) { PPOLosses.k3(newLogProbs: $0, reference: ref).sum() }
    }

    /// Central differences of a scalar function of one tensor against its autograd gradient.
    func finiteDifference(_ x: Tensor, eps: Float = 1e-3, tolerance: Float = 2e-3, file: StaticString = #filePath, line: UInt = #line,
                          _ f: (Tensor) -> Tensor) {
        let analytic = f(x).backward()[x]!.scalars
        let base = x.scalars
        for i in 0..<x.count {
            var plus = base, minus = base
            plus[i] += eps
            minus[i] -= eps
            let fp = withNoGrad { f(Tensor(plus, shape: x.shape)).item }, fm = withNoGrad { f(Tensor(minus, shape: x.shape)).item }
            let numeric = (fp - fm) / (2 * eps)
            XCTAssertEqual(analytic[i], numeric, accuracy: tolerance, "element \(i)", file: file, line: line)
        }
    }
}

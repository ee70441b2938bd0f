import AlignNN
import AlignTensor
import Foundation
import XCTest
@testable import HPATrainer
import AlignOnline

/// HPA's pure pieces by hand-computed values and finite differences: the shaped reward, the
/// diversity bonus and its bank, dynamic sampling, the KL schedule, the hierarchical KL terms,
/// the mixed loss, the window score and the spike z-score.
final class HPAMathTests: XCTestCase {
    func testShapedRewardSubtractsTheSpreadAndAddsTheDiversity() {
        XCTAssertEqual(HPALosses.shapedReward(score: 2.0, uncertainty: 0.6, diversity: 0.25, uncertaintyCoef: 0.5, diversityCoef: 0.2),
                       2.0 - 0.3 + 0.05, accuracy: 1e-12)
        XCTAssertEqual(HPALosses.shapedReward(score: -1, uncertainty: 0, diversity: 0, uncertaintyCoef: 0.5, diversityCoef: 0.2), -1)
    }

    func testDiversityIsOneMinusTheMeanCosineToTheBank() {
        var bank = DiversityBank(capacity: 3)
        XCTAssertEqual(bank.diversity([1, 0]), 0, "an empty bank gives no bonus")
        bank.append([[1, 0], [0, 2]])
        // cos([1,1], [1,0]) = cos([1,1], [0,2]) = 1/√2
        XCTAssertEqual(bank.diversity([1, 1]), 1 - 1 / 2.0.squareRoot(), accuracy: 1e-7)
        XCTAssertEqual(bank.diversity([3, 0]), 1 - (1 + 0) / 2, accuracy: 1e-12)
        XCTAssertEqual(bank.diversity([-1, 0]), 1 - (-1 + 0) / 2, accuracy: 1e-12)
        XCTAssertEqual(bank.diversity([0, 0]), 1, "a zero vector is similar to nothing")
        // FIFO: the oldest entries leave first
        bank.append([[0, 1], [5, 5]])
        XCTAssertEqual(bank.embeddings, [[0, 2], [0, 1], [5, 5]])
        let meanCosine: Double = (1.0 + 1.0 + 1.0 / 2.0.squareRoot()) / 3.0
        XCTAssertEqual(bank.diversity([0, 1]), 1 - meanCosine, accuracy: 1e-7)
    }

    func testTheFilterKeepsCandidatesAboveMeanPlusKStd() {
        // mean 2.5, sample std √(5/3) ≈ 1.291: threshold 3.791 with k = 1
        let r: [Double] = [1, 2, 3, 4]
        XCTAssertEqual(HPALosses.filter(r, groupSize: 2, k: 1), [3])
        XCTAssertEqual(HPALosses.filter(r, groupSize: 2, k: 0), [2, 3])
        XCTAssertEqual(HPALosses.filter(r, groupSize: 2, k: -1), [1, 2, 3])
        XCTAssertEqual(HPALosses.filter(r, groupSize: 2, k: nil), [0, 1, 2, 3])
        // nothing above the threshold: the best of every prompt's group, the first of equals
        XCTAssertEqual(HPALosses.filter([1, 3, 2, 2, 0, 0], groupSize: 2, k: 5), [1, 2, 4])
        XCTAssertEqual(HPALosses.filter([0, 0, 0, 0], groupSize: 4, k: 1), [0], "constant rewards: never an empty batch")
    }

    func testTheScheduleMovesWeightFromTokenToSemanticKL() {
        let s = KLSchedule()
        XCTAssertEqual(s.token(0), 1.0, accuracy: 1e-12)
        XCTAssertEqual(s.semantic(0), 0.2, accuracy: 1e-12)
        XCTAssertEqual(s.token(0.5), 0.6, accuracy: 1e-12)
        XCTAssertEqual(s.semantic(0.5), 0.6, accuracy: 1e-12)
        XCTAssertEqual(s.token(1), 0.2, accuracy: 1e-12)
        XCTAssertEqual(s.semantic(1), 1.0, accuracy: 1e-12)
        let tokenOnly = KLSchedule(tokenStart: 1, tokenEnd: 1, semanticStart: 0, semanticEnd: 0)
        XCTAssertEqual(tokenOnly.semantic(0.7), 0)
    }

    func testTokenKLAndSemanticKLValues() {
        let lp = Tensor([-1, -2, -0.5], shape: [3])
        XCTAssertEqual(HPALosses.tokenKLSum(logProbs: lp, reference: [-1.5, -2, -1], estimator: .k1Seed).item, 0.5 + 0 + 0.5, accuracy: 1e-6)
        // k3 per token with logr = ref − θ: e^{logr} − logr − 1; logr = −0.5, 0, −0.5
        let k3: Double = 2 * (exp(-0.5) + 0.5 - 1)
        XCTAssertEqual(Double(HPALosses.tokenKLSum(logProbs: lp, reference: [-1.5, -2, -1], estimator: .k3).item), k3, accuracy: 1e-6)
        XCTAssertEqual(HPALosses.tokenKLSum(logProbs: lp, reference: [-1, -2, -0.5], estimator: .k3).item, 0, "k3 is zero at πθ = π_ref")
        // two rows of 2 and 1 tokens, C = 2: pooled rows [2, 3] and [5, 6]
        let hidden = Tensor([1, 2, 3, 4, 5, 6], shape: [3, 2])
        let pooled = ResponseEmbedding.meanPool(hidden, lengths: [2, 1])
        XCTAssertEqual(pooled.shape, [2, 2])
        XCTAssertEqual(pooled.scalars, [2, 3, 5, 6])
        // MSE per row over C: ((2−1)² + (3−3)²)/2 = 0.5 and ((5−5)² + (6−4)²)/2 = 2
        XCTAssertEqual(HPALosses.semanticKLSum(pooled: pooled, reference: [1, 3, 5, 4]).item, 2.5, accuracy: 1e-6)
        XCTAssertEqual(HPALosses.semanticKLSum(pooled: pooled, reference: pooled.scalars).item, 0)
        // a row without tokens pools to zeros
        XCTAssertEqual(ResponseEmbedding.meanPool(hidden, lengths: [3, 0]).scalars, [3, 4, 0, 0])
    }

    func testMixedLossIsTheWeightedSum() {
        let l = HPALosses.mixed(ppo: Tensor(scalar: 2), dpo: Tensor(scalar: 0.7), tokenKL: Tensor(scalar: 0.3), semanticKL: Tensor(scalar: 0.05),
                                lambdaToken: 0.6, lambdaSemantic: 0.6, ppoWeight: 0.4, dpoWeight: 0.4, klWeight: 0.2)
        let kl: Float = 0.6 * 0.3 + 0.6 * 0.05
        let expected: Float = 0.4 * 2 + 0.4 * 0.7 + 0.2 * kl
        XCTAssertEqual(l.item, expected, accuracy: 1e-6)
        let noDPO = HPALosses.mixed(ppo: Tensor(scalar: 2), dpo: nil, tokenKL: Tensor(scalar: 0.3), semanticKL: Tensor(scalar: 0.05),
                                    lambdaToken: 1, lambdaSemantic: 0.2, ppoWeight: 0.4, dpoWeight: 0.4, klWeight: 0.2)
        let expectedNoDPO: Float = 0.8 + 0.2 * (0.3 + 0.01)
        XCTAssertEqual(noDPO.item, expectedNoDPO, accuracy: 1e-6)
    }

    func testGradientsOfTheKLTermsAndTheMixedLossMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 3)
        let lengths = [3, 1, 2]
        let n = lengths.reduce(0, +), c = 4
        let reference = (0..<lengths.count * c).map { _ in rng.normal() }
        let refLogProbs = (0..<n).map { _ in -1 - abs(rng.normal()) }
        let hidden = Tensor((0..<n * c).map { _ in rng.normal() }, shape: [n, c], requiresGrad: true)
        gradientCheck(hidden) { HPALosses.semanticKLSum(pooled: ResponseEmbedding.meanPool($0, lengths: lengths), reference: reference) }
        let logProbs = Tensor((0..<n).map { _ in -1 - abs(rng.normal()) }, shape: [n], requiresGrad: true)
        for estimator in HPALosses.TokenKLEstimator.allCases {
            gradientCheck(logProbs) { HPALosses.tokenKLSum(logProbs: $0, reference: refLogProbs, estimator: estimator) }
        }
        // the whole mixed loss of one micro-batch as a function of the policy's log-probs (PPO and token KL)
        let old = logProbs.scalars.map { $0 + 0.01 }
        let adv = (0..<n).map { _ in rng.normal() }
        gradientCheck(logProbs) { lp in
            HPALosses.mixed(ppo: PPOLosses.policy(newLogProbs: lp, oldLogProbs: old, advantages: adv, clip: 0.2).loss, dpo: nil,
                            tokenKL: HPALosses.tokenKLSum(logProbs: lp, reference: refLogProbs, estimator: .k3) * (1 / Float(n)), semanticKL: Tensor(scalar: 0),
                            lambdaToken: 0.7, lambdaSemantic: 0.5, ppoWeight: 0.4, dpoWeight: 0.4, klWeight: 0.2)
        }
    }

    /// The token KL as a constraint: where the policy equals the reference, k3's gradient is zero
    /// (it holds the policy there), while the seed's literal k1 has gradient 1 on every sampled
    /// token's log-prob, so minimising it lowers those samples' probability (it pushes).
    func testK3HoldsThePolicyAtTheReferenceAndTheSeedsK1Pushes() {
        var rng = RandomGenerator(seed: 11)
        let values = (0..<7).map { _ in -0.2 - abs(rng.normal()) }
        let atReference = Tensor(values, shape: [values.count], requiresGrad: true)
        let k3 = HPALosses.tokenKLSum(logProbs: atReference, reference: values, estimator: .k3)
        XCTAssertEqual(k3.item, 0)
        guard let g3 = k3.backward()[atReference] else { return XCTFail("no gradient reached the log-probs") }
        XCTAssertEqual(g3.scalars, [Float](repeating: 0, count: values.count))
        let k1 = HPALosses.tokenKLSum(logProbs: atReference, reference: values, estimator: .k1Seed)
        XCTAssertEqual(k1.item, 0)
        guard let g1 = k1.backward()[atReference] else { return XCTFail("no gradient reached the log-probs") }
        XCTAssertEqual(g1.scalars, [Float](repeating: 1, count: values.count))
        // away from the reference k3's gradient pulls back toward it: d/dθ = 1 − e^{ref − θ}
        let above = Tensor(values.map { $0 + 0.3 }, shape: [values.count], requiresGrad: true)
        guard let ga = HPALosses.tokenKLSum(logProbs: above, reference: values, estimator: .k3).backward()[above] else { return XCTFail("no gradient") }
        for g in ga.scalars { XCTAssertEqual(g, 1 - Float(exp(-0.3)), accuracy: 1e-6) }
    }

    func testWindowScoreAndZScoreByHand() {
        // rewards 1, 2, 3: mean 2, sample std 1; KL mean 0.4
        XCTAssertEqual(HPALosses.windowScore(rewards: [1, 2, 3], kls: [0.2, 0.4, 0.6]), 2 - 0.5 * 0.4 - 0.3 * 1, accuracy: 1e-12)
        XCTAssertEqual(HPALosses.windowScore(rewards: [5], kls: [1], klCoef: 1, stdCoef: 1), 4, accuracy: 1e-12)
        XCTAssertNil(HPALosses.zScore(9, history: [1, 2]), "too little history")
        XCTAssertEqual(HPALosses.zScore(5, history: [1, 2, 3])!, 3, accuracy: 1e-12)
        XCTAssertEqual(HPALosses.zScore(2, history: [2, 2, 2]), 0)
        XCTAssertEqual(HPALosses.zScore(2.5, history: [2, 2, 2]), .infinity)
    }

    /// Central differences of a scalar function against its autograd gradient, element by element.
    func gradientCheck(_ x: Tensor, eps: Float = 1e-3, tolerance: Float = 3e-3, file: StaticString = #filePath, line: UInt = #line,
                       _ f: (Tensor) -> Tensor) {
        guard let grad = f(x).backward()[x] else { return XCTFail("no gradient reached the input", file: file, line: line) }
        for i in 0..<x.count {
            func at(_ delta: Float) -> Float {
                var v = x.scalars
                v[i] += delta
                return withNoGrad { f(Tensor(v, shape: x.shape)).item }
            }
            XCTAssertEqual(grad.scalars[i], (at(eps) - at(-eps)) / (2 * eps), accuracy: tolerance, "element \(i)", file: file, line: line)
        }
    }
}

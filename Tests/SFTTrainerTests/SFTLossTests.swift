import AlignTensor
import XCTest
@testable import SFTTrainer

/// The SFT losses against hand-computed values and finite differences.
final class SFTLossTests: XCTestCase {
    func testSquaredLogRatioByHand() {
        // learned positions 0 and 2 (position 1 ignored): ((−1 − (−1.5))² + (−2 − (−1))²) / 2 = (0.25 + 1) / 2
        let policy = Tensor([-1, -3, -2], shape: [3], requiresGrad: true)
        let reference = Tensor([-1.5, -0.2, -1], shape: [3])
        let kl = SFTLosses.squaredLogRatio(policy: policy, reference: reference, targets: [4, -100, 7])
        XCTAssertEqual(kl.item, 0.625, accuracy: 1e-6)
        // d/dpolicy = 2·(p − r)/2 on learned positions
        XCTAssertEqual(kl.backward()[policy]!.scalars, [0.5, 0, -1])
    }

    func testNLLIsTheMeanOverLearnedTokens() {
        // two positions, uniform logits over 4 tokens: −log(1/4) each
        let logits = Tensor.zeros([1, 3, 4], requiresGrad: true)
        let loss = SFTLosses.nll(logits: logits, targets: [1, -100, 3])
        XCTAssertEqual(loss.item, Float(log(4.0)), accuracy: 1e-6)
        let g = loss.backward()[logits]!.scalars
        // row 0: (softmax − onehot)/2 = (0.25 − [0,1,0,0])/2; row 1 ignored
        XCTAssertEqual(Array(g[0..<4]), [0.125, -0.375, 0.125, 0.125])
        XCTAssertEqual(Array(g[4..<8]), [0, 0, 0, 0])
    }
}

extension SFTLossTests {
    func testScoredFormsEqualTheMaskedForms() {
        // the same two learned positions as testSquaredLogRatioByHand, without the ignored one
        let policy = Tensor([-1, -2], shape: [2], requiresGrad: true)
        let kl = SFTLosses.squaredLogRatio(policy: policy, reference: Tensor([-1.5, -1], shape: [2]))
        XCTAssertEqual(kl.item, 0.625, accuracy: 1e-6)
        XCTAssertEqual(kl.backward()[policy]!.scalars, [0.5, -1])
        XCTAssertEqual(SFTLosses.nll(scoredLogProbs: Tensor([-1, -3], shape: [2])).item, 2)
    }
}

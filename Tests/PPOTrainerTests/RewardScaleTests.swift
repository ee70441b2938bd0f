import AlignData
import AlignTraining
import Foundation
import XCTest

/// `RewardOutcome.scale`: what a difference of 1 on the raw scale is on the score's, so a spread
/// measured on the raw scale (a reward ensemble's σ, which `align hpa` subtracts from the
/// score) can be put on the score's scale.
final class RewardScaleTests: XCTestCase {
    func sample(_ response: String) -> RewardSample {
        RewardSample(record: PromptRecord(prompt: .text("p"), json: #"{"prompt": "p"}"#, line: 1), promptIDs: [1], responseIDs: [2],
                     response: response, endedWithEOS: true)
    }

    func testNormalisedScoresCarryOneOverTheRunningStd() throws {
        // raw scores 3, 0, 3, 0 (a weight-3 contains rule): running mean 1.5, sample std √3
        let rule = RewardSettings.Rule(kind: .contains, text: "blue", weight: 3)
        let samples = ["blue", "red", "blue sky", "green"].map(sample)
        let normalised = try RewardFunction(RewardSettings(rules: [rule], normalize: true), policyVocabulary: 8, policyTokenizer: nil)
        let out = try normalised.score(samples) { "sample \($0)" }
        let sd = 3.0.squareRoot()
        for (o, raw) in zip(out, [3.0, 0, 3, 0]) {
            XCTAssertEqual(o.raw, raw)
            XCTAssertEqual(o.score, (raw - 1.5) / sd, accuracy: 1e-12)
            XCTAssertEqual(o.scale, 1 / sd, accuracy: 1e-12)
        }
        // a raw difference times the scale is the score difference
        XCTAssertEqual((out[0].raw - out[1].raw) * out[0].scale, out[0].score - out[1].score, accuracy: 1e-12)
        // without normalisation (clipping included) the scale is 1
        let clipped = try RewardFunction(RewardSettings(rules: [rule], clip: 2), policyVocabulary: 8, policyTokenizer: nil)
        for o in try clipped.score(samples, label: { "sample \($0)" }) { XCTAssertEqual(o.scale, 1) }
    }

    /// `missing_eos_score` replaces a cut-off response's score (a gate), `missing_eos_penalty`
    /// subtracts from it.
    func testAMissingEOSScoreReplacesAndAPenaltySubtracts() throws {
        let rule = RewardSettings.Rule(kind: .contains, text: "blue", weight: 3)
        var cut = sample("blue sky")
        cut = RewardSample(record: cut.record, promptIDs: [1], responseIDs: [2], response: "blue sky", endedWithEOS: false)
        let samples = [sample("blue"), cut, sample("red")]
        let gated = try RewardFunction(RewardSettings(rules: [rule], missingEOSScore: 0), policyVocabulary: 8, policyTokenizer: nil)
        XCTAssertEqual(try gated.score(samples) { "\($0)" }.map(\.score), [3, 0, 0])
        let penalised = try RewardFunction(RewardSettings(rules: [rule], missingEOSPenalty: 1), policyVocabulary: 8, policyTokenizer: nil)
        XCTAssertEqual(try penalised.score(samples) { "\($0)" }.map(\.score), [3, 2, 0])
        // the raw sum stays what the sources said
        XCTAssertEqual(try gated.score(samples) { "\($0)" }.map(\.raw), [3, 3, 0])
    }
}

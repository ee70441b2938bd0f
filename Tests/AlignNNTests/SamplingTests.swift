import XCTest
import AlignTensor
@testable import AlignNN

/// Temperature, top-k and top-p sampling against the distributions they define.
final class SamplingTests: XCTestCase {
    let logits: [Float] = [1.0, 3.0, 2.0, -1.0, 2.5]

    func softmax(_ x: [Float], _ t: Float) -> [Double] {
        let m = x.map { Double($0 / t) }.max()!
        let e = x.map { exp(Double($0 / t) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func testGreedyPicksArgmaxWithItsLogProb() {
        var rng = RandomGenerator(seed: 0)
        let s = Sampler.sample(logits, config: .greedy, rng: &rng)
        XCTAssertEqual(s.id, 1)
        XCTAssertEqual(Double(s.logProb), log(softmax(logits, 1)[1]), accuracy: 1e-6)
        XCTAssertEqual(rng, RandomGenerator(seed: 0))  // greedy draws nothing
    }

    func testTemperatureSamplingFrequencies() {
        var rng = RandomGenerator(seed: 1)
        let t: Float = 0.7
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<40_000 {
            let s = Sampler.sample(logits, config: SamplingConfig(temperature: t), rng: &rng)
            counts[s.id] += 1
            XCTAssertEqual(Double(s.logProb), log(softmax(logits, t)[s.id]), accuracy: 1e-5)
        }
        let p = softmax(logits, t)
        for i in 0..<logits.count { XCTAssertEqual(Double(counts[i]) / 40_000, p[i], accuracy: 0.01, "token \(i)") }
    }

    func testTopKAndTopPRestrictTheSupport() {
        var rng = RandomGenerator(seed: 2)
        var seen = Set<Int>()
        for _ in 0..<2000 { seen.insert(Sampler.sample(logits, config: SamplingConfig(topK: 2), rng: &rng).id) }
        XCTAssertEqual(seen, [1, 4])
        // probabilities at T=1: 3.0 → 0.43, 2.5 → 0.26, 2.0 → 0.16, …: p = 0.6 needs the top two
        seen = []
        for _ in 0..<2000 { seen.insert(Sampler.sample(logits, config: SamplingConfig(topP: 0.6), rng: &rng).id) }
        XCTAssertEqual(seen, [1, 4])
        seen = []
        for _ in 0..<2000 { seen.insert(Sampler.sample(logits, config: SamplingConfig(topP: 0.3), rng: &rng).id) }
        XCTAssertEqual(seen, [1])
        // top-k 1 is greedy whatever the temperature
        XCTAssertEqual(Sampler.sample(logits, config: SamplingConfig(temperature: 5, topK: 1), rng: &rng).id, 1)
    }

    func testSameSeedSameSamplesAndValidation() {
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let cfg = SamplingConfig(temperature: 1.3, topK: 4, topP: 0.9)
        let xs = (0..<50).map { _ in Sampler.sample(logits, config: cfg, rng: &a).id }
        let ys = (0..<50).map { _ in Sampler.sample(logits, config: cfg, rng: &b).id }
        XCTAssertEqual(xs, ys)
        XCTAssertNil(cfg.validationError)
        XCTAssertEqual(SamplingConfig(temperature: -1).validationError, "temperature must be ≥ 0, got -1.0")
        XCTAssertEqual(SamplingConfig(topP: 0).validationError?.hasPrefix("top_p must be in (0, 1]"), true)
        XCTAssertEqual(SamplingConfig(topK: -2).validationError, "top_k must be ≥ 0, got -2")
    }
}

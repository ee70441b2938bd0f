import XCTest
@testable import AlignTensor

/// The seeded generator: reproducible, restorable, with the right distributions.
final class RandomTests: XCTestCase {
    func testSameSeedSameStreamAndCodableRestore() throws {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        XCTAssertEqual((0..<10).map { _ in a.next() }, (0..<10).map { _ in b.next() })
        let saved = try JSONEncoder().encode(a)
        let x = (0..<5).map { _ in a.uniform() }
        var restored = try JSONDecoder().decode(RandomGenerator.self, from: saved)
        XCTAssertEqual((0..<5).map { _ in restored.uniform() }, x)
        var c = RandomGenerator(seed: 43)
        XCTAssertNotEqual(c.next(), RandomGenerator(seed: 42).state[0])
    }

    func testPinnedFirstValuesForSeedZero() {
        // pins the algorithm (SplitMix64 seeding + xoshiro256**): a change would alter every run
        var r = RandomGenerator(seed: 0)
        XCTAssertEqual(r.state, [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
        XCTAssertEqual(r.next(), 0x99EC_5F36_CB75_F2B4)
    }

    func testNormalAndUniformMoments() {
        var r = RandomGenerator(seed: 7)
        let n = Tensor.randn([100_000], mean: 1, std: 2, rng: &r).scalars
        let mean = n.reduce(0.0) { $0 + Double($1) } / Double(n.count)
        let variance = n.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n.count)
        XCTAssertEqual(mean, 1, accuracy: 0.03)
        XCTAssertEqual(variance.squareRoot(), 2, accuracy: 0.03)
        let u = Tensor.uniform([100_000], low: -1, high: 3, rng: &r).scalars
        XCTAssertTrue(u.allSatisfy { $0 >= -1 && $0 < 3 })
        XCTAssertEqual(u.reduce(0.0) { $0 + Double($1) } / Double(u.count), 1, accuracy: 0.03)
    }

    func testCategoricalFrequenciesAndPermutation() {
        var r = RandomGenerator(seed: 9)
        var counts = [0, 0, 0]
        for _ in 0..<30_000 { counts[r.categorical([0.2, 0, 0.8])] += 1 }
        XCTAssertEqual(counts[1], 0)
        XCTAssertEqual(Double(counts[0]) / 30_000, 0.2, accuracy: 0.015)
        let p = r.permutation(50)
        XCTAssertEqual(p.sorted(), Array(0..<50))
        XCTAssertNotEqual(p, Array(0..<50))
        for _ in 0..<1000 { XCTAssertTrue((0..<7).contains(r.int(below: 7))) }
    }
}

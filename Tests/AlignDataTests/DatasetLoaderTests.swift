import AlignData
import Foundation
import XCTest

/// Seeded shuffling, exact resume, and progress-dependent mixtures.
final class DatasetLoaderTests: XCTestCase {
    private func roundTrip<T: Codable>(_ value: T) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
    }

    private func drain(_ loader: inout DataLoader<Int>) -> [[Int]] {
        var out: [[Int]] = []
        while let b = loader.next() { out.append(b) }
        return out
    }

    func testEpochsArePermutationsAndNothingIsDropped() {
        let examples = Array(100 ..< 110)
        var loader = DataLoader(examples: examples, batchSize: 4, seed: 7, epochs: 3)
        XCTAssertEqual(loader.batchesPerEpoch, 3)
        XCTAssertEqual(loader.totalBatches, 9)
        let batches = drain(&loader)
        XCTAssertEqual(batches.map(\.count), [4, 4, 2, 4, 4, 2, 4, 4, 2], "each epoch ends with its partial batch")
        XCTAssertEqual(loader.step, 9)
        XCTAssertEqual(loader.progress, 1)
        var orders: [[Int]] = []
        for e in 0 ..< 3 {
            let epoch = batches[3 * e ..< 3 * e + 3].flatMap { $0 }
            XCTAssertEqual(epoch.sorted(), examples, "epoch \(e) is a permutation")
            orders.append(epoch)
        }
        XCTAssertNotEqual(orders[0], orders[1], "a new order each epoch")
        XCTAssertNotEqual(orders[0], examples)

        var same = DataLoader(examples: examples, batchSize: 4, seed: 7, epochs: 3)
        XCTAssertEqual(drain(&same), batches, "same seed, same batches")
        var other = DataLoader(examples: examples, batchSize: 4, seed: 8, epochs: 3)
        XCTAssertNotEqual(drain(&other), batches)
        var ordered = DataLoader(examples: examples, batchSize: 4, seed: 7, epochs: 1, shuffle: false)
        XCTAssertEqual(drain(&ordered), [[100, 101, 102, 103], [104, 105, 106, 107], [108, 109]])
    }

    func testExactResumeAfterTwoAndAHalfEpochs() throws {
        let examples = Array(0 ..< 10)
        var reference = DataLoader(examples: examples, batchSize: 4, seed: 42, epochs: nil)
        let perEpoch = reference.batchesPerEpoch
        let total = perEpoch * 5 / 2 + 4  // 2.5 epochs, then some more
        let uninterrupted = (0 ..< total).map { _ in reference.next()! }
        for saveAt in 0 ... total {
            var first = DataLoader(examples: examples, batchSize: 4, seed: 42, epochs: nil)
            for _ in 0 ..< saveAt { _ = first.next() }
            let saved = try roundTrip(first.state)
            XCTAssertEqual(saved, first.state)
            var resumed = DataLoader(examples: examples, batchSize: 4, seed: 999, epochs: nil)  // the seed is in the state
            try resumed.restore(saved)
            XCTAssertEqual(resumed.step, saveAt)
            let rest = (saveAt ..< total).map { _ in resumed.next()! }
            XCTAssertEqual(rest, Array(uninterrupted[saveAt...]), "resumed at step \(saveAt)")
        }
        // the state names the epoch and the position in its permutation
        var loader = DataLoader(examples: examples, batchSize: 4, seed: 42, epochs: nil)
        for _ in 0 ..< 7 { _ = loader.next() }
        XCTAssertEqual(loader.state.epoch, 2)
        XCTAssertEqual(loader.state.index, 4)

        var wrong = DataLoader(examples: Array(0 ..< 11), batchSize: 4, seed: 42)
        assertDatasetError("cannot resume: the saved loader state is for 10 examples, this data set has 11") { try wrong.restore(loader.state) }
    }

    func testWeightSchedule() throws {
        let s = try WeightSchedule([(0.7, 0), (1, 0.5)])
        XCTAssertEqual(s.weight(at: 0), 0)
        XCTAssertEqual(s.weight(at: 0.7), 0)
        XCTAssertEqual(s.weight(at: 0.85), 0.25, accuracy: 1e-12)
        XCTAssertEqual(s.weight(at: 1), 0.5)
        XCTAssertEqual(try WeightSchedule(parsing: "0:0, 0.7:0, 1:0.5").weight(at: 0.85), 0.25, accuracy: 1e-12)
        XCTAssertEqual(try WeightSchedule(parsing: "0.3").weight(at: 0.9), 0.3)
        let step = try WeightSchedule([(0, 1), (0.5, 1), (0.5, 3)])
        XCTAssertEqual(step.weight(at: 0.49), 1)
        XCTAssertEqual(step.weight(at: 0.5), 3)
        XCTAssertEqual(try roundTrip(s), s)
        assertDatasetError("weight schedule point 1: weight -1.0 must be finite and ≥ 0") { try WeightSchedule([(0, 1), (1, -1)]) }
        assertDatasetError("weight schedule points must be in increasing p order (point 1: 0.2 < 0.5)") { try WeightSchedule([(0.5, 1), (0.2, 1)]) }
        assertDatasetError("weight schedule \"a:b\": expected a number or p:weight pairs separated by commas") { try WeightSchedule(parsing: "a:b") }
        assertDatasetError("the mixture weights are all 0 at p = 0.0") {
            try MixtureLoader(sources: [MixtureSource(name: "a", examples: [1], schedule: s)], batchSize: 1, seed: 0)
        }
    }

    func testMixtureFrequenciesFollowTheSchedule() throws {
        let sources = [MixtureSource(name: "web", examples: Array(0 ..< 50), schedule: .constant(1)),
                       MixtureSource(name: "instruct", examples: Array(1000 ..< 1007), schedule: try WeightSchedule([(0.7, 0), (1, 0.5)]))]
        var mix = try MixtureLoader(sources: sources, batchSize: 16, seed: 5)
        XCTAssertEqual(mix.probabilities(at: 1)[1], 1.0 / 3.0, accuracy: 1e-12)
        func instructFraction(at p: Double, batches: Int) -> Double {
            var instruct = 0
            for _ in 0 ..< batches {
                instruct += mix.nextIndices(progress: p).filter { $0.source == 1 }.count
            }
            return Double(instruct) / Double(batches * 16)
        }
        XCTAssertEqual(instructFraction(at: 0, batches: 200), 0)
        XCTAssertEqual(instructFraction(at: 0.7, batches: 50), 0)
        XCTAssertEqual(instructFraction(at: 1, batches: 400), 1.0 / 3.0, accuracy: 0.03)   // σ ≈ 0.006
        XCTAssertEqual(instructFraction(at: 0.85, batches: 400), 0.2, accuracy: 0.03)
        // every source cycles through shuffled epochs of its own
        let drawn = mix.state.drawn[1]
        XCTAssertGreaterThan(drawn, 7 * 3)
        XCTAssertEqual(mix.state.cursors[1].epoch, (drawn - 1) / 7)
    }

    func testMixtureResumesExactly() throws {
        let sources = [MixtureSource(name: "a", examples: Array(0 ..< 5), schedule: .constant(1)),
                       MixtureSource(name: "b", examples: Array(100 ..< 103), schedule: try WeightSchedule(parsing: "0:0.2,1:2"))]
        let steps = 40
        func p(_ step: Int) -> Double { Double(step) / Double(steps) }
        var reference = try MixtureLoader(sources: sources, batchSize: 3, seed: 11)
        let all = (0 ..< steps).map { reference.next(progress: p($0)) }
        XCTAssertEqual(Set(all.joined()), Set(Array(0 ..< 5) + Array(100 ..< 103)))
        for saveAt in [0, 1, 13, 27, 39] {
            var first = try MixtureLoader(sources: sources, batchSize: 3, seed: 11)
            for s in 0 ..< saveAt { _ = first.next(progress: p(s)) }
            var resumed = try MixtureLoader(sources: sources, batchSize: 3, seed: 12345)
            try resumed.restore(try roundTrip(first.state))
            let rest = (saveAt ..< steps).map { resumed.next(progress: p($0)) }
            XCTAssertEqual(rest, Array(all[saveAt...]), "resumed at step \(saveAt)")
        }
        var wrong = try MixtureLoader(sources: Array(sources.prefix(1)), batchSize: 3, seed: 11)
        assertDatasetError("cannot resume: the saved mixture has 2 sources, this one 1") { try wrong.restore(reference.state) }
    }
}

import AlignData
import AlignNN
import AlignTensor
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import AlignTraining
@testable import RewardTrainer

/// The reward losses against hand-computed values, a finite-difference gradient check, the
/// bootstrap weights, the reading position and the margin histogram.
final class RewardLossTests: XCTestCase {
    /// −logσ(x) = log(1 + e^−x)
    func nls(_ x: Double) -> Double { Foundation.log(1 + Foundation.exp(-x)) }

    func testBradleyTerryByHand() {
        let rw = Tensor([1, 0], shape: [2]), rl = Tensor([0, 0], shape: [2])
        // −logσ(1) = 0.31326169, −logσ(0) = log 2 = 0.69314718
        XCTAssertEqual(Double(RewardLosses.pairwise(chosen: rw, rejected: rl).item), (0.31326169 + 0.69314718) / 2, accuracy: 1e-6)
        // margins shift the difference: d − m = [1 − 0.5, 0 + 1]
        let withMargin = RewardLosses.pairwise(chosen: rw, rejected: rl, margins: [0.5, -1])
        XCTAssertEqual(Double(withMargin.item), (nls(0.5) + nls(1)) / 2, accuracy: 1e-6)
        XCTAssertEqual(Double(withMargin.item), (0.47407698 + 0.31326169) / 2, accuracy: 1e-6)
        // centring: + c · mean((r_w + r_l)²) = 0.01 · (1 + 0) / 2
        let centred = RewardLosses.pairwise(chosen: rw, rejected: rl, centerCoefficient: 0.01)
        XCTAssertEqual(Double(centred.item), (0.31326169 + 0.69314718) / 2 + 0.005, accuracy: 1e-6)
        // a zero margin list is the plain loss
        XCTAssertEqual(RewardLosses.pairwise(chosen: rw, rejected: rl, margins: [0, 0]).item, RewardLosses.pairwise(chosen: rw, rejected: rl).item)
    }

    func testEnsembleWeightsByHand() {
        // two pairs × two heads: chosen [[1, 2], [0, −1]], rejected 0
        let rw = Tensor([1, 2, 0, -1], shape: [2, 2]), rl = Tensor.zeros([2, 2])
        // default weights: the mean over all (pair, head) entries
        let mean = (nls(1) + nls(2) + nls(0) + nls(-1)) / 4
        XCTAssertEqual(Double(RewardLosses.pairwise(chosen: rw, rejected: rl).item), mean, accuracy: 1e-6)
        XCTAssertEqual(Double(RewardLosses.pairwise(chosen: rw, rejected: rl, weights: [0.25, 0.25, 0.25, 0.25]).item), mean, accuracy: 1e-6)
        // head 0 drew pair 0 twice, head 1 drew pair 1 twice: ½·ℓ(1) + ½·ℓ(−1) = 0.81326169
        let boot = RewardLosses.pairwise(chosen: rw, rejected: rl, weights: [0.5, 0, 0, 0.5])
        XCTAssertEqual(Double(boot.item), 0.5 * nls(1) + 0.5 * nls(-1), accuracy: 1e-6)
        XCTAssertEqual(Double(boot.item), 0.81326169, accuracy: 1e-6)
        // margins broadcast over heads; centring is per entry: (1+0)², (2+0)², 0, (−1)² → mean 1.5
        let full = RewardLosses.pairwise(chosen: rw, rejected: rl, margins: [1, 0], centerCoefficient: 0.1)
        XCTAssertEqual(Double(full.item), (nls(0) + nls(1) + nls(0) + nls(-1)) / 4 + 0.1 * 1.5, accuracy: 1e-6)
    }

    func testGradientMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 7)
        let B = 3, K = 2
        let chosen = Tensor.randn([B, K], rng: &rng, requiresGrad: true)
        let rejected = Tensor.randn([B, K], rng: &rng, requiresGrad: true)
        let margins: [Float] = [0.3, 0, -0.7]
        let weights = RewardLosses.bootstrapWeights(pairs: B, heads: K, rng: &rng)
        func loss() -> Tensor { RewardLosses.pairwise(chosen: chosen, rejected: rejected, margins: margins, centerCoefficient: 0.1, weights: weights) }
        let grads = loss().backward()
        for t in [chosen, rejected] {
            let g = grads[t]!.scalars
            for i in 0..<t.count {
                let old = t.pointer[i], eps: Float = 1e-2
                t.pointer[i] = old + eps
                let up = Double(withNoGrad { loss().item })
                t.pointer[i] = old - eps
                let down = Double(withNoGrad { loss().item })
                t.pointer[i] = old
                XCTAssertEqual(Double(g[i]), (up - down) / Double(2 * eps), accuracy: 2e-4, "entry \(i)")
            }
        }
        // and the analytic gradient by hand for one entry of the plain loss: ∂/∂r_w = −σ(−d)/B
        let a = Tensor([0.4], shape: [1], requiresGrad: true), b = Tensor([0.1], shape: [1], requiresGrad: true)
        let g = RewardLosses.pairwise(chosen: a, rejected: b).backward()
        XCTAssertEqual(Double(g[a]!.item), -1 / (1 + Foundation.exp(0.3)), accuracy: 1e-6)
        XCTAssertEqual(Double(g[b]!.item), 1 / (1 + Foundation.exp(0.3)), accuracy: 1e-6)
    }

    func testBootstrapWeightsAreSeededResamplesPerHead() {
        var r1 = RandomGenerator(seed: 1), r2 = RandomGenerator(seed: 1)
        let w1 = RewardLosses.bootstrapWeights(pairs: 8, heads: 3, rng: &r1)
        XCTAssertEqual(w1, RewardLosses.bootstrapWeights(pairs: 8, heads: 3, rng: &r2))
        XCTAssertEqual(w1.reduce(0, +), 1, accuracy: 1e-6)
        for k in 0..<3 {
            let column = (0..<8).map { w1[$0 * 3 + k] }
            XCTAssertEqual(column.reduce(0, +), 1.0 / 3, accuracy: 1e-6)
            // each weight is a whole number of draws / (B·K)
            for w in column { XCTAssertEqual(w * 24, (w * 24).rounded(), accuracy: 1e-4) }
        }
        // the heads' resamples differ (a fixed seed where they do), and the next step draws anew
        XCTAssertNotEqual((0..<8).map { w1[$0 * 3] }, (0..<8).map { w1[$0 * 3 + 1] })
        XCTAssertNotEqual(w1, RewardLosses.bootstrapWeights(pairs: 8, heads: 3, rng: &r1))
    }

    func testStatisticsAndEnsemble() {
        let s = RewardLosses.statistics(margins: [1, -1, 3, 0])
        XCTAssertEqual(s.accuracy, 0.5)  // a tie is not a win
        XCTAssertEqual(s.mean, 0.75, accuracy: 1e-12)
        XCTAssertEqual(s.std, (((0.25 * 0.25) + (1.75 * 1.75) + (2.25 * 2.25) + (0.75 * 0.75)) / 4).squareRoot(), accuracy: 1e-9)
        let e = RewardScore(heads: [1, 2, 6])
        XCTAssertEqual(e.reward, 3)
        XCTAssertEqual(Double(e.std), (14.0 / 3).squareRoot(), accuracy: 1e-6)  // population std
        XCTAssertEqual(RewardScore(heads: [0.5]).std, 0)
    }

    func testReadPositionsFollowTransformers() {
        // rows: [5 6 7 | pad pad], [5 2 | pad pad pad] with pad = 2: a row ending with the pad id
        // is read before it, as transformers' "rightmost token != pad_token_id"
        let ids = [5, 6, 7, 2, 2, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2]
        XCTAssertEqual(RewardModel.readPositions(ids: ids, batch: 3, length: 5, rowLengths: [3, 2, 2], padID: 2), [2, 0, 0])
        XCTAssertEqual(RewardModel.readPositions(ids: ids, batch: 3, length: 5, rowLengths: [3, 2, 2], padID: nil), [2, 1, 1])
        XCTAssertEqual(RewardModel.readPositions(ids: [4, 9, 9, 3], batch: 1, length: 4, rowLengths: [4], padID: 9), [3])
        // transformers' own formula on the padded rows
        func hf(_ row: ArraySlice<Int>, pad: Int) -> Int { row.indices.map { ($0 - row.startIndex) * (row[$0] != pad ? 1 : 0) }.max()! }
        XCTAssertEqual([hf(ids[0..<5], pad: 2), hf(ids[5..<10], pad: 2), hf(ids[10..<15], pad: 2)], [2, 0, 0])
    }

    func testHistogramBinsAndSVG() {
        let (edges, counts) = MarginHistogram.bins([-1, 0.5, 1, 1, 3], count: 4)
        XCTAssertEqual(edges, [-1, 0, 1, 2, 3])
        XCTAssertEqual(counts, [1, 1, 2, 1])  // 3 falls in the last bin
        XCTAssertEqual(MarginHistogram.bins([2, 2], count: 2).counts.reduce(0, +), 2)
        // 0 joins the range when that at most doubles it (the decision boundary is shown) …
        XCTAssertEqual(MarginHistogram.bins([1, 3], count: 2).edges, [0, 1.5, 3])
        XCTAssertEqual(MarginHistogram.bins([-3, -1], count: 2).edges, [-3, -1.5, 0])
        // … but margins far from it keep their own range, so their spread stays visible
        XCTAssertEqual(MarginHistogram.bins([9, 9.5, 10], count: 2).edges, [9, 9.5, 10])
        let svg = MarginHistogram.svg(margins: [-1, 0.5, 1, 1, 3], bins: 4, title: "t <1>")
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "class=\"bar\"").count - 1, 4)
        XCTAssertTrue(svg.contains(">2</text>"))
        XCTAssertTrue(svg.contains("margin r(chosen) − r(rejected)") && svg.contains(">pairs</text>"))
        XCTAssertTrue(svg.contains("t &lt;1&gt;"))
        XCTAssertTrue(XMLParser(data: Data(svg.utf8)).parse(), "well-formed XML")
    }
}

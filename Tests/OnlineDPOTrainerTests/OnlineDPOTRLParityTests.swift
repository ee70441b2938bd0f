import AlignTensor
import AlignTraining
import DPOTrainer
import Foundation
import XCTest
@testable import OnlineDPOTrainer

/// align online-dpo's pairing, loss, gradient and metrics against TRL 1.16's own
/// `OnlineDPOTrainer.training_step` lines (`scripts/gen_online_dpo_goldens.sh`). Tolerance: 1e-5
/// relative with a 1e-6 absolute floor (float32 here against float64 goldens from float32-exact
/// inputs).
///
/// Where align deliberately differs from TRL, the test pins the difference:
/// - TRL's online `ipo` is ((ρ_w − ρ_l) − 1/(2β))², without the length normalisation of TRL's own
///   `DPOTrainer` ipo; align's ipo is `align dpo`'s (each log-ratio divided by its response
///   length). With one token per response the two agree (checked); with varied lengths the test
///   checks TRL's formula by hand on the same inputs and align's against its own definition.
/// - TRL's `objective/kl`, `objective/non_score_reward`, `objective/rlhf_reward` and
///   `objective/entropy` sum the log-probs over every position of the padded completion tensor,
///   padding included (a shorter completion adds its pad tokens' log-probs); align sums the
///   response tokens. The test feeds align's formulas TRL's sums to get TRL's numbers, and checks
///   that without padding the two agree.
final class OnlineDPOTRLParityTests: XCTestCase {
    var cases: [[String: Any]] = []

    override func setUpWithError() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "online_dpo_goldens", withExtension: "json", subdirectory: "Fixtures"))
        let g = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        cases = try XCTUnwrap(g["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
    }

    func close(_ a: Double, _ b: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(abs(a - b), 1e-6 + 1e-5 * abs(b), "\(what): align \(a), TRL \(b)", file: file, line: line)
    }

    func d(_ x: Any?) -> [Double] { (x as! [Any]).map { ($0 as? Double) ?? Double($0 as! Int) } }
    func m(_ x: Any?) -> [[Double]] { (x as! [Any]).map(d) }

    func dpoConfig(_ loss: String, beta: Double) -> DPOConfig {
        DPOConfig(ConfigSectionValue(path: "online_dpo.dpo", values: [
            "loss": .string(loss), "beta": .float(beta), "label_smoothing": 0.0, "dpop_lambda": 50.0, "simpo_gamma": 0.5,
            "sft_weight": 0.0, "precompute_ref_log_probs": true]))
    }

    /// Per completion: Σ over its response tokens (float32, as the model's sums) and its length.
    func sums(_ values: [[Double]], _ mask: [[Double]]) -> [Float] {
        zip(values, mask).map { row, mk in zip(row, mk).reduce(Float(0)) { $0 + ($1.1 == 1 ? Float($1.0) : 0) } }
    }

    func testPairsLossGradientAndMetricsMatchTRL() throws {
        for c in cases {
            let name = c["name"] as! String
            let out = c["out"] as! [String: Any]
            let B = c["batch_size"] as! Int
            let beta = c["beta"] as! Double
            let mask = m(c["completion_mask"]), rewards = d(c["rewards"]), eos = d(c["contain_eos"])
            let policy = sums(m(c["logprobs"]), mask), reference = sums(m(c["ref_logprobs"]), mask)
            let lengths = mask.map { Float($0.reduce(0, +)) }
            // pairing: completion i and B+i answer prompt i
            var chosen: [Int] = [], rejected: [Int] = []
            for i in 0..<B {
                let (cw, rw) = OnlineDPOObjective.pair([rewards[i], rewards[B + i]])
                chosen.append(cw == 0 ? i : B + i)
                rejected.append(rw == 0 ? i : B + i)
            }
            XCTAssertEqual(chosen, (out["chosen_indices"] as! [Int]), name)
            XCTAssertEqual(rejected, (out["rejected_indices"] as! [Int]), name)
            // the loss on the pairs, as the objective computes it (rows: chosen, then rejected)
            let rows = chosen + rejected
            let lp = Tensor(rows.map { policy[$0] }, shape: [2 * B], requiresGrad: true)
            let ref = Tensor(rows.map { reference[$0] }, shape: [2 * B])
            let loss = c["loss_type"] as! String
            let len = rows.map { lengths[$0] }
            let step = DPOLosses.step(dpoConfig(loss, beta: beta), policyChosen: lp.slice(axis: 0, 0..<B), policyRejected: lp.slice(axis: 0, B..<2 * B),
                                      referenceChosen: ref.slice(axis: 0, 0..<B), referenceRejected: ref.slice(axis: 0, B..<2 * B),
                                      chosenLength: Tensor(Array(len[0..<B]), shape: [B]), rejectedLength: Tensor(Array(len[B..<2 * B]), shape: [B]))
            let stats = out["stats"] as! [String: Double]
            let goldenGrad = m(out["grad_logprobs"])
            if loss == "ipo" && Set(lengths) != [1] {
                // TRL's online ipo by hand on the same pairs, and align's ipo by its definition
                var trl = 0.0, ours = 0.0
                for i in 0..<B {
                    let rw = Double(policy[chosen[i]] - reference[chosen[i]]), rl = Double(policy[rejected[i]] - reference[rejected[i]])
                    trl += pow(rw - rl - 1 / (2 * beta), 2) / Double(B)
                    ours += pow(rw / Double(lengths[chosen[i]]) - rl / Double(lengths[rejected[i]]) - 1 / (2 * beta), 2) / Double(B)
                }
                close(trl, out["loss"] as! Double, "\(name) TRL's formula")
                close(Double(step.loss.item), ours, "\(name) align's length-normalised ipo")
                XCTAssertGreaterThan(abs(trl - ours), 1e-3, "\(name): the cases must tell the two apart")
            } else {
                close(Double(step.loss.item), out["loss"] as! Double, "\(name) loss")
                // d loss / d (row sum) is TRL's gradient on every response token of that row
                let grad = try XCTUnwrap(step.loss.backward()[lp], name).scalars
                for (j, row) in rows.enumerated() {
                    for t in goldenGrad[row].indices where mask[row][t] == 1 {
                        close(Double(grad[j]), goldenGrad[row][t], "\(name) gradient row \(row) token \(t)")
                    }
                }
                for key in ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected"] {
                    close(try XCTUnwrap(step.metrics[key], "\(name) \(key)"), stats[key]!, "\(name) \(key)")
                }
            }
            // the online metrics over the pairs' rows (with two samples per prompt: every completion)
            func online(_ policy: [Float], _ reference: [Float]) -> [String: Double] {
                OnlineDPOObjective.onlineMetrics(
                    policy: rows.map { Double(policy[$0]) }, reference: rows.map { Double(reference[$0]) },
                    chosenScores: chosen.map { rewards[$0] }, rejectedScores: rejected.map { rewards[$0] },
                    meanScores: (0..<B).map { (rewards[$0] + rewards[B + $0]) / 2 }, eosFractions: (0..<B).map { (eos[$0] + eos[B + $0]) / 2 },
                    beta: beta)
            }
            let ours = online(policy, reference)
            for key in ["objective/scores", "objective/scores_margin", "val/contain_eos_token", "beta"] {
                close(try XCTUnwrap(ours[key], "\(name) \(key)"), stats[key]!, "\(name) \(key)")
            }
            // TRL's kl and entropy sum every position of the padded completions, the padding's
            // log-probs included; align's sum the response tokens. From TRL's sums align's
            // formulas give TRL's numbers; without padding the two are the same.
            let full = mask.map { $0.map { _ in 1.0 } }
            let asTRL = online(sums(m(c["logprobs"]), full), sums(m(c["ref_logprobs"]), full))
            let padded = mask.joined().contains(0)
            for key in ["objective/kl", "objective/non_score_reward", "objective/rlhf_reward", "objective/entropy"] {
                close(try XCTUnwrap(asTRL[key], "\(name) \(key)"), stats[key]!, "\(name) \(key) from TRL's sums")
                if !padded { close(ours[key]!, stats[key]!, "\(name) \(key) without padding") }
            }
            if padded { XCTAssertNotEqual(ours["objective/entropy"], asTRL["objective/entropy"], "\(name): the padding must matter here") }
            XCTAssertEqual(Set(ours.keys).union(step.metrics.keys).subtracting(stats.keys), [], "\(name): a metric TRL does not log")
        }
    }

    func testPairingPicksTheFirstBestAndTheLastWorst() {
        XCTAssertTrue(OnlineDPOObjective.pair([1, 1]) == (0, 1), "a tie: the first is chosen, as TRL")
        XCTAssertTrue(OnlineDPOObjective.pair([0, 2]) == (1, 0))
        XCTAssertTrue(OnlineDPOObjective.pair([3, 1, 3, 1]) == (0, 3))
        XCTAssertTrue(OnlineDPOObjective.pair([2, 2, 2]) == (0, 2), "all equal: still two distinct samples")
        XCTAssertTrue(OnlineDPOObjective.pair([0.5, -1, 4, -1, 2]) == (2, 3))
    }
}

import AlignTensor
import Foundation
import XCTest
@testable import AlignOnline
@testable import BoNTrainer
@testable import PPOTrainer

/// align's PPO-family math against TRL's own code (`scripts/gen_ppo_goldens.sh`: TRL 1.12.0's
/// `trl.experimental.ppo` for PPO, TRL 1.16.0 for GRPO and RLOO, TRL 0.13.0's
/// `AdaptiveKLController`). Tolerance: 1e-5 relative with a 1e-6 absolute floor (1e-5 for
/// whitened values), float32 here against float64 goldens from float32-exact inputs.
///
/// Where align deliberately differs from TRL, the test pins the difference:
/// - TRL 1.12 adds the score at `sequence_length + 1` (one past the EOS, a padding position,
///   trl#3750) and runs GAE over that extra position; align adds it at the last real response
///   token. The GAE arithmetic itself is compared on TRL's own rewards and value mask.
/// - TRL's value loss covers the response tokens and that one extra position; align's the
///   response tokens. The value-loss formula is compared on TRL's positions.
/// - TRL's logged `approxkl` and ratio mean average over every position of the micro-batch,
///   padding included (where the difference is 0 and the ratio 1); align's average over the
///   response tokens only. The test converts one into the other.
/// - GRPO: TRL 1.16's `loss_type`s dapo (the default), grpo, bnpo and dr_grpo (`ppo.loss_type`),
///   its asymmetric `epsilon_high` (`ppo.cliprange_high`), `scale_rewards` group/batch/none and
///   its default `use_bias_correction_kl` (`ppo.kl_bias_correction`). RLOO's loss is TRL's
///   sequence-level one (a ratio per sequence from the summed log-probs), with and without
///   `normalize_advantages`.
final class PPOTRLParityTests: XCTestCase {
    var g: [String: Any] = [:]

    override func setUpWithError() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "ppo_goldens", withExtension: "json", subdirectory: "Fixtures"))
        g = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func close(_ a: Double, _ b: Double, abs floor: Double = 1e-6, rel: Double = 1e-5, _ what: String,
               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(Swift.abs(a - b), floor + rel * Swift.abs(b), "\(what): align \(a), TRL \(b)", file: file, line: line)
    }

    func m(_ v: Any?) -> [[Double]] { (v as! [[Any]]).map { $0.map { ($0 as? Double) ?? Double(($0 as? Int) ?? 0) } } }
    func v(_ x: Any?) -> [Double] { (x as! [Any]).map { ($0 as? Double) ?? Double(($0 as? Int) ?? 0) } }

    func testWhitenMatchesMaskedWhiten() {
        for c in g["whiten"] as! [[String: Any]] {
            let values = m(c["values"]), mask = m(c["mask"]), golden = m(c["whitened"])
            let shift = c["shift_mean"] as! Bool
            var flat: [Double] = [], expected: [Double] = []
            for b in values.indices { for t in values[b].indices where mask[b][t] == 1 { flat.append(values[b][t]); expected.append(golden[b][t]) } }
            let ours = Advantages.whiten(flat, shiftMean: shift)
            for i in ours.indices { close(ours[i], expected[i], abs: 1e-5, "\(c["name"]!) [\(i)]") }
        }
    }

    func testRolloutKLGAEAndWhitenedAdvantages() {
        for c in g["ppo_rollout"] as! [[String: Any]] {
            let name = c["name"] as! String
            let inputs = c["inputs"] as! [String: Any]
            let gamma = inputs["gamma"] as! Double, lam = inputs["lam"] as! Double
            let lengths = (inputs["sequence_lengths"] as! [Int])
            // TRL puts the score one past the last real token (trl#3750); align puts it on it
            // (or on the last position when the row fills the response)
            let T = (inputs["responses"] as! [[Int]])[0].count
            XCTAssertEqual(c["score_index"] as! [Int], lengths.map { Swift.min($0 + 1, T - 1) }, name)
            let responseMask = m(c["response_mask"]), valueMask = m(c["value_mask"])
            let rewards = m(c["rewards"]), values = m(c["values_filled"]), raw = m(c["advantages_raw"]), returns = m(c["returns"])
            let golden = m(c["advantages"])
            // KL per response token, k1 or k3, from TRL's own inputs
            let estimator = PPOLosses.KLEstimator(rawValue: inputs["kl_estimator"] as! String)!
            let lp = m(inputs["logprobs"]), ref = m(inputs["ref_logprobs"]), kl = m(c["kl"])
            var rawFlat: [Double] = [], expected: [Double] = []
            for b in rewards.indices {
                let n = Int(valueMask[b].reduce(0, +))
                let ours = Advantages.gae(rewards: Array(rewards[b][0..<n]), values: Array(values[b][0..<n]), gamma: gamma, lambda: lam)
                for t in 0..<n {
                    close(ours.advantages[t], raw[b][t], "\(name) A[\(b)][\(t)]")
                    close(ours.returns[t], returns[b][t], "\(name) R[\(b)][\(t)]")
                }
                for t in 0..<responseMask[b].count where responseMask[b][t] == 1 {
                    rawFlat.append(ours.advantages[t])
                    expected.append(golden[b][t])
                    let k = PPOLosses.kl([Float(lp[b][t])], reference: [Float(ref[b][t])], estimator: estimator)[0]
                    close(Double(k), kl[b][t], "\(name) kl[\(b)][\(t)]")
                }
            }
            let white = Advantages.whiten(rawFlat)
            for i in white.indices { close(white[i], expected[i], abs: 1e-5, "\(name) whitened[\(i)]") }
        }
    }

    func testMicroBatchLossesMetricsAndGradients() throws {
        for c in g["ppo_loss"] as! [[String: Any]] {
            let inputs = c["inputs"] as! [String: Any]
            let responses = inputs["responses"] as! [[Int]], lengths = inputs["sequence_lengths"] as! [Int]
            let logits3 = inputs["logits"] as! [[[Double]]]
            let temperature = inputs["temperature"] as! Double
            let oldLP = m(inputs["old_logprobs"]), adv = m(inputs["advantages"]), oldV = m(inputs["old_values"]), ret = m(inputs["returns"])
            let vpred = m(inputs["vpred"])
            let clip = Float(inputs["cliprange"] as! Double), clipV = Float(inputs["cliprange_value"] as! Double)
            let vfCoef = Float(inputs["vf_coef"] as! Double)
            for mb in c["microbatches"] as! [[String: Any]] {
                let rows = mb["rows"] as! [Int]
                let V = logits3[0][0].count, T = logits3[0].count
                // the response tokens of the micro-batch, row-major (TRL: t ≤ sequence_length)
                var positions: [(Int, Int)] = []
                for r in rows { for t in 0...lengths[r] where t < T { positions.append((r, t)) } }
                let logits = Tensor(positions.flatMap { logits3[$0.0][$0.1].map(Float.init) }, shape: [positions.count, V], requiresGrad: true)
                let lp = (logits * Float(1 / (temperature + 1e-7))).logProbs(ofTargets: positions.map { responses[$0.0][$0.1] })
                // TRL's value loss also covers the position after the EOS (padding_mask_p1, the
                // position its score lands on); align's covers the response tokens. The formula is
                // compared on TRL's positions.
                var valuePositions: [(Int, Int)] = []
                for r in rows { for t in 0...(lengths[r] + 1) where t < T { valuePositions.append((r, t)) } }
                let values = Tensor(valuePositions.map { Float(vpred[$0.0][$0.1]) }, shape: [valuePositions.count], requiresGrad: true)
                let p = PPOLosses.policy(newLogProbs: lp, oldLogProbs: positions.map { Float(oldLP[$0.0][$0.1]) },
                                         advantages: positions.map { Float(adv[$0.0][$0.1]) }, clip: clip)
                let vl = PPOLosses.value(values: values, oldValues: valuePositions.map { Float(oldV[$0.0][$0.1]) },
                                         returns: valuePositions.map { Float(ret[$0.0][$0.1]) }, clip: clipV)
                close(Double(p.loss.item), mb["pg_loss"] as! Double, "pg_loss")
                close(p.clipFraction, mb["pg_clipfrac"] as! Double, "pg_clipfrac")
                close(Double(vl.loss.item), mb["vf_loss"] as! Double, "vf_loss")
                close(vl.clipFraction, mb["vf_clipfrac"] as! Double, "vf_clipfrac")
                // TRL averages approxkl and the ratio over every position, padding included
                let all = Double(rows.count * T), real = Double(positions.count)
                close(p.approxKL * real / all, mb["approxkl"] as! Double, "approxkl (TRL's all-position mean)")
                close((p.ratioMean * real + (all - real)) / all, mb["ratio_mean"] as! Double, "ratio mean (TRL's all-position mean)")
                let ent = (logits * Float(1 / (temperature + 1e-7))).softmaxEntropy().scalars
                let goldenEntropy = m(mb["entropy"])
                for (i, (r, t)) in positions.enumerated() { close(Double(ent[i]), goldenEntropy[rows.firstIndex(of: r)!][t], "entropy[\(r)][\(t)]") }
                // gradients of pg_loss + vf_coef·vf_loss with respect to the logits and the values
                let grads = (p.loss + vl.loss * vfCoef).backward()
                let gl = grads[logits]!.scalars, gv = grads[values]!.scalars
                let goldenGL = mb["grad_logits"] as! [[[Double]]], goldenGV = m(mb["grad_vpred"])
                for (i, (r, t)) in positions.enumerated() {
                    let row = rows.firstIndex(of: r)!
                    for k in 0..<V { close(Double(gl[i * V + k]), goldenGL[row][t][k], abs: 1e-6, "d/dlogits[\(r)][\(t)][\(k)]") }
                }
                for (i, (r, t)) in valuePositions.enumerated() { close(Double(gv[i]), goldenGV[rows.firstIndex(of: r)!][t], "d/dvpred[\(r)][\(t)]") }
            }
        }
    }

    func testEntropyFromLogits() {
        for c in g["entropy"] as! [[String: Any]] {
            let logits = c["logits"] as! [[[Double]]], golden = m(c["entropy"])
            let V = logits[0][0].count
            let e = Tensor(logits.flatMap { $0.flatMap { $0.map(Float.init) } }, shape: [logits.count, logits[0].count, V]).softmaxEntropy().scalars
            for (i, x) in golden.flatMap({ $0 }).enumerated() { close(Double(e[i]), x, "entropy[\(i)]") }
        }
    }

    func testAdaptiveKLController() {
        let c = g["adaptive_kl"] as! [String: Any]
        var kl = KLController(initial: c["init_kl_coef"] as! Double, target: c["target"] as! Double, horizon: c["horizon"] as! Double)
        for u in c["updates"] as! [[String: Any]] {
            kl.update(kl: u["current_kl"] as! Double, samples: u["n_steps"] as! Int)
            close(kl.value, u["value_after"] as! Double, abs: 1e-12, rel: 1e-12, "β after KL \(u["current_kl"]!)")
        }
    }

    func testGRPOAdvantagesAndEveryLossType() {
        let c = g["grpo"] as! [String: Any]
        let G = c["num_generations"] as! Int
        for (scale, key) in [(Advantages.RewardScaling.group, "advantages"), (.batch, "advantages_scale_batch"), (.none, "advantages_scale_none")] {
            let a = Advantages.grpo(rewards: v(c["rewards"]), groupSize: G, scale: scale)
            for (i, x) in v(c[key]).enumerated() { close(a[i], x, abs: 1e-5, "\(key)[\(i)]") }
        }
        let adv = Advantages.grpo(rewards: v(c["rewards"]), groupSize: G)
        let mask = m(c["completion_mask"]), logps = m(c["per_token_logps"]), old = m(c["old_per_token_logps"]), ref = m(c["ref_per_token_logps"])
        let T = mask[0].count
        var positions: [(Int, Int)] = []
        for b in mask.indices { for t in mask[b].indices where mask[b][t] == 1 { positions.append((b, t)) } }
        let lengths = mask.map { $0.filter { $0 == 1 }.count }
        let cases = c["cases"] as! [[String: Any]]
        XCTAssertEqual(Set(cases.map { $0["loss_type"] as! String }), Set(PPOLosses.GRPOLossType.allCases.map(\.rawValue)))
        for k in cases {
            let name = k["name"] as! String
            let type = try! XCTUnwrap(PPOLosses.GRPOLossType(rawValue: k["loss_type"] as! String))
            XCTAssertEqual(k["num_items_in_batch"] as! Int, positions.count)
            // one micro-batch holds every row, as in TRL's call: dapo's step-wide token mean is the token mean
            let weights = type == .dapo ? nil : type.weights(lengths: lengths, maxCompletionLength: T)
            let new = Tensor(positions.map { Float(logps[$0.0][$0.1]) }, shape: [positions.count], requiresGrad: true)
            let p = PPOLosses.policy(newLogProbs: new, oldLogProbs: positions.map { Float(old[$0.0][$0.1]) },
                                     advantages: positions.map { Float(adv[$0.0]) }, clip: Float(k["epsilon_low"] as! Double),
                                     clipHigh: Float(k["epsilon_high"] as! Double), weights: weights)
            var loss = p.loss
            let beta = k["beta"] as! Double
            if beta > 0 {
                // TRL 1.16's default use_bias_correction_kl: k3 times the (differentiable) importance ratio,
                // added per token before the aggregation
                let kl = PPOLosses.grpoKL(newLogProbs: new, oldLogProbs: positions.map { Float(old[$0.0][$0.1]) },
                                          reference: positions.map { Float(ref[$0.0][$0.1]) }, biasCorrected: true)
                let aggregated = weights.map { (kl * Tensor($0, shape: [$0.count])).sum() } ?? kl.sum() * (1 / Float(positions.count))
                loss = loss + aggregated * Float(beta)
            }
            close(Double(loss.item), k["loss"] as! Double, "\(name) loss")
            let metrics = k["metrics"] as! [String: Any]
            close(p.clipFraction, metrics["clip_ratio/region_mean"] as! Double, "\(name) clip_ratio/region_mean")
            close(p.lowClipFraction, metrics["clip_ratio/low_mean"] as! Double, "\(name) clip_ratio/low_mean")
            close(p.highClipFraction, metrics["clip_ratio/high_mean"] as! Double, "\(name) clip_ratio/high_mean")
            let grad = loss.backward()[new]!.scalars, goldenGrad = m(k["grad_logps"])
            for (i, (b, t)) in positions.enumerated() { close(Double(grad[i]), goldenGrad[b][t], "\(name) d/dlogp[\(b)][\(t)]") }
        }
        // the asymmetric case clips less above than the symmetric one on the same ratios
        let sym = cases.first { $0["name"] as! String == "dapo_beta004" }!, asym = cases.first { $0["name"] as! String == "dapo_beta004_epshigh028" }!
        XCTAssertLessThan((asym["metrics"] as! [String: Any])["clip_ratio/high_mean"] as! Double,
                          (sym["metrics"] as! [String: Any])["clip_ratio/high_mean"] as! Double)
    }

    func testRLOOAdvantagesWithTheKLInTheReward() {
        let c = g["rloo"] as! [String: Any]
        let G = c["num_generations"] as! Int, rewards = v(c["rewards"])
        for k in c["cases"] as! [[String: Any]] {
            // TRL computes no KL when β is 0 (the fixture's null)
            let beta = k["beta"] as! Double
            let kl = k["kl_per_sequence"] is NSNull ? Array(repeating: 0, count: rewards.count) : v(k["kl_per_sequence"])
            let withKL = zip(rewards, kl).map { $0 - beta * $1 }
            for (i, x) in v(k["rewards_with_kl"]).enumerated() { close(withKL[i], x, "\(k["name"]!) reward − β·KL[\(i)]") }
            let adv = Advantages.rloo(rewards: withKL, groupSize: G, normalize: k["normalize_advantages"] as! Bool)
            for (i, x) in v(k["advantages"]).enumerated() { close(adv[i], x, abs: 1e-5, "\(k["name"]!) advantage[\(i)]") }
            // the sequence-level loss: one ratio per sequence from the summed log-probs
            let new = Tensor(v(k["logps"]).map(Float.init), shape: [adv.count], requiresGrad: true)
            let p = PPOLosses.policy(newLogProbs: new, oldLogProbs: v(k["old_logps"]).map(Float.init), advantages: adv.map(Float.init),
                                     clip: Float(k["epsilon_low"] as! Double))
            close(Double(p.loss.item), k["loss"] as! Double, "\(k["name"]!) loss")
            // TRL's gradient is per token; every token of a sequence gets d loss / d Σ logp
            let grad = p.loss.backward()[new]!.scalars, goldenGrad = m(k["grad_logps"]), mask = m(c["completion_mask"])
            for b in goldenGrad.indices {
                for t in goldenGrad[b].indices where mask[b][t] == 1 { close(Double(grad[b]), goldenGrad[b][t], "\(k["name"]!) d/dlogp[\(b)][\(t)]") }
            }
        }
    }
}

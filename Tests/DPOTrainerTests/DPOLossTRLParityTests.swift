import AlignTensor
import AlignTraining
import Foundation
import XCTest
@testable import DPOTrainer

/// The DPO-family losses against Hugging Face TRL's own loss code, from
/// `Fixtures/dpo_goldens.json`, written by `scripts/gen_dpo_goldens.py` (TRL 1.16, float64
/// autograd on float32 inputs; 8 pairs with realistic summed log-probs and lengths 1–24).
///
/// Sources of the cases (see the script for the stubs):
/// - sigmoid, robust, hinge, ipo: `DPOTrainer._compute_loss` with the same `loss_type`;
/// - ln_dpo: `DPOTrainer._compute_loss` with `loss_type="sigmoid_norm"` (same formula);
/// - simpo: `CPOTrainer.cpo_loss(loss_type="simpo")` on per-token average log-probs;
/// - sigmoid with label smoothing (`sigmoid_cdpo`): TRL 1.16's DPOTrainer sigmoid has NO label
///   smoothing, ALGORITHMS.md's sigmoid is cDPO. The golden is TRL's `CPOTrainer.cpo_loss`
///   sigmoid formula applied to the log-ratios, which is exactly cDPO.
/// - dpop is not in TRL: it is tested by hand only (DPOLossByHandTests).
/// Where TRL applies label smoothing and ALGORITHMS.md does not (CPO's simpo), the goldens use
/// ε = 0, so every case compared here is one where the two conventions agree.
///
/// Tolerances: |ours − TRL| ≤ 1e-5 + 1e-6·|TRL| for values (losses up to ~30 for ipo, float32
/// spacing there is 1.9e-6) and 1e-4 + 1e-6·|TRL| for gradients.
final class DPOLossTRLParityTests: XCTestCase {
    typealias Kit = DPOLossTestKit

    static let goldens: [String: Any] = {
        let url = Bundle.module.url(forResource: "dpo_goldens", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    static func floats(_ obj: Any?) -> [Float] { (obj as! [NSNumber]).map { Float($0.doubleValue) } }
    static func number(_ obj: Any?) -> Double { (obj as! NSNumber).doubleValue }

    var inputs: Kit.Pairs {
        let x = Self.goldens["inputs"] as! [String: Any]
        return Kit.Pairs(policyChosen: Self.floats(x["policy_chosen"]), policyRejected: Self.floats(x["policy_rejected"]),
                         referenceChosen: Self.floats(x["reference_chosen"]),
                         referenceRejected: Self.floats(x["reference_rejected"]),
                         chosenLength: Self.floats(x["chosen_length"]), rejectedLength: Self.floats(x["rejected_length"]))
    }

    var cases: [[String: Any]] { Self.goldens["cases"] as! [[String: Any]] }

    func testEveryTRLLossTypeIsCovered() {
        let names = Set(cases.map { $0["name"] as! String })
        XCTAssertEqual(names, ["sigmoid", "sigmoid_cdpo", "robust", "hinge", "ipo", "ln_dpo", "simpo"])
        let kinds = Set(cases.map { DPOLoss(rawValue: $0["align_loss"] as! String)! })
        XCTAssertEqual(kinds, Set(DPOLoss.allCases).subtracting([.dpop]), "all but dpop (not in TRL) are compared")
        XCTAssertNotNil((Self.goldens["not_in_trl"] as! [String: Any])["dpop"])
        XCTAssertEqual(inputs.count, 8)
    }

    func testLossesRewardsAndGradientsMatchTRL() {
        for c in cases {
            let name = c["name"] as! String
            let kind = DPOLoss(rawValue: c["align_loss"] as! String)!
            let x = Kit.inputs(inputs)
            let out = Kit.run(kind, x, beta: Float(Self.number(c["beta"])),
                              labelSmoothing: Float(Self.number(c["label_smoothing"])),
                              simpoGamma: Float(Self.number(c["simpo_gamma"])))
            Kit.assertClose(out.losses.scalars, Self.floats(c["losses"]), atol: 1e-5, rtol: 1e-6, "\(name) losses")
            let loss = Self.number(c["loss"])
            XCTAssertEqual(Double(out.loss.item), loss, accuracy: 1e-5 + 1e-6 * abs(loss), "\(name) mean loss")
            Kit.assertClose(out.chosenRewards.scalars, Self.floats(c["chosen_rewards"]), atol: 1e-5, rtol: 1e-6,
                            "\(name) chosen rewards")
            Kit.assertClose(out.rejectedRewards.scalars, Self.floats(c["rejected_rewards"]), atol: 1e-5, rtol: 1e-6,
                            "\(name) rejected rewards")
            let g = out.loss.backward()
            Kit.assertClose(g[x.policyChosen]!.scalars, Self.floats(c["grad_policy_chosen"]), atol: 1e-4, rtol: 1e-6,
                            "\(name) d loss/d policy chosen")
            Kit.assertClose(g[x.policyRejected]!.scalars, Self.floats(c["grad_policy_rejected"]), atol: 1e-4, rtol: 1e-6,
                            "\(name) d loss/d policy rejected")
        }
    }

    func testMetricsMatchTRLsLoggedMetrics() {
        var checked = 0
        for c in cases {
            guard let trl = c["metrics"] as? [String: Any] else { continue }  // sigmoid_cdpo: CPO on log-ratios
            let name = c["name"] as! String
            let kind = DPOLoss(rawValue: c["align_loss"] as! String)!
            let x = Kit.inputs(inputs)
            let out = Kit.run(kind, x, beta: Float(Self.number(c["beta"])),
                              labelSmoothing: Float(Self.number(c["label_smoothing"])),
                              simpoGamma: Float(Self.number(c["simpo_gamma"])))
            let ours = DPOMetrics.compute(out, kind: kind, policyChosen: x.policyChosen, policyRejected: x.policyRejected,
                                          chosenLength: x.chosenLength, rejectedLength: x.rejectedLength)
            XCTAssertEqual(Set(trl.keys), Set(ours.keys), name)
            for (key, value) in trl {
                let expected = Self.number(value)
                XCTAssertEqual(ours[key]!, expected, accuracy: 1e-5 + 1e-6 * abs(expected), "\(name) \(key)")
            }
            checked += 1
        }
        XCTAssertEqual(checked, 6)
    }
}

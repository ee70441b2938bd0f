import Foundation
import XCTest
@testable import AlignTensor

/// Forward values and gradients against PyTorch, from `Fixtures/tensor_goldens.json`, written
/// by `scripts/gen_tensor_goldens.py` (float32 inputs, float64 reference).
/// Tolerances: |ours − torch| ≤ atol + rtol·|torch|, atol 1e-5 for values and 1e-4 for
/// gradients, rtol 1e-6 (float32 spacing at the ±2000 log-softmax entries is 1.2e-4).
final class PyTorchGoldenTests: XCTestCase {
    static let goldens: [String: Any] = {
        let url = Bundle.module.url(forResource: "tensor_goldens", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    func section(_ name: String) -> [String: Any] { Self.goldens[name] as! [String: Any] }

    func floats(_ obj: Any?) -> [Float] {
        ((obj as! [String: Any])["data"] as! [NSNumber]).map { Float($0.doubleValue) }
    }
    func ints(_ obj: Any?) -> [Int] { ((obj as! [String: Any])["data"] as! [NSNumber]).map(\.intValue) }
    func shape(_ obj: Any?) -> [Int] { ((obj as! [String: Any])["shape"] as! [NSNumber]).map(\.intValue) }
    func tensor(_ obj: Any?, grad: Bool = true) -> Tensor { Tensor(floats(obj), shape: shape(obj), requiresGrad: grad) }
    func number(_ obj: Any?) -> Float { Float((obj as! NSNumber).doubleValue) }

    func testCrossEntropyMeanAndSum() {
        for name in ["cross_entropy", "cross_entropy_sum"] {
            let c = section(name)
            let logits = tensor(c["logits"])
            let reduction: Tensor.Reduction = (c["reduction"] as! String) == "sum" ? .sum : .mean
            let loss = logits.crossEntropy(targets: ints(c["targets"]), ignoreIndex: -100, reduction: reduction)
            XCTAssertEqual(loss.item, number(c["loss"]), accuracy: 1e-5 + 1e-6 * abs(number(c["loss"])), name)
            assertClose(loss.backward()[logits]!.scalars, floats(c["grad_logits"]), atol: 1e-4, rtol: 1e-6, name)
        }
    }

    func testLogSoftmax() {
        let c = section("log_softmax")
        let x = tensor(c["x"])
        let y = x.logSoftmax()
        assertClose(y.scalars, floats(c["out"]), atol: 1e-5, rtol: 1e-6, "out")
        let g = y.backward(seed: tensor(c["dout"], grad: false))
        assertClose(g[x]!.scalars, floats(c["dx"]), atol: 1e-4, rtol: 1e-6, "dx")
    }

    func testLayerNorm() {
        let c = section("layer_norm")
        let x = tensor(c["x"]), w = tensor(c["weight"]), b = tensor(c["bias"])
        let y = x.layerNorm(weight: w, bias: b, eps: number(c["eps"]))
        assertClose(y.scalars, floats(c["out"]), atol: 1e-5, rtol: 1e-6, "out")
        let g = y.backward(seed: tensor(c["dout"], grad: false))
        assertClose(g[x]!.scalars, floats(c["dx"]), atol: 1e-4, rtol: 1e-6, "dx")
        assertClose(g[w]!.scalars, floats(c["dweight"]), atol: 1e-4, rtol: 1e-6, "dweight")
        assertClose(g[b]!.scalars, floats(c["dbias"]), atol: 1e-4, rtol: 1e-6, "dbias")
    }

    func testRMSNorm() {
        let c = section("rms_norm")
        let x = tensor(c["x"]), w = tensor(c["weight"])
        let y = x.rmsNorm(weight: w, eps: number(c["eps"]))
        assertClose(y.scalars, floats(c["out"]), atol: 1e-5, rtol: 1e-6, "out")
        let g = y.backward(seed: tensor(c["dout"], grad: false))
        assertClose(g[x]!.scalars, floats(c["dx"]), atol: 1e-4, rtol: 1e-6, "dx")
        assertClose(g[w]!.scalars, floats(c["dweight"]), atol: 1e-4, rtol: 1e-6, "dweight")
    }

    func testGELUTanh() {
        let c = section("gelu_tanh")
        let x = tensor(c["x"])
        let y = x.gelu()
        assertClose(y.scalars, floats(c["out"]), atol: 1e-5, rtol: 1e-6, "out")
        let g = y.backward(seed: tensor(c["dout"], grad: false))
        assertClose(g[x]!.scalars, floats(c["dx"]), atol: 1e-4, rtol: 1e-6, "dx")
    }

    func testCausalPaddedAttention() {
        let c = section("attention")
        // fixture layout (B, H, T, D); the kernel takes (B, T, H·D)
        let s = shape(c["q"])
        let (B, H, T, D) = (s[0], s[1], s[2], s[3])
        func toBTC(_ t: Tensor) -> Tensor { t.permuted([0, 2, 1, 3]).reshaped([B, T, H * D]) }
        func fromBTC(_ t: Tensor) -> [Float] { t.reshaped([B, T, H, D]).permuted([0, 2, 1, 3]).scalars }
        let q = toBTC(tensor(c["q"], grad: false)).asParameter()
        let k = toBTC(tensor(c["k"], grad: false)).asParameter()
        let v = toBTC(tensor(c["v"], grad: false)).asParameter()
        let mask = Tensor(ints(c["key_mask"]).map(Float.init), shape: [B, T])
        let out = Tensor.attention(q: q, k: k, v: v, heads: H, causal: true, keyMask: mask, scale: number(c["scale"]))
        assertClose(fromBTC(out), floats(c["out"]), atol: 1e-5, rtol: 1e-6, "out")
        let g = out.backward(seed: toBTC(tensor(c["dout"], grad: false)))
        assertClose(fromBTC(g[q]!), floats(c["dq"]), atol: 1e-4, rtol: 1e-6, "dq")
        assertClose(fromBTC(g[k]!), floats(c["dk"]), atol: 1e-4, rtol: 1e-6, "dk")
        assertClose(fromBTC(g[v]!), floats(c["dv"]), atol: 1e-4, rtol: 1e-6, "dv")
    }

    func testLogSigmoidAndSoftplus() {
        let c = section("logsigmoid_softplus")
        let x = tensor(c["x"])
        let ls = x.logSigmoid(), sp = x.softplus()
        assertClose(ls.scalars, floats(c["logsigmoid"]), atol: 1e-5, rtol: 1e-6, "logsigmoid")
        assertClose(sp.scalars, floats(c["softplus"]), atol: 1e-5, rtol: 1e-6, "softplus")
        assertClose(ls.sum().backward()[x]!.scalars, floats(c["dlogsigmoid"]), atol: 1e-4, rtol: 1e-6, "dlogsigmoid")
        assertClose(sp.sum().backward()[x]!.scalars, floats(c["dsoftplus"]), atol: 1e-4, rtol: 1e-6, "dsoftplus")
    }

    func testAdamWThreeStepsWithDecayAndNoDecayGroups() {
        let c = section("adamw")
        let w = tensor(c["W0"]), b = tensor(c["b0"])
        let groups = c["groups"] as! [String: [String: Any]]
        let cfg = AdamWConfig(beta1: number(c["beta1"]), beta2: number(c["beta2"]), eps: number(c["eps"]),
                              weightDecay: number(groups["decay"]!["weight_decay"]))
        let opt = AdamW(parameters: [w, b], config: cfg)  // default: no decay on rank-1 parameters
        XCTAssertEqual(opt.decays, [true, false])
        for (i, step) in (c["steps"] as! [[String: Any]]).enumerated() {
            var grads = Gradients()
            grads.set(w, tensor(step["grad_W"], grad: false))
            grads.set(b, tensor(step["grad_b"], grad: false))
            opt.step(grads, lr: number(c["lr"]))
            assertClose(w.scalars, floats(step["W"]), atol: 1e-6, rtol: 1e-6, "W after step \(i + 1)")
            assertClose(b.scalars, floats(step["b"]), atol: 1e-6, rtol: 1e-6, "b after step \(i + 1)")
        }
    }

    func testSGDMomentum() {
        let c = section("sgd_momentum")
        let p = tensor(c["param0"])
        let opt = SGD(parameters: [p], momentum: number(c["momentum"]), weightDecay: number(c["weight_decay"]))
        for (i, step) in (c["steps"] as! [[String: Any]]).enumerated() {
            var grads = Gradients()
            grads.set(p, tensor(step["grad"], grad: false))
            opt.step(grads, lr: number(c["lr"]))
            assertClose(p.scalars, floats(step["param"]), atol: 1e-6, rtol: 1e-6, "param after step \(i + 1)")
        }
    }

    func testClipGradNorm() {
        let c = section("clip_grad_norm")
        let p1 = Tensor.zeros(shape(c["grad1"]), requiresGrad: true), p2 = Tensor.zeros(shape(c["grad2"]), requiresGrad: true)
        var grads = Gradients()
        grads.set(p1, tensor(c["grad1"], grad: false))
        grads.set(p2, tensor(c["grad2"], grad: false))
        let norm = clipGradNorm(&grads, maxNorm: number(c["max_norm"]))
        XCTAssertEqual(norm, number(c["total_norm"]), accuracy: 1e-5)
        assertClose(grads[p1]!.scalars, floats(c["clipped_grad1"]), atol: 1e-6, rtol: 1e-6, "grad1")
        assertClose(grads[p2]!.scalars, floats(c["clipped_grad2"]), atol: 1e-6, rtol: 1e-6, "grad2")
    }

    func testLinearAndCosineSchedulesWithWarmup() {
        let c = section("schedules")
        let total = (c["num_training_steps"] as! NSNumber).intValue
        let warmup = (c["num_warmup_steps"] as! NSNumber).intValue
        for (name, kind) in [("linear", LRSchedule.linear), ("cosine", LRSchedule.cosine)] {
            let expected = (c[name] as! [NSNumber]).map { Float($0.doubleValue) }
            let got = (0..<expected.count).map { kind.learningRate(base: 1, step: $0, totalSteps: total, warmupSteps: warmup) }
            assertClose(got, expected, atol: 1e-6, rtol: 0, name)
        }
    }
}

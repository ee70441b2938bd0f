import AlignTensor
import XCTest
@testable import AlignNN

/// LoRA: starts at the base model, trains only the adapters, merges back exactly.
final class LoRATests: XCTestCase {
    func testAdapterGradientsByFiniteDifferences() {
        var rng = RandomGenerator(seed: 1)
        let linear = Linear(5, 4, rng: &rng)
        let lora = LoRA(inFeatures: 5, outFeatures: 4, rank: 2, alpha: 4, rng: &rng)
        // B starts at zero; give it values so that A's gradient is not trivially zero
        for i in 0..<lora.b.count { lora.b.pointer[i] = Float(i % 3) * 0.3 - 0.2 }
        linear.lora = lora
        var x = RandomGenerator(seed: 2)
        let input = Tensor.randn([3, 5], rng: &x).asParameter()
        checkLoRAGradients([input, lora.a, lora.b]) { _ in linear(input) }
    }

    /// Finite differences of Σ f·w over the listed tensors (float32; same tolerances as AlignTensor's gradcheck).
    func checkLoRAGradients(_ inputs: [Tensor], _ f: ([Tensor]) -> Tensor) {
        var rng = RandomGenerator(seed: 9)
        let probe = withNoGrad { f(inputs) }
        let w = (0..<probe.count).map { _ in Double(rng.normal()) }
        func loss() -> Double {
            let out = withNoGrad { f(inputs) }
            return (0..<out.count).reduce(0.0) { $0 + Double(out.pointer[$1]) * w[$1] }
        }
        let g = f(inputs).backward(seed: Tensor(w.map { Float($0) }, shape: probe.shape))
        for x in inputs {
            for i in 0..<x.count {
                let o = x.pointer[i]
                x.pointer[i] = o + 1e-2; let up = loss()
                x.pointer[i] = o - 1e-2; let down = loss()
                x.pointer[i] = o
                let numeric = Float((up - down) / 2e-2)
                XCTAssertEqual(g[x]!.pointer[i], numeric, accuracy: 2e-3 + 2e-2 * abs(numeric))
            }
        }
    }

    func testStartsAtBaseTrainsOnlyAdaptersAndMergesExactly() throws {
        for family in ["llama", "gpt2"] {
            var rng = RandomGenerator(seed: 3)
            let model: any CausalLM = family == "llama"
                ? LlamaModel(try LlamaConfig.decode(json: Data(#"{"vocab_size": 17, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 32}"#.utf8)), rng: &rng)
                : GPT2Model(GPT2Config(vocabSize: 17, contextLength: 32, width: 16, layers: 2, heads: 4), rng: &rng)
            let ids = [1, 5, 9, 3, 7, 2]
            let base = withNoGrad { model.logits(ids: ids, batch: 1, length: 6) }.scalars
            let targets = LoRAOptions.defaultTargets(forModelType: family)
            let adapters = try model.applyLoRA(LoRAOptions(rank: 4, alpha: 8, targetModules: targets), rng: &rng)
            XCTAssertEqual(adapters.count, 2 * 2 * targets.count)  // A and B per adapted layer per block
            XCTAssertEqual(withNoGrad { model.logits(ids: ids, batch: 1, length: 6) }.scalars, base)  // B = 0
            // one step on the adapters only
            let opt = AdamW(parameters: adapters.map(\.1))
            let loss = model.logits(ids: ids, batch: 1, length: 6).crossEntropy(targets: [5, 9, 3, 7, 2, -100])
            let grads = loss.backward()
            XCTAssertEqual(grads.count, adapters.count, "only adapter parameters receive gradients")
            opt.step(grads, lr: 0.05)
            let adapted = withNoGrad { model.logits(ids: ids, batch: 1, length: 6) }.scalars
            XCTAssertNotEqual(adapted, base)
            model.mergeLoRA()
            XCTAssertTrue(model.loraParameters().isEmpty)
            let merged = withNoGrad { model.logits(ids: ids, batch: 1, length: 6) }.scalars
            let worst = zip(merged, adapted).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-5)
            XCTAssertTrue(model.parameters.allSatisfy(\.requiresGrad))
        }
    }

    func testUnknownTargetNamesTheLayersThatExist() {
        var rng = RandomGenerator(seed: 4)
        let model = GPT2Model(GPT2Config(vocabSize: 7, contextLength: 8, width: 8, layers: 1, heads: 2), rng: &rng)
        XCTAssertThrowsError(try model.applyLoRA(LoRAOptions(targetModules: ["q_proj"]), rng: &rng)) { e in
            XCTAssertEqual("\(e)", "lora.target_modules: q_proj match no Linear layer; this model has c_attn, c_fc, c_proj")
        }
        XCTAssertTrue(model.loraParameters().isEmpty)
    }
}

/// `sequenceLogProbs` (LM head on scored positions only) against the full log-softmax.
final class SequenceLogProbsTests: XCTestCase {
    func testEqualsSummedFullLogSoftmaxAndItsGradient() throws {
        var rng = RandomGenerator(seed: 12)
        let model = GPT2Model(GPT2Config(vocabSize: 13, contextLength: 8, width: 16, layers: 1, heads: 2), rng: &rng)
        let ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        let targets = [-100, 3, 4, 5, -100, -100, -100, -100, 11, 12, 0, -100]   // two rows of 6
        let fast = model.sequenceLogProbs(ids: ids, batch: 2, length: 6, targets: targets)
        let full = model.logits(ids: ids, batch: 2, length: 6).logProbs(ofTargets: targets).reshaped([2, 6]).sum(axis: 1)
        XCTAssertEqual(fast.shape, [2])
        for (a, b) in zip(fast.scalars, full.scalars) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let w = Tensor([0.7, -1.3], shape: [2])
        let g1 = (fast * w).sum().backward(), g2 = (full * w).sum().backward()
        for p in model.parameters {
            let worst = zip(g1[p]!.scalars, g2[p]!.scalars).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-5)
        }
    }
}

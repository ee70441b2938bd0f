import XCTest
@testable import AlignTraining

/// Keys not written take the documented defaults (ALGORITHMS.md and TRL's where they exist).
final class ConfigDefaultsTests: XCTestCase {
    func testMinimalConfigResolvesEveryDefault() throws {
        let config = try loadConfig(minimalSFT)
        XCTAssertEqual(config.trainerName, "sft")
        XCTAssertEqual(config.batchSize, 8)
        XCTAssertEqual(config.gradAccum, 1)
        XCTAssertEqual(config.epochs, 1)
        XCTAssertNil(config.maxSteps)
        XCTAssertEqual(config.seed, 0)
        XCTAssertEqual(config.logEvery, 10)
        XCTAssertNil(config.evalEvery)
        XCTAssertNil(config.saveEvery)
        XCTAssertEqual(config.keepCheckpoints, 2)
        XCTAssertNil(config.resumeFrom)
        XCTAssertNil(config.lora)
        XCTAssertNil(config.model.reference)

        let optim = config.optim
        XCTAssertEqual(optim.learningRate, 2e-5)
        XCTAssertEqual(optim.schedule, .linear)
        XCTAssertEqual(optim.warmupSteps, 0)
        XCTAssertEqual(optim.warmupRatio, 0)
        XCTAssertEqual(optim.weightDecay, 0)
        XCTAssertEqual(optim.beta1, 0.9)
        XCTAssertEqual(optim.beta2, 0.999)
        XCTAssertEqual(optim.eps, 1e-8)
        XCTAssertEqual(optim.maxGradNorm, 1.0)

        let data = config.data
        XCTAssertFalse(data.isMixture)
        XCTAssertNil(data.eval)
        XCTAssertEqual(data.format, .auto)
        XCTAssertNil(data.chatTemplate)
        XCTAssertEqual(data.maxSeqLen, 512)
        XCTAssertEqual(data.truncationSide, .left)
        XCTAssertNil(data.stride)
        XCTAssertNil(data.completionOnlyLoss)
        XCTAssertTrue(data.completionOnlyLoss(for: .promptCompletion))
        XCTAssertFalse(data.completionOnlyLoss(for: .text))
        XCTAssertFalse(data.skipInvalid)
        XCTAssertTrue(data.shuffle)
        XCTAssertNil(data.evalFraction)

        XCTAssertEqual(config.trainerConfig(SFTConfig.self).klCoef, 0)
        XCTAssertEqual(config.trainer.float("kl_coef"), 0)
    }

    func testEmptyLoRASectionTakesItsDefaults() throws {
        let config = try loadConfig(minimalSFT, overrides: ["lora={}"])
        let lora = try XCTUnwrap(config.lora)
        XCTAssertEqual(lora.rank, 8)
        XCTAssertEqual(lora.alpha, 16)
        XCTAssertEqual(lora.dropout, 0)
        XCTAssertNil(lora.targetModules)
        XCTAssertEqual(lora.targetModules(for: .llama), ["q_proj", "v_proj"])
        XCTAssertEqual(lora.targetModules(for: .gpt2), ["c_attn"])
        XCTAssertTrue(lora.merge)
    }

    func testTrainerDefaults() throws {
        let prefs = minimalSFT.replacingOccurrences(of: "data/train.jsonl", with: "data/prefs.jsonl")
        let dpo = try loadConfig(prefs, trainer: DPOConfig.schema).trainerConfig(DPOConfig.self)
        XCTAssertEqual(dpo.loss, .sigmoid)
        XCTAssertEqual(dpo.beta, 0.1)
        XCTAssertEqual(dpo.labelSmoothing, 0)
        XCTAssertEqual(dpo.dpopLambda, 50)
        XCTAssertEqual(dpo.simpoGamma, 0.5)
        XCTAssertEqual(dpo.sftWeight, 0)
        XCTAssertTrue(dpo.precomputeRefLogProbs)
        XCTAssertTrue(dpo.usesReference)

        let simpo = try loadConfig(prefs, trainer: DPOConfig.schema, overrides: ["dpo.loss=simpo"]).trainerConfig(DPOConfig.self)
        XCTAssertEqual(simpo.beta, 2.0)
        XCTAssertFalse(simpo.usesReference)
        let explicit = try loadConfig(prefs, trainer: DPOConfig.schema, overrides: ["dpo.loss=simpo", "dpo.beta=2.5"])
        XCTAssertEqual(explicit.trainerConfig(DPOConfig.self).beta, 2.5)

        let rm = try loadConfig(prefs, trainer: RMConfig.schema).trainerConfig(RMConfig.self)
        XCTAssertEqual(rm.numHeads, 1)
        XCTAssertEqual(rm.centerRewardsCoefficient, 0)
    }

    func testNewModelDefaults() throws {
        let text = """
        {
          "model": {"init": {"architecture": "llama", "tokenizer": "../llama-tiny.gguf"}},
          "data": {"train": "data/web.jsonl"},
          "max_steps": 100,
          "output_dir": "out/run"
        }
        """
        let config = try loadConfig(text)
        guard case .initialize(let shape) = config.model.source else { return XCTFail("expected model.init") }
        XCTAssertNil(shape.vocabSize)
        XCTAssertEqual(shape.hiddenSize, 256)
        XCTAssertEqual(shape.layers, 4)
        XCTAssertEqual(shape.heads, 4)
        XCTAssertEqual(shape.kvHeads, 4)
        XCTAssertEqual(shape.intermediateSize, 704)
        XCTAssertEqual(shape.contextLength, 512)
        XCTAssertEqual(shape.tokenizer, ConfigFixtures.path("../llama-tiny.gguf"))
        XCTAssertEqual(config.optim.warmupSteps(totalSteps: 100), 0)
        XCTAssertEqual(try loadConfig(text, overrides: ["optim.warmup_ratio=0.031"]).optim.warmupSteps(totalSteps: 100), 4)
    }
}

import AlignData
import AlignNN
import AlignTensor
import AlignTestSupport
import AlignTraining
import Foundation
import XCTest
@testable import AlignOnline
@testable import BoNTrainer
@testable import PPOTrainer

/// One convention for where a reward model reads a reply: the last token of the conversation as
/// the chat template renders it. A rollout that ended with `<|im_end|>` is scored with the
/// template's `\n` after it, exactly as `align rm score` scores the same conversation and as
/// transformers' `apply_chat_template` tokenises it.
final class RewardModelReadingTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-rm-reading-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try TinyPolicy.make(in: dir, prompts: 6, train: 4)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testARolloutIsScoredWhereAlignRMScoreAndApplyChatTemplateReadIt() throws {
        let base = dir.appendingPathComponent("base")
        let tok = try ModelStore.loadTokenizer(base.path)
        let imEnd = try XCTUnwrap(tok.tokenToID("<|im_end|>"))
        var r = RandomGenerator(seed: 4)
        // pad = <|im_end|>, as SmolLM2's: without the "\n" the score would be read before the EOS
        let rm = RewardModel(backbone: try ModelStore.load(base.path).model,
                             head: RewardModel.makeHead(hiddenSize: 32, heads: 2, rng: &r), padID: imEnd)
        let rmDir = dir.appendingPathComponent("rm")
        try RewardModelStore.save(rm, family: .llama, tokenizer: tok, to: rmDir)
        try """
        {"model": {"path": "base"}, "data": {"train": "prompts.jsonl", "eval": "eval.jsonl", "max_seq_len": 64},
         "ppo": {"iterations": 1, "max_new_tokens": 6, "reward": {"model": "rm"}}, "batch_size": 2, "output_dir": "out"}
        """.write(to: dir.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        let config = try RunConfig.load(file: dir.appendingPathComponent("run.json"), trainer: PPOConfig.schema)
        let ppo = config.trainerConfig(PPOConfig.self)
        let files = try OnlinePrompts.read(config, trainer: "ppo")
        let run = try TrainerRun(config: config, callback: { _ in })
        let data = try OnlinePrompts.prepare(files, config: config, run: run, trainer: "ppo", maxNewTokens: ppo.sampling.maxNewTokens, minimumPrompts: 1)
        let reward = try RewardFunction(ppo.reward, policyVocabulary: tok.vocabSize, policyTokenizer: tok, batchSize: 1)
        try data.prepareRewardModel(reward, run: run, stopTokens: try OnlinePrompts.stopTokens(run), maxNewTokens: ppo.sampling.maxNewTokens,
                                    trainer: "ppo", files: files)
        XCTAssertEqual(reward.turnSuffix, tok.encode("\n", addSpecialTokens: false))

        guard case .text(let promptText) = data.train[0].prompt else { return XCTFail("a text prompt") }
        let reply = tok.encode("a blue thing", addSpecialTokens: false)
        func modelScore(_ responseIDs: [Int], ended: Bool) throws -> Double {
            let sample = RewardSample(record: data.train[0], promptIDs: data.trainIDs[0], responseIDs: responseIDs,
                                      response: "a blue thing", endedWithEOS: ended)
            return try XCTUnwrap(try reward.score([sample]) { _ in "sample" }[0].sources["model"])
        }
        let ended = try modelScore(reply + [imEnd], ended: true)
        let cut = try modelScore(reply, ended: false)

        // `align rm score` on the same conversation reads the same ids: transformers' text
        let loaded = try RewardModelStore.load(rmDir.path)
        let line = #"{"prompt": [{"role": "user", "content": "\#(promptText)"}], "response": [{"role": "assistant", "content": "a blue thing"}]}"#
        let rows = try RewardScoring.score(loaded, input: Data(line.utf8), source: "one.jsonl", batchSize: 1, includeIDs: true)
        let ids = try XCTUnwrap(rows[0]["input_ids"] as? [Int])
        XCTAssertEqual(ids, data.trainIDs[0] + reply + [imEnd] + reward.turnSuffix)
        XCTAssertEqual(tok.decode(ids), try ChatTemplate.chatml.render([.user(promptText), .assistant("a blue thing")]).text)
        XCTAssertEqual(ended, try XCTUnwrap(rows[0]["reward"] as? Double))
        // a reply that ran out of tokens is scored as it is, with nothing appended
        XCTAssertEqual(cut, Double(loaded.model.score([data.trainIDs[0] + reply], batchSize: 1)[0].reward))
        XCTAssertNotEqual(ended, cut)
    }
}

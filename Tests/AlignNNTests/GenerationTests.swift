import AlignNN
import AlignTensor
import Foundation
import XCTest

/// `generate` on the tiny GPT-2 and LLaMA fixtures: batching with left padding changes nothing,
/// the cached loop equals re-running full forwards, seeds reproduce, stop tokens and lengths end
/// rows, log-probs are the full forward's, and bad input is a thrown error.
final class GenerationTests: XCTestCase {
    let prompts = [[5, 17, 3, 88, 42, 9, 61], [12, 7], [33, 80, 11, 4]]

    func forEachModel(_ body: (String, any CausalLM) throws -> Void) throws {
        try body("gpt2", ModelFixtures.gpt2())
        try body("llama", ModelFixtures.llama())
    }

    /// log-softmax rows of a full forward (no cache, no padding) over `ids`: (T, V) in Double.
    func fullLogSoftmax<M: CausalLM>(_ model: M, _ ids: [Int]) -> [[Double]] {
        let logits = withNoGrad { model.logits(ids: ids, batch: 1, length: ids.count) }.scalars
        let V = model.config.vocabSize
        return (0..<ids.count).map { t in
            let row = logits[(t * V)..<((t + 1) * V)].map(Double.init)
            let mx = row.max()!
            let lse = mx + log(row.reduce(0) { $0 + exp($1 - mx) })
            return row.map { $0 - lse }
        }
    }

    func generateWith<M: CausalLM>(_ model: M, prompts: [[Int]], config: GenerationConfig,
                               rng: inout RandomGenerator) throws -> GenerationResult {
        try Generator(model: model).generate(prompts: prompts, config: config, rng: &rng)
    }

    func generateWith<M: CausalLM>(_ model: M, prompts: [[Int]], config: GenerationConfig,
                                   streams: inout [RandomGenerator], copies: BFloat16WeightCopies? = nil) throws -> GenerationResult {
        try Generator(model: model).generate(prompts: prompts, config: config, streams: &streams, copies: copies)
    }

    /// Greedy continuation by re-running the whole sequence each step (no cache), first maximum on ties.
    func argmaxLoop<M: CausalLM>(_ model: M, _ prompt: [Int], steps: Int) -> [Int] {
        var seq = prompt
        let V = model.config.vocabSize
        for _ in 0..<steps {
            let l = withNoGrad { model.logits(ids: seq, batch: 1, length: seq.count) }.scalars
            let row = Array(l[(l.count - V)...])
            var best = 0
            for i in 1..<V where row[i] > row[best] { best = i }
            seq.append(best)
        }
        return Array(seq[prompt.count...])
    }

    func testBatchedGreedyEqualsEachPromptAlone() throws {
        try forEachModel { name, model in
            let config = GenerationConfig(maxNewTokens: 8, stopTokenIDs: [])
            let batched = try generate(model: model, prompts: prompts, config: config)
            XCTAssertEqual(batched.sequences.count, 3)
            for (b, prompt) in prompts.enumerated() {
                let alone = try generate(model: model, prompts: [prompt], config: config).sequences[0]
                let row = batched.sequences[b]
                XCTAssertEqual(row.tokens, alone.tokens, "\(name) row \(b)")
                XCTAssertEqual(row.tokens.count, 8)
                XCTAssertEqual(row.promptTokens, prompt.count)
                XCTAssertEqual(row.finishReason, .maxNewTokens)
                XCTAssertFalse(row.stoppedOnStopToken)
                XCTAssertLessThanOrEqual(maxAbsDiff(row.logProbs, alone.logProbs), 1e-4, "\(name) row \(b)")
            }
        }
    }

    func testGreedyEqualsArgmaxOverFullForwards() throws {
        try forEachModel { name, model in
            let result = try generate(model: model, prompts: prompts, config: GenerationConfig(maxNewTokens: 10, stopTokenIDs: []))
            for (b, prompt) in prompts.enumerated() {
                XCTAssertEqual(result.sequences[b].tokens, argmaxLoop(model, prompt, steps: 10), "\(name) row \(b)")
            }
        }
    }

    func testSamplingIsReproducibleBySeed() throws {
        try forEachModel { name, model in
            var config = GenerationConfig(maxNewTokens: 12, sampling: SamplingConfig(temperature: 1), stopTokenIDs: [], seed: 3)
            let a = try generate(model: model, prompts: prompts, config: config)
            let b = try generate(model: model, prompts: prompts, config: config)
            XCTAssertEqual(a.sequences, b.sequences, name)
            // row b draws from the b-th fork of the seeded stream: alone, prompt 0 samples the same
            let alone = try generate(model: model, prompts: [prompts[0]], config: config)
            XCTAssertEqual(alone.sequences[0].tokens, a.sequences[0].tokens, name)
            config.seed = 4
            let c = try generate(model: model, prompts: prompts, config: config)
            XCTAssertNotEqual(c.sequences.map(\.tokens), a.sequences.map(\.tokens), name)
            // an explicit generator gives the same as the seed it was made from
            var rng = RandomGenerator(seed: 4)
            let d = try generateWith(model, prompts: prompts, config: config, rng: &rng)
            XCTAssertEqual(d.sequences, c.sequences, name)
            // top-k / top-p sampling is reproducible too
            config.sampling = SamplingConfig(temperature: 0.8, topK: 5, topP: 0.9)
            XCTAssertEqual(try generate(model: model, prompts: prompts, config: config).sequences,
                           try generate(model: model, prompts: prompts, config: config).sequences, name)
        }
    }

    /// A data-parallel rollout forks one stream per row and generates a shard of the rows on each
    /// rank: the shards together must sample exactly what one call over every row samples.
    func testRowsGeneratedInShardsWithTheirStreamsSampleWhatOneCallSamples() throws {
        try forEachModel { name, model in
            let config = GenerationConfig(maxNewTokens: 10, sampling: SamplingConfig(temperature: 1.2), stopTokenIDs: [])
            let rows = prompts + prompts.reversed()
            var rng = RandomGenerator(seed: 11)
            let whole = try generateWith(model, prompts: rows, config: config, rng: &rng)
            var again = RandomGenerator(seed: 11)
            var streams = rows.indices.map { _ in again.fork() }
            XCTAssertEqual(again, rng, "\(name): the forks advance the generator as one call does")
            var pieces: [GeneratedSequence] = []
            for shard in [0..<1, 1..<4, 4..<6] {
                var s = Array(streams[shard])
                pieces += try generateWith(model, prompts: Array(rows[shard]), config: config, streams: &s).sequences
                streams.replaceSubrange(shard, with: s)
            }
            XCTAssertEqual(pieces.map(\.tokens), whole.sequences.map(\.tokens), name)
            XCTAssertEqual(pieces.map(\.finishReason), whole.sequences.map(\.finishReason), name)
            // the rows did sample: not every row the same continuation
            XCTAssertGreaterThan(Set(pieces.map(\.tokens)).count, 1, name)
        }
    }

    /// Rows with the same prompt share one prompt pass (their cache rows copied): each row still
    /// samples from its own stream what it samples alone, and the rows of a group differ.
    func testRowsSharingAPromptSampleWhatEachSamplesAlone() throws {
        try forEachModel { name, model in
            let config = GenerationConfig(maxNewTokens: 10, sampling: SamplingConfig(temperature: 1.2), stopTokenIDs: [])
            // groups of one prompt (a GRPO rollout), interleaved with another, and a padded mix
            let rows = [prompts[0], prompts[0], prompts[1], prompts[0], prompts[1], prompts[2]]
            var rng = RandomGenerator(seed: 5)
            var streams = rows.indices.map { _ in rng.fork() }
            let original = streams
            let shared = try generateWith(model, prompts: rows, config: config, streams: &streams)
            for (b, prompt) in rows.enumerated() {
                var one = [original[b]]
                let alone = try generateWith(model, prompts: [prompt], config: config, streams: &one).sequences[0]
                XCTAssertEqual(shared.sequences[b].tokens, alone.tokens, "\(name) row \(b)")
                XCTAssertEqual(shared.sequences[b].promptTokens, prompt.count)
                XCTAssertLessThanOrEqual(maxAbsDiff(shared.sequences[b].logProbs, alone.logProbs), 1e-4, "\(name) row \(b)")
                XCTAssertEqual(one[0], streams[b], "\(name) row \(b): the stream advanced as alone")
            }
            XCTAssertGreaterThan(Set([0, 1, 3].map { shared.sequences[$0].tokens }).count, 1, "\(name): a group's rows differ")
        }
    }

    func testBFloat16DecodeStepsMoveTheLogProbsByRoundingOnlyAndThePromptPassStaysFloat32() throws {
        // the prompt pass (and so the first token) reads float32; every decode step reads
        // bfloat16 copies, at 3 rows and at 12 (more than the kernel's 8 rows at a time); the
        // model's own weights are left as they were
        try forEachModel { name, model in
            for rows in [prompts, prompts + prompts + prompts + prompts] {
                let greedy = GenerationConfig(maxNewTokens: 6, stopTokenIDs: [])
                var half = greedy
                half.weightsDtype = .bfloat16
                let before = try generate(model: model, prompts: rows, config: greedy)
                let b = try generate(model: model, prompts: rows, config: half)
                let after = try generate(model: model, prompts: rows, config: greedy)
                XCTAssertEqual(after.sequences.map { $0.logProbs.map(\.bitPattern) }, before.sequences.map { $0.logProbs.map(\.bitPattern) },
                               "\(name): the float32 weights are unchanged")
                XCTAssertNotEqual(before.sequences.map(\.logProbs), b.sequences.map(\.logProbs), "\(name): the copies made a difference")
                for (x, y) in zip(before.sequences, b.sequences) {
                    XCTAssertEqual(x.tokens.count, y.tokens.count, name)
                    XCTAssertEqual(x.tokens[0], y.tokens[0], name)
                    XCTAssertEqual(x.logProbs[0].bitPattern, y.logProbs[0].bitPattern, "\(name): the first token comes from the float32 prompt pass")
                    if x.tokens == y.tokens {
                        XCTAssertLessThan(maxAbsDiff(x.logProbs, y.logProbs), 0.05, name)
                    }
                }
            }
        }
    }

    func testBFloat16CopiesSharedAcrossCallsAreMadeOnceAndSampleWhatOneCallSamples() throws {
        try forEachModel { name, model in
            var config = GenerationConfig(maxNewTokens: 8, sampling: SamplingConfig(temperature: 1.2), stopTokenIDs: [])
            config.weightsDtype = .bfloat16
            let rows = prompts + prompts.reversed()
            var rng = RandomGenerator(seed: 5)
            let whole = try generateWith(model, prompts: rows, config: config, rng: &rng)
            var again = RandomGenerator(seed: 5)
            var streams = rows.indices.map { _ in again.fork() }
            let copies = BFloat16WeightCopies()
            var pieces: [GeneratedSequence] = []
            var bytesAfterFirstCall = 0
            for shard in [0..<2, 2..<6] {
                var s = Array(streams[shard])
                pieces += try generateWith(model, prompts: Array(rows[shard]), config: config, streams: &s, copies: copies).sequences
                streams.replaceSubrange(shard, with: s)
                if bytesAfterFirstCall == 0 { bytesAfterFirstCall = copies.bytes }
            }
            XCTAssertGreaterThan(bytesAfterFirstCall, 0, name)
            XCTAssertEqual(copies.bytes, bytesAfterFirstCall, "\(name): the second call made no new copies")
            XCTAssertEqual(pieces.map(\.tokens), whole.sequences.map(\.tokens), name)
            // log-probs agree to float32 rounding (the float32 prompt pass runs over other shapes)
            for (a, b) in zip(pieces, whole.sequences) { XCTAssertLessThan(maxAbsDiff(a.logProbs, b.logProbs), 1e-4, name) }
        }
    }

    func testStopTokenEndsRowEarlyWhileOthersContinue() throws {
        try forEachModel { name, model in
            let maxNew = 12
            let free = try generate(model: model, prompts: prompts, config: GenerationConfig(maxNewTokens: maxNew, stopTokenIDs: []))
                .sequences.map(\.tokens)
            // a token some row produces before its last step and some other row never produces
            var stop: Int?
            search: for (r, row) in free.enumerated() {
                for t in row.dropLast() where free.indices.contains(where: { $0 != r && !free[$0].contains(t) }) {
                    stop = t
                    break search
                }
            }
            let s = try XCTUnwrap(stop, "\(name): no usable stop token in \(free)")
            // and with a second stop token that no row produces
            let unused = try XCTUnwrap((0..<model.config.vocabSize).first { t in !free.contains { $0.contains(t) } })
            for config in [GenerationConfig(maxNewTokens: maxNew, stopTokenIDs: [s]),
                           GenerationConfig(maxNewTokens: maxNew, stopTokenIDs: [unused, s])] {
                let stopped = try generate(model: model, prompts: prompts, config: config)
                var early = 0, full = 0
                for (b, row) in stopped.sequences.enumerated() {
                    if let i = free[b].firstIndex(of: s) {
                        XCTAssertEqual(row.tokens, Array(free[b][...i]), "\(name) row \(b) ends with its stop token")
                        XCTAssertEqual(row.finishReason, .stopToken)
                        XCTAssertTrue(row.stoppedOnStopToken)
                        XCTAssertEqual(row.logProbs.count, row.tokens.count)
                        if i < maxNew - 1 { early += 1 }
                    } else {
                        XCTAssertEqual(row.tokens, free[b], "\(name) row \(b) continues")
                        XCTAssertEqual(row.finishReason, .maxNewTokens)
                        full += 1
                    }
                }
                XCTAssertGreaterThan(early, 0, name)
                XCTAssertGreaterThan(full, 0, name)
            }
        }
    }

    func testModelEOSIsTheDefaultStopToken() throws {
        let model = try ModelFixtures.llama()
        let free = try generate(model: model, prompts: prompts, config: GenerationConfig(maxNewTokens: 12, stopTokenIDs: []))
        // make the model's EOS a token that a row produces
        var config = model.config
        let token = free.sequences[1].tokens[2]
        config.eosTokenIDs = [token]
        var rng = RandomGenerator(seed: 0)
        let copy = LlamaModel(config, rng: &rng)
        try copy.load(stateDict: Dictionary(uniqueKeysWithValues: model.namedParameters()))
        let result = try generate(model: copy, prompts: prompts, config: GenerationConfig(maxNewTokens: 12))
        let i = free.sequences[1].tokens.firstIndex(of: token)!
        XCTAssertEqual(result.sequences[1].tokens, Array(free.sequences[1].tokens[...i]))
        XCTAssertEqual(result.sequences[1].finishReason, .stopToken)
    }

    func testMaxNewTokensIsRespected() throws {
        try forEachModel { name, model in
            for n in [0, 1, 2, 5] {
                let r = try generate(model: model, prompts: prompts, config: GenerationConfig(maxNewTokens: n, stopTokenIDs: []))
                XCTAssertEqual(r.sequences.map(\.tokens.count), [n, n, n], name)
                XCTAssertEqual(r.sequences.map(\.logProbs.count), [n, n, n], name)
                XCTAssertEqual(r.sequences.map(\.finishReason), Array(repeating: .maxNewTokens, count: 3), name)
                XCTAssertEqual(r.sequences.map(\.promptTokens), prompts.map(\.count), name)
                XCTAssertEqual(r.decodeSteps, max(n - 1, 0), name)
                XCTAssertEqual(r.generatedTokens, 3 * n, name)
            }
        }
    }

    func testContextLengthEndsRows() throws {
        let model = try ModelFixtures.gpt2()  // n_positions 64
        let long = (0..<60).map { ($0 * 7) % 100 }
        let full = (0..<64).map { ($0 * 11) % 100 }
        let r = try generate(model: model, prompts: [long, [4, 5], full], config: GenerationConfig(maxNewTokens: 10, stopTokenIDs: []))
        XCTAssertEqual(r.sequences.map(\.tokens.count), [4, 10, 0])
        XCTAssertEqual(r.sequences.map(\.finishReason), [.contextLength, .maxNewTokens, .contextLength])
        XCTAssertEqual(r.sequences[0].tokens, argmaxLoop(model, long, steps: 4))
        XCTAssertEqual(r.sequences[1].tokens, argmaxLoop(model, [4, 5], steps: 10))
    }

    func testLogProbsEqualFullForwardLogSoftmax() throws {
        try forEachModel { name, model in
            for sampling in [SamplingConfig(temperature: 1), SamplingConfig(temperature: 1, topK: 7, topP: 0.8), .greedy] {
                let r = try generate(model: model, prompts: prompts,
                                     config: GenerationConfig(maxNewTokens: 10, sampling: sampling, stopTokenIDs: [], seed: 11))
                var worst = 0.0
                for (b, prompt) in prompts.enumerated() {
                    let row = r.sequences[b]
                    let ls = fullLogSoftmax(model, prompt + row.tokens)
                    for (i, token) in row.tokens.enumerated() {
                        worst = max(worst, abs(Double(row.logProbs[i]) - ls[prompt.count - 1 + i][token]))
                    }
                }
                XCTAssertLessThanOrEqual(worst, 1e-4, "\(name) \(sampling)")
            }
        }
    }

    func testRejectsBadInputWithClearErrors() throws {
        try forEachModel { name, model in
            let ctx = model.config.contextLength
            func error(_ prompts: [[Int]], _ config: GenerationConfig = GenerationConfig()) -> GenerationError? {
                do {
                    _ = try generate(model: model, prompts: prompts, config: config)
                    return nil
                } catch {
                    return error as? GenerationError
                }
            }
            XCTAssertEqual(error([[1, 2], []]), .emptyPrompt(index: 1), name)
            XCTAssertEqual(error([]), .noPrompts, name)
            let tooLong = error([[1], Array(repeating: 3, count: ctx + 1)])
            XCTAssertEqual(tooLong, .promptTooLong(index: 1, length: ctx + 1, contextLength: ctx), name)
            let message = tooLong?.description ?? ""
            XCTAssertTrue(message.contains("\(ctx + 1) tokens") && message.contains("\(ctx)"), message)
            XCTAssertEqual(error([[1, 101]]), .tokenOutOfRange(index: 0, position: 1, token: 101, vocabSize: 101), name)
            XCTAssertEqual(error([[1]], GenerationConfig(maxNewTokens: -1)),
                           .invalidConfig("max_new_tokens must be ≥ 0, got -1"), name)
            XCTAssertEqual(error([[1]], GenerationConfig(sampling: SamplingConfig(topP: 0))),
                           .invalidConfig("sampling: top_p must be in (0, 1], got 0.0"), name)
            XCTAssertEqual(error([[1]], GenerationConfig(stopTokenIDs: [500])), .invalidConfig("stop token 500 is outside the vocabulary 0..<101"), name)
            XCTAssertEqual(error([[1]], GenerationConfig(padTokenID: 101)), .invalidConfig("pad token 101 is outside the vocabulary 0..<101"), name)
            XCTAssertTrue(GenerationError.emptyPrompt(index: 1).description.contains("prompt 1 is empty"))
        }
    }

    func testStreamingCallbackSeesEveryTokenInOrder() throws {
        try forEachModel { name, model in
            let config = GenerationConfig(maxNewTokens: 6, sampling: SamplingConfig(temperature: 1), stopTokenIDs: [], seed: 5)
            var streamed = Array(repeating: [Int](), count: prompts.count)
            var steps: [Int] = []
            var finished: [Int: FinishReason] = [:]
            let r = try generate(model: model, prompts: prompts, config: config) { step in
                steps.append(step.step)
                for t in step.tokens {
                    streamed[t.row].append(t.token.id)
                    if let reason = t.finishReason { finished[t.row] = reason }
                }
            }
            XCTAssertEqual(streamed, r.sequences.map(\.tokens), name)
            XCTAssertEqual(steps, Array(0..<6), name)
            XCTAssertEqual(finished, [0: .maxNewTokens, 1: .maxNewTokens, 2: .maxNewTokens], name)
            XCTAssertEqual(r.generatedTokens, 18)
            XCTAssertEqual(r.decodeTokens, 15)
            XCTAssertEqual(r.promptTokens, 13)
            XCTAssertGreaterThan(r.prefillSeconds, 0)
            XCTAssertGreaterThan(r.decodeSeconds, 0)
            XCTAssertGreaterThan(r.decodeTokensPerSecond, 0)
            print("generate \(name) tiny: 3 rows × 6 tokens, prefill \(r.prefillSeconds * 1000) ms, decode \(r.decodeTokensPerSecond) tokens/s")
        }
    }

    func testGenerationConfigJSON() throws {
        let json = """
        {"max_new_tokens": 5, "sampling": {"temperature": 0.5, "top_k": 3, "top_p": 0.9},
         "stop_token_ids": [2, 7], "seed": 9, "pad_token_id": 0, "weights_dtype": "bfloat16", "unknown": true}
        """
        let c = try JSONDecoder().decode(GenerationConfig.self, from: Data(json.utf8))
        XCTAssertEqual(c, GenerationConfig(maxNewTokens: 5, sampling: SamplingConfig(temperature: 0.5, topK: 3, topP: 0.9),
                                           stopTokenIDs: [2, 7], seed: 9, padTokenID: 0, weightsDtype: .bfloat16))
        let d = try JSONDecoder().decode(GenerationConfig.self, from: Data("{}".utf8))
        XCTAssertEqual(d, GenerationConfig())
        XCTAssertTrue(d.sampling.isGreedy)
        XCTAssertNil(d.stopTokenIDs)
        XCTAssertEqual(d.weightsDtype, .float32)
        XCTAssertThrowsError(try JSONDecoder().decode(GenerationConfig.self, from: Data(#"{"weights_dtype": "fp8"}"#.utf8)))
        let encoded = try JSONEncoder().encode(c)
        let keys = try XCTUnwrap(JSONSerialization.jsonObject(with: encoded) as? [String: Any]).keys
        XCTAssertEqual(Set(keys), ["max_new_tokens", "sampling", "stop_token_ids", "seed", "pad_token_id", "weights_dtype"])
        XCTAssertEqual(try JSONDecoder().decode(GenerationConfig.self, from: encoded), c)
    }
}

/// The preallocated cache: growth keeps the tokens, and the in-place single-token attention
/// equals `Tensor.attention` over the full keys and values.
final class KVCacheStorageTests: XCTestCase {
    func testAppendGrowsAndKeepsTokens() {
        var rng = RandomGenerator(seed: 1)
        let cache = KVCache(layers: 2, batch: 2)
        var allK: [Tensor] = [], allV: [Tensor] = []
        withNoGrad {
            for (i, t) in [3, 1, 1, 4, 1, 1, 1, 7].enumerated() {
                let k = Tensor.randn([2, t, 6], rng: &rng), v = Tensor.randn([2, t, 6], rng: &rng)
                allK.append(k)
                allV.append(v)
                _ = cache.append(layer: 0, keys: k, values: v)
                let (ck, cv) = cache.append(layer: 1, keys: k, values: v)
                XCTAssertEqual(ck.scalars, Tensor.concat(allK, axis: 1).scalars, "append \(i)")
                XCTAssertEqual(cv.scalars, Tensor.concat(allV, axis: 1).scalars, "append \(i)")
                XCTAssertGreaterThanOrEqual(cache.capacity, cache.length)
                if i == 3 { cache.reserveCapacity(40) }
            }
        }
        XCTAssertEqual(cache.length, 19)
        XCTAssertEqual(cache.capacity, 40)
        XCTAssertEqual(cache.keys[0]?.shape, [2, 19, 6])
        cache.reset()
        XCTAssertEqual(cache.length, 0)
        XCTAssertNil(cache.keys[0])
    }

    func testSingleTokenAttentionMatchesTensorAttention() {
        var rng = RandomGenerator(seed: 2)
        let (B, heads, kvHeads, D) = (3, 4, 2, 8)
        for capacity in [0, 32] {
            let cache = KVCache(layers: 1, batch: B, capacity: capacity)
            var allK: [Tensor] = [], allV: [Tensor] = []
            var S = 0
            withNoGrad {
                for t in [5, 1, 1, 1, 2, 1] {
                    let q = Tensor.randn([B, t, heads * D], rng: &rng)
                    let k = Tensor.randn([B, t, kvHeads * D], rng: &rng), v = Tensor.randn([B, t, kvHeads * D], rng: &rng)
                    allK.append(k)
                    allV.append(v)
                    S += t
                    // row 0 all real, row 1 left-padded by 2, row 2 fully masked
                    let mask = Tensor((0..<B).flatMap { b in (0..<S).map { j -> Float in b == 2 ? 0 : (b == 1 && j < 2 ? 0 : 1) } },
                                      shape: [B, S])
                    let got = cache.attention(layer: 0, queries: q, keys: k, values: v, heads: heads, kvHeads: kvHeads, keyMask: mask)
                    let want = Tensor.attention(q: q, k: Tensor.concat(allK, axis: 1), v: Tensor.concat(allV, axis: 1),
                                                heads: heads, kvHeads: kvHeads, keyMask: mask)
                    XCTAssertEqual(got.shape, want.shape)
                    XCTAssertLessThanOrEqual(maxAbsDiff(got.scalars, want.scalars), 1e-5, "S \(S), capacity \(capacity)")
                }
            }
        }
    }
}

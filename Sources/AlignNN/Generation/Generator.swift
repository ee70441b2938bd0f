import AlignTensor
import Dispatch
import Foundation

/// Continues a batch of prompts with any `CausalLM`, with Hugging Face `generate` semantics.
///
/// - Prompts of different lengths run as one batch, LEFT-padded with the pad token, masked out
///   of attention, with HF's position ids (`positionIDs(fromKeyMask:)`: cumsum(mask) − 1), so
///   each row computes what it would alone. Identical prompts are run once and their cache rows
///   copied (a GRPO group, best-of-N's candidates).
/// - One forward pass over the prompts fills a KV cache (reserved for prompt + max_new_tokens
///   positions), then one forward pass per step feeds each row's last token. Only the last
///   position's hidden states go through the LM head: (B, 1, V) logits per step, never (B, T, V).
/// - A row stops at a stop token (kept in its output), after `max_new_tokens`, or when prompt +
///   generated tokens reach the model's context length. Finished rows are fed the pad token
///   until the whole batch is done; their outputs are not extended.
/// - Randomness (`seed`, or an explicit generator): before the first step, one generator per
///   row is forked from the seeded generator in row order (`rng.fork()` for row 0, 1, …). Row b
///   draws from its own generator exactly once per sampled token (greedy draws nothing). So a
///   row's samples depend only on the seed, its row index and its own logits: not on how long
///   other rows run, on thread timing, or on whether it ran in a batch of 1 or of 8.
/// - Everything runs under `withNoGrad`. With `weightsDtype` bfloat16 the decode steps (not the
///   prompt pass) read bfloat16 copies of the weights, made for this call
///   (`BFloat16WeightCopies`).
public struct Generator<Model: CausalLM> {
    public let model: Model

    public init(model: Model) {
        self.model = model
    }

    /// Continues `prompts` (token ids, each non-empty and at most the context length), sampling
    /// with a generator seeded by `config.seed`. `onStep` sees each step's new tokens as they
    /// are chosen (for streaming).
    public func generate(prompts: [[Int]], config: GenerationConfig = GenerationConfig(),
                         onStep: ((GenerationStep) -> Void)? = nil) throws -> GenerationResult {
        var rng = RandomGenerator(seed: config.seed)
        return try generate(prompts: prompts, config: config, rng: &rng, onStep: onStep)
    }

    /// As `generate(prompts:config:onStep:)`, drawing from `rng` instead of `config.seed`
    /// (`rng` advances by one draw per prompt: the forks of the per-row generators).
    public func generate(prompts: [[Int]], config: GenerationConfig, rng: inout RandomGenerator,
                         onStep: ((GenerationStep) -> Void)? = nil) throws -> GenerationResult {
        let plan = try Plan(model: model, prompts: prompts, config: config)
        var streams = prompts.indices.map { _ in rng.fork() }
        return withNoGrad { run(plan, config: config, streams: &streams, onStep: onStep) }
    }

    /// As `generate(prompts:config:rng:onStep:)` with row b drawing from `streams[b]` (one
    /// stream per prompt, advanced in place). Rows forked from one generator in row order and
    /// generated in any grouping (a shard of them here, the rest elsewhere) sample what one call
    /// over all of them samples. With `weightsDtype` bfloat16, `copies` (when given) holds the
    /// bfloat16 weights across calls, so that a rollout generated in several calls converts the
    /// weights once.
    public func generate(prompts: [[Int]], config: GenerationConfig, streams: inout [RandomGenerator],
                         copies: BFloat16WeightCopies? = nil, onStep: ((GenerationStep) -> Void)? = nil) throws -> GenerationResult {
        precondition(streams.count == prompts.count, "Generator: \(streams.count) random streams for \(prompts.count) prompts")
        let plan = try Plan(model: model, prompts: prompts, config: config)
        return withNoGrad { run(plan, config: config, streams: &streams, copies: copies, onStep: onStep) }
    }

    /// Validated inputs and per-row limits.
    struct Plan {
        let prompts: [[Int]]
        let stopTokens: Set<Int>
        let pad: Int
        /// Tokens row b may generate: min(max_new_tokens, context length − prompt length).
        let budgets: [Int]
        let contextLength: Int

        init(model: Model, prompts: [[Int]], config: GenerationConfig) throws {
            if let e = config.validationError { throw GenerationError.invalidConfig(e) }
            guard !prompts.isEmpty else { throw GenerationError.noPrompts }
            let V = model.config.vocabSize, ctx = model.config.contextLength
            for (i, p) in prompts.enumerated() {
                guard !p.isEmpty else { throw GenerationError.emptyPrompt(index: i) }
                guard p.count <= ctx else {
                    throw GenerationError.promptTooLong(index: i, length: p.count, contextLength: ctx)
                }
                if let j = p.firstIndex(where: { $0 < 0 || $0 >= V }) {
                    throw GenerationError.tokenOutOfRange(index: i, position: j, token: p[j], vocabSize: V)
                }
            }
            let stops = config.stopTokenIDs ?? model.config.eosTokenIDs
            if let bad = stops.first(where: { $0 < 0 || $0 >= V }) {
                throw GenerationError.invalidConfig("stop token \(bad) is outside the vocabulary 0..<\(V)"
                    + (config.stopTokenIDs == nil ? " (from the model config's eos_token_id)" : ""))
            }
            let pad = config.padTokenID ?? model.config.padTokenID ?? stops.first ?? 0
            guard pad >= 0 && pad < V else {
                throw GenerationError.invalidConfig("pad token \(pad) is outside the vocabulary 0..<\(V)")
            }
            self.prompts = prompts
            stopTokens = Set(stops)
            self.pad = pad
            budgets = prompts.map { Swift.min(config.maxNewTokens, ctx - $0.count) }
            contextLength = ctx
        }
    }

    private func run(_ plan: Plan, config: GenerationConfig, streams: inout [RandomGenerator],
                     copies: BFloat16WeightCopies? = nil, onStep: ((GenerationStep) -> Void)?) -> GenerationResult {
        let B = plan.prompts.count
        let lengths = plan.prompts.map(\.count)
        let P = lengths.max()!
        let V = model.config.vocabSize
        var out = plan.prompts.indices.map { b in
            GeneratedSequence(tokens: [], logProbs: [], finishReason: config.maxNewTokens == 0 ? .maxNewTokens : .contextLength,
                              promptTokens: lengths[b])
        }
        var active = plan.budgets.map { $0 > 0 }
        var remaining = active.filter { $0 }.count
        guard remaining > 0 else {
            return GenerationResult(sequences: out, prefillSeconds: 0, decodeSeconds: 0, decodeSteps: 0)
        }

        // Chooses row b's token from its logits row, records it and decides whether the row ends.
        func choose(_ logits: Tensor, step: Int) {
            var chosen: [GenerationStep.Token] = []
            let base = UnsafePointer(logits.pointer)
            for b in 0..<B where active[b] {
                let s = Sampler.sample(UnsafeBufferPointer(start: base + b * V, count: V), config: config.sampling,
                                       rng: &streams[b])
                out[b].tokens.append(s.id)
                out[b].logProbs.append(s.logProb)
                var reason: FinishReason?
                if plan.stopTokens.contains(s.id) {
                    reason = .stopToken
                } else if out[b].tokens.count == config.maxNewTokens {
                    reason = .maxNewTokens
                } else if out[b].tokens.count == plan.budgets[b] {
                    reason = .contextLength
                }
                if let reason {
                    out[b].finishReason = reason
                    active[b] = false
                    remaining -= 1
                }
                if onStep != nil { chosen.append(.init(row: b, token: s, finishReason: reason)) }
            }
            onStep?(GenerationStep(step: step, tokens: chosen))
        }

        // Prompt pass: left-padded ids, a key mask only when lengths differ. Rows with the same
        // prompt (GRPO's group, best-of-N's candidates) run it once: the distinct prompts are
        // prefilled, then their keys, values and first logits are copied to every row of theirs.
        let padded = lengths.contains { $0 != P }
        var distinct: [[Int]] = [], source: [Int] = [], seen: [[Int]: Int] = [:]
        for p in plan.prompts {
            if let i = seen[p] { source.append(i) } else { seen[p] = distinct.count; source.append(distinct.count); distinct.append(p) }
        }
        let U = distinct.count
        var ids: [Int] = []
        ids.reserveCapacity(U * P)
        for p in distinct {
            ids += repeatElement(plan.pad, count: P - p.count)
            ids += p
        }
        // (rows, S) mask of real tokens for rows of the given prompt lengths
        func keyMask(columns S: Int, lengths: [Int]) -> Tensor? {
            guard padded else { return nil }
            let m = Storage(uninitializedCount: lengths.count * S)
            for (b, n) in lengths.enumerated() {
                let pads = P - n
                (m.pointer + b * S).initialize(repeating: 0, count: pads)
                (m.pointer + b * S + pads).initialize(repeating: 1, count: S - pads)
            }
            return Tensor(shape: [lengths.count, S], storage: m)
        }
        func keyMask(columns S: Int) -> Tensor? { keyMask(columns: S, lengths: lengths) }
        let prefillCache = model.makeCache(batch: U)
        // tokens fed at most: the padded prompts, then every chosen token but the last
        prefillCache.reserveCapacity(P + plan.budgets.max()! - 1)

        let start = DispatchTime.now().uptimeNanoseconds
        let mask = keyMask(columns: P, lengths: distinct.map(\.count))
        let hidden = model.hiddenStates(ids: ids, batch: U, length: P, positions: mask.map { positionIDs(fromKeyMask: $0) },
                                        keyMask: mask, cache: prefillCache)
        let firstLogits = model.logits(fromHidden: P == 1 ? hidden : hidden.slice(axis: 1, (P - 1)..<P))   // (U, 1, V)
        let cache: KVCache
        if U == B {
            cache = prefillCache
            choose(firstLogits, step: 0)
        } else {
            cache = prefillCache.gathering(rows: source)
            let rows = Storage(uninitializedCount: B * V)
            for b in 0..<B { (rows.pointer + b * V).update(from: firstLogits.pointer + source[b] * V, count: V) }
            choose(Tensor(shape: [B, 1, V], storage: rows), step: 0)
        }
        let prefillEnd = DispatchTime.now().uptimeNanoseconds

        // One token per step: each active row's last token at its next position; finished rows
        // get the pad token at a valid position (their results are discarded).
        var step = 0
        // bfloat16 copies of the weights for the decode steps, made on the first step
        let decodeCopies = config.weightsDtype == .bfloat16 ? copies ?? BFloat16WeightCopies() : nil
        var feed = [Int](repeating: plan.pad, count: B)
        var positions = [Int](repeating: 0, count: B)
        while remaining > 0 {
            step += 1
            for b in 0..<B {
                let n = out[b].tokens.count
                feed[b] = active[b] ? out[b].tokens[n - 1] : plan.pad
                positions[b] = Swift.min(lengths[b] + Swift.max(n, 1) - 1, plan.contextLength - 1)
            }
            let mask = keyMask(columns: P + step)
            func decode() -> Tensor {
                model.logits(fromHidden: model.hiddenStates(ids: feed, batch: B, length: 1, positions: positions,
                                                            keyMask: mask, cache: cache))
            }
            choose(decodeCopies?.reading(decode) ?? decode(), step: step)
        }
        let end = DispatchTime.now().uptimeNanoseconds
        return GenerationResult(sequences: out, prefillSeconds: Double(prefillEnd - start) / 1e9,
                                decodeSeconds: Double(end - prefillEnd) / 1e9, decodeSteps: step)
    }
}

/// Continues `prompts` with `model`: `Generator(model: model).generate(prompts:config:onStep:)`.
public func generate<Model: CausalLM>(model: Model, prompts: [[Int]], config: GenerationConfig = GenerationConfig(),
                                      onStep: ((GenerationStep) -> Void)? = nil) throws -> GenerationResult {
    try Generator(model: model).generate(prompts: prompts, config: config, onStep: onStep)
}

extension CausalLM {
    /// Continues `prompts` with this model: `Generator(model: self).generate(prompts:config:onStep:)`.
    public func generate(prompts: [[Int]], config: GenerationConfig = GenerationConfig(),
                         onStep: ((GenerationStep) -> Void)? = nil) throws -> GenerationResult {
        try Generator(model: self).generate(prompts: prompts, config: config, onStep: onStep)
    }
}

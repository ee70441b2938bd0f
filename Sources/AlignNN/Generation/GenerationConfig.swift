import AlignTensor
import Foundation

/// How `generate` continues prompts, with Hugging Face `generate` semantics and snake_case
/// JSON keys:
///
/// ```json
/// {"max_new_tokens": 64, "sampling": {"temperature": 0.7, "top_k": 50, "top_p": 0.95},
///  "stop_token_ids": [2], "seed": 0, "pad_token_id": 0, "weights_dtype": "float32"}
/// ```
///
/// Every key is optional when decoding (absent keys take the defaults below); unknown keys are
/// ignored.
public struct GenerationConfig: Codable, Equatable, Sendable {
    /// Tokens to generate per sequence at most (HF `max_new_tokens`). A sequence also stops at
    /// a stop token, and when prompt + generated tokens reach the model's context length.
    public var maxNewTokens: Int
    /// Temperature / top-k / top-p; greedy by default, as HF's `do_sample = False`.
    public var sampling: SamplingConfig
    /// Token ids that end a sequence (the stop token is kept in the output, as HF keeps EOS).
    /// nil: the model config's `eos_token_id`s. An empty list never stops early.
    public var stopTokenIDs: [Int]?
    /// Seed of the sampling RNG (see `Generator` for how the stream is consumed).
    public var seed: UInt64
    /// Token used for left padding and fed to finished rows. nil: the model config's
    /// `pad_token_id`, else the first stop token (HF's fallback), else 0. It never reaches the
    /// output and is masked out of attention, so its value only has to be a valid id.
    public var padTokenID: Int?
    /// The weights decode steps read: float32, or bfloat16 copies made for this call (half the
    /// bytes per token; the prompt pass, including its first token's logits, and everything
    /// outside generation stay float32). See `BFloat16WeightCopies`.
    public var weightsDtype: WeightsDtype

    /// The precision of the weights a decode step reads.
    public enum WeightsDtype: String, Codable, CaseIterable, Sendable {
        case float32
        case bfloat16
    }

    enum CodingKeys: String, CodingKey {
        case maxNewTokens = "max_new_tokens"
        case sampling
        case stopTokenIDs = "stop_token_ids"
        case seed
        case padTokenID = "pad_token_id"
        case weightsDtype = "weights_dtype"
    }

    public init(maxNewTokens: Int = 64, sampling: SamplingConfig = .greedy, stopTokenIDs: [Int]? = nil,
                seed: UInt64 = 0, padTokenID: Int? = nil, weightsDtype: WeightsDtype = .float32) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopTokenIDs = stopTokenIDs
        self.seed = seed
        self.padTokenID = padTokenID
        self.weightsDtype = weightsDtype
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GenerationConfig()
        maxNewTokens = try c.decodeIfPresent(Int.self, forKey: .maxNewTokens) ?? d.maxNewTokens
        sampling = try c.decodeIfPresent(SamplingConfig.self, forKey: .sampling) ?? d.sampling
        stopTokenIDs = try c.decodeIfPresent([Int].self, forKey: .stopTokenIDs)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        padTokenID = try c.decodeIfPresent(Int.self, forKey: .padTokenID)
        weightsDtype = try c.decodeIfPresent(WeightsDtype.self, forKey: .weightsDtype) ?? d.weightsDtype
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxNewTokens, forKey: .maxNewTokens)
        try c.encode(sampling, forKey: .sampling)
        try c.encodeIfPresent(stopTokenIDs, forKey: .stopTokenIDs)
        try c.encode(seed, forKey: .seed)
        try c.encodeIfPresent(padTokenID, forKey: .padTokenID)
        try c.encode(weightsDtype, forKey: .weightsDtype)
    }

    /// A message naming the first invalid field (independent of the model), or nil.
    public var validationError: String? {
        if maxNewTokens < 0 { return "max_new_tokens must be ≥ 0, got \(maxNewTokens)" }
        if let e = sampling.validationError { return "sampling: \(e)" }
        if let bad = stopTokenIDs?.first(where: { $0 < 0 }) { return "stop_token_ids: \(bad) is negative" }
        if let pad = padTokenID, pad < 0 { return "pad_token_id must be ≥ 0, got \(pad)" }
        return nil
    }
}

/// Why a generated sequence ended.
public enum FinishReason: String, Codable, Equatable, Sendable {
    /// It produced a stop token (the last token of the output).
    case stopToken = "stop"
    /// It produced `max_new_tokens` tokens.
    case maxNewTokens = "length"
    /// Prompt + generated tokens reached the model's context length.
    case contextLength = "context_length"
}

/// One continued prompt.
public struct GeneratedSequence: Equatable, Sendable {
    /// The generated token ids (without the prompt; ending with the stop token if it stopped on one).
    public var tokens: [Int]
    /// Log-probability of each generated token under the temperature-scaled distribution
    /// (before top-k/top-p filtering; `SampledToken.logProb`).
    public var logProbs: [Float]
    public var finishReason: FinishReason
    /// Number of prompt tokens (without padding).
    public var promptTokens: Int

    public var stoppedOnStopToken: Bool { finishReason == .stopToken }

    public init(tokens: [Int], logProbs: [Float], finishReason: FinishReason, promptTokens: Int) {
        self.tokens = tokens
        self.logProbs = logProbs
        self.finishReason = finishReason
        self.promptTokens = promptTokens
    }
}

/// The sequences of one `generate` call (in prompt order) and its timing.
public struct GenerationResult: Sendable {
    public var sequences: [GeneratedSequence]
    /// Wall time of the prompt pass, including choosing each row's first token.
    public var prefillSeconds: Double
    /// Wall time of the one-token steps after the prompt pass.
    public var decodeSeconds: Double
    /// Forward passes after the prompt pass.
    public var decodeSteps: Int

    public init(sequences: [GeneratedSequence], prefillSeconds: Double, decodeSeconds: Double, decodeSteps: Int) {
        self.sequences = sequences
        self.prefillSeconds = prefillSeconds
        self.decodeSeconds = decodeSeconds
        self.decodeSteps = decodeSteps
    }

    /// Tokens generated over all sequences.
    public var generatedTokens: Int { sequences.reduce(0) { $0 + $1.tokens.count } }
    /// Prompt tokens over all sequences (without padding).
    public var promptTokens: Int { sequences.reduce(0) { $0 + $1.promptTokens } }
    /// Tokens chosen by the decode steps (every row's first token comes from the prompt pass).
    public var decodeTokens: Int { sequences.reduce(0) { $0 + Swift.max($1.tokens.count - 1, 0) } }
    public var totalSeconds: Double { prefillSeconds + decodeSeconds }
    /// Decode throughput over the batch: decode tokens / decode seconds (0 without decode steps).
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(decodeTokens) / decodeSeconds : 0 }
    /// End-to-end throughput: generated tokens / total seconds.
    public var tokensPerSecond: Double { totalSeconds > 0 ? Double(generatedTokens) / totalSeconds : 0 }
}

/// The tokens chosen at one step, passed to `generate`'s `onStep` callback (for streaming).
public struct GenerationStep: Sendable {
    /// 0 for the tokens chosen from the prompt pass, then 1, 2, … per decode step.
    public let step: Int
    /// One entry per row that received a token this step, in row order.
    public let tokens: [Token]

    public struct Token: Equatable, Sendable {
        /// Index of the prompt this token continues.
        public let row: Int
        public let token: SampledToken
        /// Set when this token ended the row.
        public let finishReason: FinishReason?
    }
}

/// Why `generate` refused its input; the message names the prompt and the lengths involved.
public enum GenerationError: Error, Equatable, CustomStringConvertible, LocalizedError, Sendable {
    case noPrompts
    case emptyPrompt(index: Int)
    case promptTooLong(index: Int, length: Int, contextLength: Int)
    case tokenOutOfRange(index: Int, position: Int, token: Int, vocabSize: Int)
    case invalidConfig(String)

    public var description: String {
        switch self {
        case .noPrompts:
            return "generate: no prompts given"
        case .emptyPrompt(let i):
            return "generate: prompt \(i) is empty; a prompt needs at least one token (e.g. the BOS token)"
        case .promptTooLong(let i, let n, let ctx):
            return "generate: prompt \(i) has \(n) tokens, more than the model's context length of \(ctx) tokens"
        case .tokenOutOfRange(let i, let p, let t, let v):
            return "generate: prompt \(i) token \(p) is \(t), outside the vocabulary 0..<\(v)"
        case .invalidConfig(let m):
            return "generate: invalid generation config: \(m)"
        }
    }

    public var errorDescription: String? { description }
}

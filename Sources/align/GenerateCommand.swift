import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import ArgumentParser
import Foundation

/// `align generate`: continue prompts (or answer chat messages) with a model, batched, with a KV
/// cache. One prompt streams to standard output as it is generated.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a model directory or .gguf file (greedy, or sampled with temperature/top-k/top-p).")

    @OptionGroup var model: ModelOptions
    @Option(name: .customLong("prompt"), help: "A prompt (repeat to generate for several prompts in one batch).")
    var prompts: [String]
    @Flag(help: "Treat each prompt as a user message and apply the model's chat template (with the assistant turn opened).")
    var chat = false
    @Option(help: "System message for --chat (default: the template's own, if any).") var system: String?
    @Option(parsing: .unconditional, help: "Maximum tokens to generate per prompt.") var maxNewTokens = 128
    @Option(parsing: .unconditional, help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(parsing: .unconditional, help: "Keep only the k most likely tokens (0: all).") var topK = 0
    @Option(parsing: .unconditional, help: "Nucleus sampling: keep the most likely tokens up to this probability mass (1: all).") var topP: Float = 1
    @Option(parsing: .unconditional, help: "Random seed for sampling.") var seed: UInt64 = 0
    @Flag(help: "Print one JSON object per prompt (text, tokens, log-probs, finish reason) and timing.") var json = false
    @Flag(help: "Do not stop at end-of-sequence tokens: always generate --max-new-tokens (benchmarks).") var ignoreEos = false
    @Option(help: "Weights the decode steps read: float32, or bfloat16 copies (half the bytes per token; the prompt pass stays float32).")
    var weightsDtype: GenerationConfig.WeightsDtype = .float32
    @Option(help: "The reference model for --kl-guard (the model before alignment).") var reference: String?
    @Option(parsing: .unconditional, help: "KL-guarded generation (seed 000): a response whose mean token KL to --reference exceeds this is generated again at temperature 0.5, and the command says so.")
    var klGuard: Double?

    func validate() throws {
        guard !prompts.isEmpty else { throw ValidationError("give at least one --prompt") }
        guard maxNewTokens >= 1 else { throw ValidationError("--max-new-tokens \(maxNewTokens): must be ≥ 1") }
        if system != nil && !chat { throw ValidationError("--system applies to --chat prompts only; add --chat (or drop --system)") }
        if (reference == nil) != (klGuard == nil) { throw ValidationError("--kl-guard and --reference go together: give both or neither") }
        if let k = klGuard, !(k >= 0) { throw ValidationError("--kl-guard \(k): must be ≥ 0 (a mean token KL in nats)") }
        if let r = reference, !FileManager.default.fileExists(atPath: r) { throw ValidationError("--reference \(r): no such file or directory") }
        if let e = SamplingConfig(temperature: temperature, topK: topK, topP: topP).validationError {
            throw ValidationError(e.replacingOccurrences(of: "top_k", with: "--top-k").replacingOccurrences(of: "top_p", with: "--top-p")
                .replacingOccurrences(of: "temperature", with: "--temperature"))
        }
    }

    func run() throws {
        let (loaded, tokenizer) = try model.load()
        let ids = try promptIDs(prompts, tokenizer: tokenizer, chat: chat, system: system)
        var stops = stopTokenIDs(loaded.model, tokenizer)
        if ignoreEos { stops = [] }
        let config = GenerationConfig(maxNewTokens: maxNewTokens, sampling: SamplingConfig(temperature: temperature, topK: topK, topP: topP),
                                      stopTokenIDs: stops, seed: seed, padTokenID: tokenizer.padTokenID, weightsDtype: weightsDtype)
        if let klGuard, let reference { return try runGuarded(loaded.model, tokenizer, ids: ids, config: config, threshold: klGuard, referencePath: reference) }
        let streaming = prompts.count == 1 && !json
        var streamed: [Int] = []
        var printed = ""
        // many prompts: progress on standard error as rows finish (the answers print at the end)
        let progress = prompts.count > 1 ? EvalProgress("generate", total: prompts.count) : nil
        var finished = 0
        let result = try generate(model: loaded.model, prompts: ids, config: config) { step in
            if let progress {
                let ended = step.tokens.filter { $0.finishReason != nil }.count
                if ended > 0 {
                    finished += ended
                    progress.update(finished, detail: "step \(step.step)")
                }
            }
            guard streaming, let token = step.tokens.first else { return }
            streamed.append(token.token.id)
            let text = tokenizer.decode(streamed, skipSpecialTokens: true)
            // print only complete characters: a multi-byte character may span tokens
            if !text.hasSuffix("\u{FFFD}"), text.count >= printed.count, text.hasPrefix(printed) {
                StandardOutput.write(String(text.dropFirst(printed.count)))
                printed = text
            }
        }
        if streaming {
            let text = tokenizer.decode(result.sequences[0].tokens, skipSpecialTokens: true)
            if text.hasPrefix(printed) { StandardOutput.write(String(text.dropFirst(printed.count))) }
            print("")
            return
        }
        for (i, s) in result.sequences.enumerated() {
            let text = tokenizer.decode(s.tokens, skipSpecialTokens: true)
            if json {
                let obj: [String: Any] = ["prompt": prompts[i], "text": text, "tokens": s.tokens, "logprobs": s.logProbs.map(Double.init),
                                          "finish_reason": s.finishReason.rawValue, "prompt_tokens": s.promptTokens]
                print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
            } else {
                print("[\(i)] \(text)")
            }
        }
        if json {
            let timing: [String: Any] = ["prefill_seconds": result.prefillSeconds, "decode_seconds": result.decodeSeconds,
                                         "generated_tokens": result.generatedTokens, "decode_tokens_per_second": result.decodeTokensPerSecond,
                                         "tokens_per_second": result.tokensPerSecond, "batch": prompts.count]
            print(String(decoding: try JSONSerialization.data(withJSONObject: ["timing": timing], options: [.sortedKeys]), as: UTF8.self))
        }
    }

    /// Generation with the KL guard: every response is checked against the reference (no
    /// streaming: a response may be replaced), and each regeneration is reported on standard error.
    func runGuarded(_ policy: any CausalLM, _ tokenizer: Tokenizer, ids: [[Int]], config: GenerationConfig, threshold: Double,
                    referencePath: String) throws {
        let reference = try ReferenceModel.load(referencePath, for: policy, tokenizer: tokenizer, name: "--reference")
        let guardrail = KLGuard(threshold: threshold)
        let outcomes = try guardrail.generate(policy: policy, reference: reference, prompts: ids, config: config)
        for (i, o) in outcomes.enumerated() {
            let text = tokenizer.decode(o.sequence.tokens, skipSpecialTokens: true)
            if let before = o.rejectedKL {
                printError(String(format: "kl-guard: response %d had a mean token KL of %.4f to the reference (> %g); generated again at temperature %g: KL %.4f",
                                  i, before, threshold, Double(guardrail.retryTemperature), o.kl))
            }
            if json {
                var obj: [String: Any] = ["prompt": prompts[i], "text": text, "tokens": o.sequence.tokens, "finish_reason": o.sequence.finishReason.rawValue,
                                          "kl": o.kl, "regenerated": o.regenerated]
                if let before = o.rejectedKL { obj["rejected_kl"] = before }
                print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
            } else {
                print("[\(i)] \(text)")
            }
        }
    }
}

extension GenerationConfig.WeightsDtype: ExpressibleByArgument {}

import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import Foundation

/// The online trainers' test set-up: a tiny LLaMA (hidden 32, 2 layers) with a byte-level BPE
/// tokenizer trained on "name a <word> thing" lines, saved as `dir/base`, and prompt files
/// `prompts.jsonl` (the first `train` prompts) and `eval.jsonl` (the rest), each line
/// `{"prompt": "name a <word> thing", "answer": <word>, "id": i}`.
public enum TinyPolicy {
    public static func make(in dir: URL, prompts count: Int, train: Int) throws {
        let words = ["red", "blue", "green", "cat", "dog", "sun"]
        var rng = RandomGenerator(seed: 5)
        var lines: [String] = [], prompts: [String] = []
        for i in 0..<count {
            let w = words[rng.int(below: words.count)]
            lines += ["name a \(w) thing", "a \(w) thing", "blue"]
            let row: [String: Any] = ["prompt": "name a \(w) thing", "answer": w, "id": i]
            prompts.append(String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self))
        }
        var tok = try Tokenizer.train(on: lines, options: BPETrainingOptions(vocabSize: 280, specialTokens: ["<|im_end|>"]))
        tok.eosToken = "<|im_end|>"
        var r = RandomGenerator(seed: 1)
        let config = try LlamaConfig.decode(json: Data(#"{"vocab_size": \#(tok.vocabSize), "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64, "eos_token_id": 0}"#.utf8))
        try ModelStore.save(LoadedModel(family: .llama, model: LlamaModel(config, rng: &r), source: dir), tokenizer: tok,
                            to: dir.appendingPathComponent("base"))
        try (prompts.prefix(train).joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
        try (prompts.dropFirst(train).joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("eval.jsonl"), atomically: true, encoding: .utf8)
    }

    /// `pairs.jsonl`: `count` preference pairs on the same prompts, the chosen answer naming the
    /// prompt's word ("a <word> thing"), the rejected one another ("a <other> thing").
    public static func writePairs(in dir: URL, count: Int) throws {
        let words = ["red", "blue", "green", "cat", "dog", "sun"]
        var rng = RandomGenerator(seed: 9)
        var lines: [String] = []
        for _ in 0..<count {
            let w = rng.int(below: words.count), o = (w + 1 + rng.int(below: words.count - 1)) % words.count
            let row = ["prompt": "name a \(words[w]) thing", "chosen": "a \(words[w]) thing", "rejected": "a \(words[o]) thing"]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self))
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("pairs.jsonl"), atomically: true, encoding: .utf8)
    }
}

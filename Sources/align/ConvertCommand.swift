import AlignData
import AlignTraining
import ArgumentParser
import Foundation

/// `align convert --from model.gguf --to DIR`: a Hugging Face model directory that transformers
/// loads with `AutoModelForCausalLM.from_pretrained(DIR)` and `AutoTokenizer.from_pretrained(DIR)`.
/// `align convert --from DIR --to model.gguf [--type f16]`: one GGUF file for llama.cpp.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert between GGUF files and Hugging Face model directories.",
        discussion: """
        --to DIR writes a Hugging Face directory (Float32 safetensors, config.json, tokenizer files).
        --to FILE.gguf writes one GGUF file (weights as --type, norms and biases as F32, the tokenizer in its metadata) for llama.cpp.
        """)

    @Option(help: "The model to read: a .gguf file or a Hugging Face model directory.") var from: String
    @Option(help: "What to write: a directory, or a file whose name ends in .gguf (replaced atomically).") var to: String
    @Option(help: "Weight type of a GGUF output: f32, f16 or q8_0.") var type: String = "f16"

    func validate() throws {
        guard FileManager.default.fileExists(atPath: from) else { throw ValidationError("--from \(from): no such file or directory") }
        try OutputPaths.check(inputs: [("--from", from)],
                              outputs: [writesGGUF ? OutputPaths.Output.file("--to", to) : OutputPaths.Output.directory("--to", to, writes: OutputPaths.modelDirectoryFiles)])
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: to, isDirectory: &isDirectory), isDirectory.boolValue == writesGGUF {
            throw ValidationError(writesGGUF ? "--to \(to): is a directory; a GGUF output is a file"
                : "--to \(to): is an existing file; a Hugging Face model is written as a directory (a GGUF file needs a name ending in .gguf)")
        }
        guard GGUFExport.WeightType(rawValue: type.lowercased()) != nil else {
            throw ValidationError("--type \(type): expected one of \(GGUFExport.WeightType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    var writesGGUF: Bool { to.lowercased().hasSuffix(".gguf") }

    func run() throws {
        let loaded = try ModelStore.load(from)
        let tokenizer = try ModelStore.loadTokenizer(from)
        if writesGGUF {
            if let score = loaded.scoreWeight {
                throw ValidationError("\(from) is a reward model (\(ModelStore.scoreKey) \(score.shape)); a GGUF file holds a causal LM only and would drop its score head, so `align rm score` could not read it: convert it to a directory instead")
            }
            let weightType = GGUFExport.WeightType(rawValue: type.lowercased())!
            let name = URL(fileURLWithPath: from).deletingPathExtension().lastPathComponent
            try GGUFExport.write(loaded, tokenizer: tokenizer, type: weightType, name: name, to: URL(fileURLWithPath: to))
            let bytes = (try? FileManager.default.attributesOfItem(atPath: to)[.size] as? Int) ?? 0
            print(String(format: "wrote %@: %@, %d parameters, vocabulary %d, %@ weights, %.1f MiB", to, loaded.family.rawValue,
                         loaded.model.parameterCount, tokenizer.vocabSize, weightType.rawValue.uppercased(), Double(bytes) / 1_048_576))
            return
        }
        let dir = URL(fileURLWithPath: to)
        try ModelStore.save(loaded, tokenizer: tokenizer, to: dir, keepScoreHead: true)
        print("wrote \(dir.path): \(loaded.family.rawValue), \(loaded.model.parameterCount) parameters, vocabulary \(tokenizer.vocabSize)")
    }
}

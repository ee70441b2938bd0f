import AlignData
import AlignTraining
import ArgumentParser
import Foundation

/// `align convert --from model.gguf --to DIR`: a Hugging Face model directory that transformers
/// loads with `AutoModelForCausalLM.from_pretrained(DIR)` and `AutoTokenizer.from_pretrained(DIR)`.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a GGUF file (or a model directory) into a Hugging Face model directory (Float32 safetensors).")

    @Option(help: "The model to read: a .gguf file or a Hugging Face model directory.") var from: String
    @Option(help: "The directory to write (created; existing files of the same names are replaced atomically).") var to: String

    func validate() throws {
        guard FileManager.default.fileExists(atPath: from) else { throw ValidationError("--from \(from): no such file or directory") }
        guard URL(fileURLWithPath: to).standardizedFileURL != URL(fileURLWithPath: from).standardizedFileURL else {
            throw ValidationError("--to must differ from --from")
        }
    }

    func run() throws {
        let loaded = try ModelStore.load(from)
        let tokenizer = try ModelStore.loadTokenizer(from)
        let dir = URL(fileURLWithPath: to)
        try ModelStore.save(loaded, tokenizer: tokenizer, to: dir)
        print("wrote \(dir.path): \(loaded.family.rawValue), \(loaded.model.parameterCount) parameters, vocabulary \(tokenizer.vocabSize)")
    }
}

import AlignData
import AlignTraining
import ArgumentParser
import Foundation

/// `--model PATH`, shared by the commands that run a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A Hugging Face model directory (config.json, model.safetensors, tokenizer.json) or a .gguf file.")
    var model: String

    func validate() throws {
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError("--model \(model): no such file or directory")
        }
    }

    func load() throws -> (LoadedModel, Tokenizer) {
        let loaded = try ModelStore.load(model)
        let tokenizer = try ModelStore.loadTokenizer(model)
        return (loaded, tokenizer)
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

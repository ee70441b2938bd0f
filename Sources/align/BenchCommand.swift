import AlignNN
import AlignTensor
import ArgumentParser
import Foundation

/// `align bench`: throughput of the library against the BLAS it runs on, measured in one
/// process. sgemm at GPT-2-small shapes gives the reference; the transformer block and the
/// softmax-cross-entropy are reported as ratios to it.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure sgemm, transformer-block and cross-entropy throughput (ratios to sgemm).")

    @Option(parsing: .unconditional, help: "Batch size B.") var batch = 4
    @Option(parsing: .unconditional, help: "Sequence length T.") var seq = 256
    @Option(parsing: .unconditional, help: "Model width C.") var width = 768
    @Option(parsing: .unconditional, help: "Attention heads.") var heads = 12
    @Option(parsing: .unconditional, help: "Vocabulary size for the cross-entropy.") var vocab = 50257
    @Option(parsing: .unconditional, help: "Timed repetitions per measurement (the median is reported).") var repeats = 5
    @Flag(help: "Print one JSON object instead of the table.") var json = false
    @Option(help: "What to measure: kernels (sgemm, one block, cross-entropy) or train-step (a full GPT-2 124M training step: forward, loss, backward, clipping, AdamW).")
    var job: Job = .kernels

    enum Job: String, ExpressibleByArgument, CaseIterable {
        case kernels
        case trainStep = "train-step"
    }

    func validate() throws {
        guard batch > 0, seq > 0, width > 0, heads > 0, vocab > 1, repeats > 0 else {
            throw ValidationError("--batch, --seq, --width, --heads, --repeats must be positive and --vocab > 1")
        }
        guard width % heads == 0 else { throw ValidationError("--width \(width) is not divisible by --heads \(heads)") }
    }

    func run() throws {
        let bench = Benchmarks(batch: batch, seq: seq, width: width, heads: heads, vocab: vocab, repeats: repeats)
        let report = job == .kernels ? bench.run() : bench.trainStep()
        if json {
            let data = try JSONSerialization.data(withJSONObject: report.json, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.text)
        }
    }
}

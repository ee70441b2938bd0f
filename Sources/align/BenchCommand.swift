import AlignNN
import AlignTensor
import AlignTraining
import ArgumentParser
import Foundation

/// `align bench`: throughput of the library against the BLAS it runs on, measured in one
/// process. sgemm at GPT-2-small shapes gives the reference; the transformer block and the
/// softmax-cross-entropy are reported as ratios to it. `--job allreduce`, started under
/// `mpirun -np N`, measures the all-reduce between the ranks instead (`AllReduceBenchmark`).
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
    @Option(help: "The largest all-reduce of --job allreduce, in bytes.") var maxBytes = 1 << 28
    @Option(help: "What to measure: machine (the CPU, its vector kernels and the paths chosen: what every other figure depends on), kernels (sgemm, one block, cross-entropy), train-step (a full GPT-2 124M training step: forward, loss, backward, clipping, AdamW) or allreduce (all-reduce latency and bandwidth between the ranks of an mpirun launch).")
    var job: Job = .kernels

    enum Job: String, ExpressibleByArgument, CaseIterable {
        case machine
        case kernels
        case trainStep = "train-step"
        case allreduce
    }

    func validate() throws {
        guard batch > 0, seq > 0, width > 0, heads > 0, vocab > 1, repeats > 0 else {
            throw ValidationError("--batch, --seq, --width, --heads, --repeats must be positive and --vocab > 1")
        }
        guard maxBytes >= 4096 else { throw ValidationError("--max-bytes must be at least 4096") }
        guard width % heads == 0 else { throw ValidationError("--width \(width) is not divisible by --heads \(heads)") }
    }

    func run() throws {
        let bench = Benchmarks(batch: batch, seq: seq, width: width, heads: heads, vocab: vocab, repeats: repeats)
        let report: Benchmarks.Report
        switch job {
        case .machine:
            let summary = MachineInfo.summary
            report = .init(text: summary.map { "\($0.0): \($0.1)" }.joined(separator: "\n"),
                           json: Dictionary(uniqueKeysWithValues: summary))
        case .kernels: report = bench.run()
        case .trainStep: report = bench.trainStep()
        case .allreduce:
            let comm = ProcessGroup.current
            guard comm.size > 1 else {
                throw ValidationError("--job allreduce measures between the ranks of a launch: start it with mpirun -np 2 (or more)")
            }
            report = AllReduceBenchmark(repeats: repeats, maxBytes: maxBytes).run(comm)
            guard comm.isWriter else { return }   // rank 0 reports
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: report.json, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(report.text)
        }
    }
}

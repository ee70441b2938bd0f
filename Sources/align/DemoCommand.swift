import AlignNN
import AlignTensor
import ArgumentParser
import Foundation

/// `align demo`: trains a small GPT-2 from scratch on generated addition problems ("17+25=42")
/// and reports the loss falling and held-out accuracy before and after. Everything it needs is
/// generated from the seed; it finishes in under a minute on two cores.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train a small GPT-2 from scratch on generated addition problems and show the loss fall.")

    @Option(parsing: .unconditional, help: "Optimizer steps.") var steps = 600
    @Option(parsing: .unconditional, help: "Sequences per step.") var batch = 64
    @Option(parsing: .unconditional, help: "Peak learning rate (AdamW, warmup then cosine decay).") var learningRate: Float = 3e-3
    @Option(parsing: .unconditional, help: "Random seed (data split, initialisation, batches).") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Print the loss every N steps.") var logEvery = 50

    func validate() throws {
        guard steps > 0, batch > 0, learningRate > 0, logEvery > 0 else {
            throw ValidationError("--steps, --batch, --learning-rate and --log-every must be positive")
        }
    }

    func run() throws {
        let task = AdditionTask(maxOperand: 50, seed: seed)
        var rng = RandomGenerator(seed: seed &+ 1)
        let config = GPT2Config(vocabSize: AdditionTask.vocabulary.count, contextLength: AdditionTask.length,
                                width: 96, layers: 3, heads: 4)
        let model = GPT2Model(config, rng: &rng)
        let optimizer = AdamW(parameters: model.parameters, config: AdamWConfig(weightDecay: 0.05))
        print("align demo: GPT-2 \(config.layers) layers × \(config.width) wide (\(model.parameterCount) parameters), "
              + "\(task.train.count) training sums, \(task.heldOut.count) held out")
        let before = task.accuracy(model, on: task.heldOut)
        print(String(format: "held-out accuracy before training: %.1f%%", 100 * before))
        let start = Date()
        var firstLoss: Float?, lastLoss: Float = 0
        for step in 0..<steps {
            let (ids, targets) = task.batch(size: batch, rng: &rng)
            let logits = model(ids, batch: batch, length: AdditionTask.length)
            let loss = logits.crossEntropy(targets: targets)
            let grads = loss.backward()
            let norm = grads.globalNorm()
            let lr = LRSchedule.cosine.learningRate(base: learningRate, step: step, totalSteps: steps, warmupSteps: steps / 20)
            optimizer.step(grads, lr: lr, gradientScale: gradientClipScale(norm: norm, maxNorm: 1))
            firstLoss = firstLoss ?? loss.item
            lastLoss = loss.item
            if step % logEvery == 0 || step == steps - 1 {
                print(String(format: "step %4d  loss %.4f  grad_norm %.3f  lr %.2e", step, loss.item, norm, lr))
            }
        }
        let after = task.accuracy(model, on: task.heldOut)
        print(String(format: "loss %.4f → %.4f in %.1f s", firstLoss ?? 0, lastLoss, Date().timeIntervalSince(start)))
        print(String(format: "held-out accuracy after training: %.1f%% (before: %.1f%%)", 100 * after, 100 * before))
        for (a, b) in task.heldOut.prefix(5) {
            print("  \(a)+\(b)= \(task.answer(model, a, b))   (true \(a + b))")
        }
    }
}

/// Addition problems as fixed-length character sequences: "a+b=c" then end marks, loss on the
/// answer characters only (the prompt is given).
struct AdditionTask {
    static let vocabulary = Array("0123456789+=.")
    static let length = 10  // "49+49=98.." fits; shorter sums are padded with '.'
    let train: [(Int, Int)]
    let heldOut: [(Int, Int)]

    init(maxOperand: Int, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        let all = (0..<maxOperand).flatMap { a in (0..<maxOperand).map { (a, $0) } }
        let order = rng.permutation(all.count)
        let cut = all.count / 10
        heldOut = order[..<cut].map { all[$0] }
        train = order[cut...].map { all[$0] }
    }

    static func encode(_ s: String) -> [Int] { s.map { vocabulary.firstIndex(of: $0)! } }

    /// "a+b=" and the full padded sequence.
    func text(_ a: Int, _ b: Int) -> (prompt: String, full: String) {
        let prompt = "\(a)+\(b)="
        var full = prompt + "\(a + b)."
        while full.count < Self.length { full += "." }
        return (prompt, full)
    }

    /// Inputs (B·T) and next-token targets (B·T) with the prompt positions ignored (-100).
    func batch(size: Int, rng: inout RandomGenerator) -> ([Int], [Int]) {
        var ids: [Int] = [], targets: [Int] = []
        for _ in 0..<size {
            let (a, b) = train[rng.int(below: train.count)]
            let (prompt, full) = text(a, b)
            let enc = Self.encode(full)
            ids += enc
            for t in 0..<Self.length {
                // position t predicts token t+1; only answer tokens (after '=') are learned
                targets.append(t + 1 < Self.length && t + 1 >= prompt.count ? enc[t + 1] : -100)
            }
        }
        return (ids, targets)
    }

    /// Greedy answer of the model to "a+b=".
    func answer(_ model: GPT2Model, _ a: Int, _ b: Int) -> String {
        var seq = Self.encode(text(a, b).prompt)
        var out = ""
        withNoGrad {
            while seq.count < Self.length {
                let logits = model(seq, batch: 1, length: seq.count).scalars
                let v = Self.vocabulary.count
                let last = logits[(seq.count - 1) * v..<seq.count * v]
                let next = last.indices.max { last[$0] < last[$1] }! - (seq.count - 1) * v
                if Self.vocabulary[next] == "." { break }
                out.append(Self.vocabulary[next])
                seq.append(next)
            }
        }
        return out
    }

    func accuracy(_ model: GPT2Model, on pairs: [(Int, Int)]) -> Double {
        let right = pairs.filter { answer(model, $0.0, $0.1) == String($0.0 + $0.1) }.count
        return Double(right) / Double(max(pairs.count, 1))
    }
}

import AlignNN
import AlignTensor
import Foundation
import XCTest
@testable import AlignTraining

/// A next-token objective on generated sequences with a variable number of loss tokens per
/// row, so token-weighted accumulation is actually exercised.
final class CountingObjective: TrainingObjective {
    struct Batch { let ids: [Int]; let targets: [Int]; let rows: Int; var position = 0 }
    let model: GPT2Model
    let length = 12
    var rng: RandomGenerator
    let rowsPerBatch: Int
    /// Make the loss NaN at this step (1-based), to test the stop.
    var poisonAtBatch: Int?
    var batchesServed = 0
    /// Make the loss NaN for exactly the batch at this position of the data stream (1-based;
    /// the position is part of the saved state, so a rollback replays the same batch).
    var poisonStreamPosition: Int?
    var streamPosition = 0
    var poisonedBatchesSeen = 0
    /// Called with the number of batches served so far, after each `nextBatch`.
    var onBatch: ((Int) -> Void)?

    init(model: GPT2Model, rowsPerBatch: Int, seed: UInt64) {
        self.model = model
        self.rowsPerBatch = rowsPerBatch
        rng = RandomGenerator(seed: seed)
    }

    func nextBatch(progress: Double) throws -> Batch {
        batchesServed += 1
        streamPosition += 1
        var ids: [Int] = [], targets: [Int] = []
        for _ in 0..<rowsPerBatch {
            let start = rng.int(below: 9), learned = 2 + rng.int(below: length - 3)
            let seq = (0..<length).map { (start + $0) % 9 }
            ids += seq
            for t in 0..<length { targets.append(t + 1 < length && t + 1 >= length - learned ? seq[t + 1] : -100) }
        }
        onBatch?(batchesServed)
        return Batch(ids: ids, targets: targets, rows: rowsPerBatch, position: streamPosition)
    }

    func weight(of b: Batch) -> Double { Double(b.targets.filter { $0 != -100 }.count) }
    func tokens(in b: Batch) -> Int { b.ids.count }

    func loss(_ b: Batch, context: StepContext) -> (loss: Tensor, metrics: [String: Double]) {
        var loss = model(b.ids, batch: b.rows, length: length).crossEntropy(targets: b.targets)
        if let p = poisonAtBatch, batchesServed >= p { loss = loss * Float.nan }
        if let p = poisonStreamPosition, b.position == p {
            poisonedBatchesSeen += 1
            loss = loss * Float.nan
        }
        return (loss, ["loss_tokens": weight(of: b)])
    }

    func evaluate() throws -> [String: Double] {
        var r = RandomGenerator(seed: 777)
        let saved = rng
        rng = r
        let b = try nextBatch(progress: 1)
        r = rng
        rng = saved
        batchesServed -= 1
        let l = model(b.ids, batch: b.rows, length: length).crossEntropy(targets: b.targets).item
        return ["eval/loss": Double(l), "eval/perplexity": exp(Double(l))]
    }

    struct SavedState: Codable { var rng: RandomGenerator; var position: Int }
    func saveState() throws -> Data { try JSONEncoder().encode(SavedState(rng: rng, position: streamPosition)) }
    func restoreState(_ data: Data) throws {
        let state = try JSONDecoder().decode(SavedState.self, from: data)
        rng = state.rng
        streamPosition = state.position
    }
}

final class TrainingLoopTests: XCTestCase {
    func temporaryDirectory() throws -> URL { try ConfigFixtures.temporaryDirectory(self) }

    func makeLoop(dir: URL, rows: Int, accum: Int, steps: Int, saveEvery: Int? = nil, seed: UInt64 = 5)
        -> (TrainingLoop<CountingObjective>, GPT2Model) {
        var rng = RandomGenerator(seed: 1)
        let model = GPT2Model(GPT2Config(vocabSize: 9, contextLength: 12, width: 16, layers: 1, heads: 2), rng: &rng)
        let objective = CountingObjective(model: model, rowsPerBatch: rows, seed: seed)
        let params = model.namedParameters()
        let opt = AdamW(parameters: params.map(\.1), config: AdamWConfig(weightDecay: 0.01))
        var s = LoopSettings(totalSteps: steps, learningRate: 1e-2)
        s.gradAccum = accum
        s.warmupSteps = 2
        s.logEvery = 1
        s.saveEvery = saveEvery
        s.keepCheckpoints = 2
        return (TrainingLoop(objective: objective, parameters: params, optimizer: opt, settings: s, outputDir: dir), model)
    }

    func losses(_ url: URL) throws -> [Double] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").compactMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["loss"] as? Double
        }
    }

    func testResumeContinuesExactlyLikeTheUninterruptedRun() throws {
        let full = try temporaryDirectory()
        let (a, modelA) = makeLoop(dir: full, rows: 4, accum: 2, steps: 8)
        XCTAssertEqual(try a.run(metrics: MetricsLog(url: full.appendingPathComponent("metrics.jsonl"))), .completed)

        // the same run, interrupted after step 5 (a stop request right after the 5th step)
        let split = try temporaryDirectory()
        let (b, _) = makeLoop(dir: split, rows: 4, accum: 2, steps: 8, saveEvery: 100)
        let stop = StopSignal()
        b.stop = stop
        b.callback = { event in if case .step(let step, _, _) = event, step == 5 { stop.request(SIGINT) } }
        XCTAssertEqual(try b.run(metrics: MetricsLog(url: split.appendingPathComponent("metrics.jsonl"))), .interrupted(step: 5))
        XCTAssertEqual(Checkpoint.list(split).map(\.step), [5])

        // a fresh process: new model and optimizer, restored from the checkpoint
        let (c, modelC) = makeLoop(dir: split, rows: 4, accum: 2, steps: 8, seed: 999)
        try c.resume(from: Checkpoint.list(split).last!.url)
        XCTAssertEqual(c.step, 5)
        XCTAssertEqual(try c.run(metrics: MetricsLog(url: split.appendingPathComponent("metrics.jsonl"), truncateAfterStep: 5)), .completed)

        XCTAssertEqual(try losses(split.appendingPathComponent("metrics.jsonl")), try losses(full.appendingPathComponent("metrics.jsonl")))
        XCTAssertEqual(modelC.parameters.map(\.scalars), modelA.parameters.map(\.scalars))
    }

    func testAStopBetweenMicroBatchesCheckpointsTheStepStartAndResumesExactly() throws {
        let full = try temporaryDirectory()
        let (a, modelA) = makeLoop(dir: full, rows: 2, accum: 4, steps: 8)
        XCTAssertEqual(try a.run(metrics: MetricsLog(url: full.appendingPathComponent("metrics.jsonl"))), .completed)

        // a signal arrives while step 6 is being accumulated (after its 2nd of 4 micro-batches);
        // the first is acknowledged at once, a second one would abort
        let split = try temporaryDirectory()
        let (b, _) = makeLoop(dir: split, rows: 2, accum: 4, steps: 8, saveEvery: 100)
        final class Signals: @unchecked Sendable { var acknowledged: [Int32] = [], aborted: [Int32] = [] }
        let seen = Signals()
        let stop = StopSignal(acknowledge: { seen.acknowledged.append($0) }, abort: { seen.aborted.append($0) })
        b.stop = stop
        b.objective.onBatch = { served in if served == 5 * 4 + 2 { stop.request(SIGTERM) } }
        XCTAssertEqual(try b.run(metrics: MetricsLog(url: split.appendingPathComponent("metrics.jsonl"))), .interrupted(step: 5))
        XCTAssertEqual(seen.acknowledged, [SIGTERM])
        XCTAssertEqual(seen.aborted, [])
        stop.request(SIGINT)
        XCTAssertEqual(seen.aborted, [SIGINT], "a second signal aborts")
        XCTAssertEqual(Checkpoint.list(split).map(\.step), [5])

        let (c, modelC) = makeLoop(dir: split, rows: 2, accum: 4, steps: 8, seed: 999)
        try c.resume(from: Checkpoint.list(split).last!.url)
        XCTAssertEqual(c.step, 5)
        XCTAssertEqual(try c.run(metrics: MetricsLog(url: split.appendingPathComponent("metrics.jsonl"), truncateAfterStep: 5)), .completed)
        XCTAssertEqual(try losses(split.appendingPathComponent("metrics.jsonl")), try losses(full.appendingPathComponent("metrics.jsonl")))
        XCTAssertEqual(modelC.parameters.map(\.scalars), modelA.parameters.map(\.scalars))
    }

    func testAccumulatingFourBatchesOfTwoEqualsOneBatchOfEight() throws {
        let (big, modelBig) = makeLoop(dir: try temporaryDirectory(), rows: 8, accum: 1, steps: 3)
        let (small, modelSmall) = makeLoop(dir: try temporaryDirectory(), rows: 2, accum: 4, steps: 3)
        _ = try big.run(metrics: nil)
        _ = try small.run(metrics: nil)
        // same sequences in the same order (the objective's stream is per row), different grouping
        XCTAssertEqual(big.lastMetrics["loss"]!, small.lastMetrics["loss"]!, accuracy: 1e-5)
        for (p, q) in zip(modelBig.parameters, modelSmall.parameters) {
            let worst = zip(p.scalars, q.scalars).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 2e-5)
        }
    }

    func testNonFiniteLossStopsAndNamesTheLastGoodCheckpoint() throws {
        let dir = try temporaryDirectory()
        let (loop, _) = makeLoop(dir: dir, rows: 2, accum: 1, steps: 10, saveEvery: 2)
        loop.objective.poisonAtBatch = 6
        XCTAssertThrowsError(try loop.run(metrics: nil)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("non-finite loss") && message.contains("at step 6"), message)
            XCTAssertTrue(message.contains("step-4"), message)
        }
        XCTAssertEqual(Checkpoint.list(dir).map(\.step), [2, 4])
    }

    /// With recovery, a NaN at step 6 rolls back to the step-4 checkpoint, halves the learning
    /// rate and drops the poisoned batch when the run gets there again; the run completes, and a
    /// run resumed from a later checkpoint skips the same batch.
    func testRecoveryRollsBackLowersTheLearningRateAndSkipsTheBatch() throws {
        let dir = try temporaryDirectory()
        var (loop, _) = makeLoop(dir: dir, rows: 2, accum: 1, steps: 10, saveEvery: 2)
        var settings = loop.settings
        settings.recovery = Recovery(maxRecoveries: 2, learningRateFactor: 0.5)
        var messages: [String] = []
        loop = TrainingLoop(objective: loop.objective, parameters: loop.parameters, optimizer: loop.optimizer, settings: settings,
                            outputDir: dir, callback: { if case .message(let m) = $0 { messages.append(m) } })
        loop.objective.poisonStreamPosition = 6
        XCTAssertEqual(try loop.run(metrics: nil), .completed)
        XCTAssertEqual(loop.step, 10)
        XCTAssertEqual(loop.recovery.count, 1)
        XCTAssertEqual(loop.recovery.learningRateScale, 0.5)
        XCTAssertEqual(loop.recovery.skips, [6: 1])
        XCTAssertEqual(loop.objective.poisonedBatchesSeen, 1)   // never trained on again
        XCTAssertEqual(loop.objective.streamPosition, 11)       // one batch more than steps: the dropped one
        XCTAssertTrue(messages.contains { $0.hasPrefix("non-finite loss (nan) at step 6: rolled back to step 4, learning rate ×0.5") }, "\(messages)")
        for p in loop.parameters { XCTAssertTrue(p.1.scalars.allSatisfy(\.isFinite), p.0) }
        // the record is in the checkpoints: resuming from step 8 keeps the scale and the skip
        let ckpt = try Checkpoint.load(Checkpoint.list(dir).first { $0.step == 8 }!.url)
        XCTAssertEqual(ckpt.state.recovery, loop.recovery)
        // a batch that stays poisonous exhausts the rollbacks and stops the run as before
        let dir2 = try temporaryDirectory()
        var (stuck, _) = makeLoop(dir: dir2, rows: 2, accum: 1, steps: 10, saveEvery: 2)
        stuck = TrainingLoop(objective: stuck.objective, parameters: stuck.parameters, optimizer: stuck.optimizer, settings: settings, outputDir: dir2)
        stuck.objective.poisonAtBatch = 6
        XCTAssertThrowsError(try stuck.run(metrics: nil)) { XCTAssertTrue("\($0)".contains("non-finite loss"), "\($0)") }
        XCTAssertEqual(stuck.recovery.count, 2)
    }

    func testCheckpointsArePrunedAndCompleteAndEvaluationIsLogged() throws {
        let dir = try temporaryDirectory()
        var (loop, _) = makeLoop(dir: dir, rows: 2, accum: 1, steps: 7, saveEvery: 2)
        _ = loop
        var settings = loop.settings
        settings.evalEvery = 3
        let params = loop.parameters
        loop = TrainingLoop(objective: loop.objective, parameters: params, optimizer: loop.optimizer, settings: settings, outputDir: dir)
        let log = try MetricsLog(url: dir.appendingPathComponent("metrics.jsonl"))
        _ = try loop.run(metrics: log)
        XCTAssertEqual(Checkpoint.list(dir).map(\.step), [4, 6])
        for (_, url) in Checkpoint.list(dir) {
            let files = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
            XCTAssertEqual(files, ["optimizer.safetensors", "state.json", "trainable.safetensors"])
        }
        let hidden = try FileManager.default.contentsOfDirectory(atPath: Checkpoint.root(dir).path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(hidden, [])
        let lines = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("eval/loss") }.count, 2)  // steps 3 and 6
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        for key in ["step", "epoch", "loss", "learning_rate", "grad_norm", "tokens_per_second", "num_tokens"] {
            XCTAssertNotNil(first[key], key)
        }
    }
}

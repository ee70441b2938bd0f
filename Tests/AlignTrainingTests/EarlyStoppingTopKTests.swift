import AlignTraining
import Foundation
import XCTest

/// Seed 000's top-k checkpoints and its separate stop metric, by hand-made sequences of evaluations.
final class EarlyStoppingTopKTests: XCTestCase {
    typealias Entry = EarlyStopping.TopEntry

    /// Feeds (step, value) evaluations through `retain` and returns the steps kept after each one.
    func replay(_ values: [Double], keep: Int, minimize: Bool) -> (kept: [[Int]], admitted: [Bool], evicted: [[Int]]) {
        var top: [Entry] = [], kept: [[Int]] = [], admitted: [Bool] = [], evicted: [[Int]] = []
        for (step, v) in values.enumerated() {
            let r = EarlyStopping.retain(top, adding: Entry(step: step, value: v), keep: keep, minimize: minimize)
            top = r.top
            kept.append(top.map(\.step))
            admitted.append(r.admitted)
            evicted.append(r.evicted.map(\.step))
        }
        return (kept, admitted, evicted)
    }

    func testTheKBestStayBestFirstAndTheRestAreEvicted() {
        // a validation reward (higher is better), keep 3
        let r = replay([0.1, 0.5, 0.3, 0.2, 0.6, 0.5, .nan, 0.05], keep: 3, minimize: false)
        XCTAssertEqual(r.kept, [[0], [1, 0], [1, 2, 0], [1, 2, 3], [4, 1, 2], [4, 1, 5], [4, 1, 5], [4, 1, 5]])
        XCTAssertEqual(r.admitted, [true, true, true, true, true, true, false, false])
        XCTAssertEqual(r.evicted, [[], [], [], [0], [3], [2], [], []])
        // a tie with the worst of a full list does not displace it; a tie above the worst goes after its equal
        let ties = replay([1, 2, 1, 2], keep: 2, minimize: false)
        XCTAssertEqual(ties.kept, [[0], [1, 0], [1, 0], [1, 3]])
        // a loss (lower is better), keep 2
        let loss = replay([3, 2, 4, 1], keep: 2, minimize: true)
        XCTAssertEqual(loss.kept, [[0], [1, 0], [1, 0], [3, 1]])
        XCTAssertEqual(loss.evicted, [[], [], [], [0]])
    }

    func testAStopMetricMovesPatienceWhileTheMetricPicksTheBest() {
        let es = EarlyStopping(metric: "eval/objective/scores", minimize: false, patience: 2, minDelta: 0.01,
                               stopMetric: "eval/reward_window_score", stopMinimize: false)
        var s = EarlyStopping.State()
        // step 0: the validation reward sets the best; no window score yet, so patience does not move
        XCTAssertTrue(es.update(&s, value: 0.2, step: 0))
        XCTAssertEqual(s.evaluationsWithoutImprovement, 0)
        // the validation reward keeps improving, the window score does not: patience runs out anyway
        XCTAssertTrue(es.update(&s, value: 0.3, step: 10))
        es.updateStop(&s, value: 1.0)
        XCTAssertEqual(s.evaluationsWithoutImprovement, 0)
        XCTAssertTrue(es.update(&s, value: 0.4, step: 20))
        es.updateStop(&s, value: 1.005)   // within min_delta
        XCTAssertEqual(s.evaluationsWithoutImprovement, 1)
        XCTAssertFalse(es.shouldStop(s))
        XCTAssertFalse(es.update(&s, value: 0.35, step: 30))
        es.updateStop(&s, value: 0.9)
        XCTAssertTrue(es.shouldStop(s))
        XCTAssertEqual(s.bestStep, 20)
        XCTAssertEqual(s.stopBest, 1.0)
        // without a stop metric the best metric's own improvements move patience (as before)
        let plain = EarlyStopping(metric: "eval/loss", minimize: true, patience: 1)
        var p = EarlyStopping.State()
        XCTAssertTrue(plain.update(&p, value: 1, step: 0))
        XCTAssertFalse(plain.update(&p, value: 1, step: 1))
        XCTAssertTrue(plain.shouldStop(p))
    }

    func testAStateWrittenBeforeTopKStillDecodes() throws {
        let old = #"{"best": 0.5, "best_step": 3, "evaluations_without_improvement": 1}"#
        let s = try JSONDecoder().decode(EarlyStopping.State.self, from: Data(old.utf8))
        XCTAssertEqual(s.best, 0.5)
        XCTAssertEqual(s.bestStep, 3)
        XCTAssertEqual(s.top, [])
        XCTAssertNil(s.stopBest)
        var t = s
        t.top = [Entry(step: 3, value: 0.5)]
        XCTAssertEqual(try JSONDecoder().decode(EarlyStopping.State.self, from: JSONEncoder().encode(t)), t)
    }
}

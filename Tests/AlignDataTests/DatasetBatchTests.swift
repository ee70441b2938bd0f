import AlignData
import Foundation
import XCTest

/// Collation: right padding, shifted targets, masks; preference rows.
final class DatasetBatchTests: XCTestCase {
    let I = Batch.ignoreIndex

    func testSFTBatchPadsRightAndShiftsTargets() {
        let a = SFTExample(ids: [5, 6, 7, 8], lossMask: [false, false, true, true])
        let b = SFTExample(ids: [9, 10], lossMask: [false, true])
        let batch = Batch(examples: [a, b], padID: 0)
        XCTAssertEqual(batch.batch, 2)
        XCTAssertEqual(batch.length, 4)
        XCTAssertEqual(batch.ids, [5, 6, 7, 8, 9, 10, 0, 0])
        XCTAssertEqual(batch.keyMask, [1, 1, 1, 1, 1, 1, 0, 0])
        XCTAssertEqual(batch.positions, [0, 1, 2, 3, 0, 1, 2, 3])
        XCTAssertEqual(batch.targets, [I, 7, 8, I, 10, I, I, I])
        XCTAssertEqual(batch.lossTokens, 3)
        XCTAssertEqual(batch.rowLengths, [4, 2])
        XCTAssertEqual(batch.rowLossTokens, [2, 1])
        XCTAssertEqual(Array(batch.row(1, of: batch.targets)), [10, I, I, I])

        // a loss flag on position 0 cannot become a target
        let c = Batch(examples: [SFTExample(ids: [1, 2, 3], lossMask: [true, true, true])], padID: 99)
        XCTAssertEqual(c.targets, [2, 3, I])
        XCTAssertEqual(c.lossTokens, 2)
    }

    func testPreferenceBatchHasChosenRowsThenRejectedRows() {
        let pairs = [PreferenceExample(prompt: [1, 2], chosen: [3, 4], rejected: [5], margin: 0.5),
                     PreferenceExample(prompt: [6], chosen: [7], rejected: [8, 9, 10])]
        let pb = PreferenceBatch(examples: pairs, padID: 0, exampleIndices: [4, 2])
        XCTAssertEqual(pb.pairs, 2)
        XCTAssertEqual(pb.rows.batch, 4)
        XCTAssertEqual(pb.rows.length, 4)
        XCTAssertEqual(pb.rows.ids, [1, 2, 3, 4, 6, 7, 0, 0, 1, 2, 5, 0, 6, 8, 9, 10])
        XCTAssertEqual(pb.rows.targets, [I, 3, 4, I, 7, I, I, I, I, 5, I, I, 8, 9, 10, I])
        XCTAssertEqual(pb.rows.keyMask, [1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1])
        XCTAssertEqual(pb.rows.rowLossTokens, [2, 1, 1, 3], "|y| of each row")
        XCTAssertEqual(pb.rows.rowLengths, [4, 2, 3, 4])
        XCTAssertEqual(pb.margins, [0.5, 0])
        XCTAssertTrue(pb.hasMargins)
        XCTAssertEqual(pb.chosenRow(1), 1)
        XCTAssertEqual(pb.rejectedRow(1), 3)
        XCTAssertEqual(pb.exampleIndices, [4, 2])
        XCTAssertEqual(pb.rows.exampleIndices, [4, 2, 4, 2])
    }

    func testBatchesFromTokenisedData() throws {
        let tok = DatasetTestSupport.tokenizer
        let ds = try DatasetTestSupport.read("prompt_completion.jsonl").sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 64))
        var loader = DataLoader(examples: ds.examples, batchSize: 3, seed: 1, shuffle: false)
        let pad = Batch.padID(for: tok)
        XCTAssertEqual(pad, tok.eosTokenID, "no pad token: EOS pads")
        let batch = try XCTUnwrap(loader.nextBatch(padID: pad))
        XCTAssertNil(loader.nextBatch(padID: pad))
        XCTAssertEqual(batch.exampleIndices, [0, 1, 2])
        XCTAssertEqual(batch.lossTokens, ds.report.lossTokens)
        for (b, e) in ds.examples.enumerated() {
            let row = Array(batch.row(b, of: batch.ids))
            XCTAssertEqual(Array(row.prefix(e.ids.count)), e.ids)
            XCTAssertTrue(row.dropFirst(e.ids.count).allSatisfy { $0 == pad })
            // the learned targets are exactly the completion tokens (EOS included)
            let targets = batch.row(b, of: batch.targets).filter { $0 != Batch.ignoreIndex }
            XCTAssertEqual(targets, zip(e.ids, e.lossMask).filter(\.1).map(\.0))
        }

        let prefs = try DatasetTestSupport.read("preference.jsonl").preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 64))
        var pl = DataLoader(examples: prefs.examples, batchSize: 8, seed: 3)
        let pb = try XCTUnwrap(pl.nextBatch(padID: pad))
        for (i, k) in pb.exampleIndices.enumerated() {
            let chosenTargets = pb.rows.row(pb.chosenRow(i), of: pb.rows.targets).filter { $0 != Batch.ignoreIndex }
            let rejectedTargets = pb.rows.row(pb.rejectedRow(i), of: pb.rows.targets).filter { $0 != Batch.ignoreIndex }
            XCTAssertEqual(chosenTargets, prefs.examples[k].chosen)
            XCTAssertEqual(rejectedTargets, prefs.examples[k].rejected)
        }
    }
}

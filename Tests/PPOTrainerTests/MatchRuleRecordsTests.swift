import AlignData
import AlignTraining
import Foundation
import XCTest

/// A `match` rule compares responses with a field of the prompt records: a field no record has
/// is refused before the run (every sample would score 0), and records without it are counted.
final class MatchRuleRecordsTests: XCTestCase {
    func records(_ answers: [String?]) -> [PromptRecord] {
        answers.enumerated().map { i, a in
            PromptRecord(prompt: .text("q\(i)"), fields: a.map { ["answer": $0] } ?? ["id": "\(i)"], json: "{}", line: i + 1)
        }
    }

    func testAFieldNoRecordHasIsRefusedAndMissingOnesAreCounted() throws {
        let rule = RewardSettings.Rule(kind: .match, field: "answer", name: "correct")
        XCTAssertEqual(try RuleReward.checkRecords([rule], records(["4", "9"]), path: "p.jsonl"), [])
        let notes = try RuleReward.checkRecords([rule], records(["4", nil, "9", nil]), path: "p.jsonl")
        XCTAssertEqual(notes, ["p.jsonl: 2 of 4 prompt records have no field \"answer\" (first at line 2); the match rule correct scores their samples 0"])
        XCTAssertThrowsError(try RuleReward.checkRecords([rule], records([nil, nil]), path: "p.jsonl")) { error in
            XCTAssertTrue("\(error)".contains("p.jsonl: no prompt record has the field \"answer\" that the match rule correct compares responses with"), "\(error)")
            XCTAssertTrue("\(error)".contains("records hold: id"), "\(error)")
        }
        // other rules read no field
        XCTAssertEqual(try RuleReward.checkRecords([RewardSettings.Rule(kind: .contains, text: "x")], records([nil]), path: "p.jsonl"), [])
    }
}

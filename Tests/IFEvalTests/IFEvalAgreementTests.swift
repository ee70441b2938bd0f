import Foundation
import IFEval
import XCTest

/// Agreement with the reference checker: `Fixtures/ifeval_goldens.jsonl` holds responses
/// (hand-written edge cases, generated ones and real model answers) with the strict and loose
/// verdict of every instruction as `if-verifiable` 0.1.2 gives them in a pinned environment
/// (`bash scripts/gen_ifeval_goldens.sh` regenerates the file). Target: ≥ 99.5 % of the
/// (response, instruction) verdicts identical; the instructions whose reference needs
/// `langdetect` are counted apart (README, "IFEval": how they differ and how often).
final class IFEvalAgreementTests: XCTestCase {
    struct Golden: Decodable {
        var id: String
        var instruction_id_list: [String]
        var response: String
        var strict: [Bool]
        var loose: [Bool]
    }

    static let languageDependent: Set<IFEvalInstruction.ID> = [.languageResponseLanguage, .changeCaseEnglishCapital, .changeCaseEnglishLowercase]

    func testVerdictsAgreeWithTheReference() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "ifeval_goldens", withExtension: "jsonl", subdirectory: "Fixtures"))
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThanOrEqual(lines.count, 2000)
        var total = 0, same = 0, languageTotal = 0, languageSame = 0
        var perID: [String: (n: Int, ok: Int)] = [:]
        var failures: [String] = []
        for line in lines {
            let data = Data(line.utf8)
            let golden = try JSONDecoder().decode(Golden.self, from: data)
            let record: IFEvalRecord
            do { record = try IFEvalRecord(json: data) } catch {
                XCTFail("\(golden.id): the reference scored this record, the port refuses it: \(error)")
                continue
            }
            let verdicts = IFEvalScoring.verdicts(golden.response, record.instructions)
            XCTAssertEqual(verdicts.count, golden.strict.count, golden.id)
            for (k, v) in verdicts.enumerated() where k < golden.strict.count {
                for (mine, theirs, kind) in [(v.strict, golden.strict[k], "strict"), (v.loose, golden.loose[k], "loose")] {
                    let agree = mine == theirs
                    if Self.languageDependent.contains(v.id) {
                        languageTotal += 1
                        if agree { languageSame += 1 }
                    } else {
                        total += 1
                        if agree { same += 1 }
                    }
                    perID[v.id.rawValue, default: (0, 0)].n += 1
                    if agree { perID[v.id.rawValue, default: (0, 0)].ok += 1 }
                    if !agree && failures.count < 200 {
                        failures.append("\(golden.id) \(v.id.rawValue) \(kind): port \(mine), reference \(theirs): \(golden.response.prefix(160).debugDescription)")
                    }
                }
            }
        }
        let rate = Double(same) / Double(max(total, 1))
        let languageRate = Double(languageSame) / Double(max(languageTotal, 1))
        let table = perID.keys.sorted().map { String(format: "  %@ %d/%d", $0, perID[$0]!.ok, perID[$0]!.n) }.joined(separator: "\n")
        print(String(format: "IFEval agreement: %d/%d verdicts (%.2f%%) without language detection; %d/%d (%.1f%%) of those that need it\n%@",
                     same, total, 100 * rate, languageSame, languageTotal, 100 * languageRate, table))
        if !failures.isEmpty { print("disagreements:\n" + failures.joined(separator: "\n")) }
        XCTAssertGreaterThanOrEqual(rate, 0.995, "verdicts identical to the reference")
        XCTAssertGreaterThanOrEqual(languageRate, 0.9, "verdicts of the instructions that need language detection")
    }
}

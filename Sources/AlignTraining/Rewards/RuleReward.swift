import AlignData
import Foundation
import IFEval

/// The rules of the `reward` section: each scores 1 when it holds and 0 when not (before its
/// weight). Pure functions of a sample.
public enum RuleReward {
    /// `ifeval`: the sample's record already read (`ifevalRecord`), so the samples of one prompt
    /// share one parse of its instructions; read here when nil.
    public static func score(_ rule: RewardSettings.Rule, _ sample: RewardSample, ifeval parsed: IFEvalRecord? = nil) -> Double {
        let response = sample.response
        let options: String.CompareOptions = rule.caseSensitive ? [] : [.caseInsensitive]
        switch rule.kind {
        case .contains:
            return response.range(of: rule.text ?? "", options: options) != nil ? 1 : 0
        case .notContains:
            return response.range(of: rule.text ?? "", options: options) == nil ? 1 : 0
        case .regex:
            guard let re = try? NSRegularExpression(pattern: rule.pattern ?? "", options: rule.caseSensitive ? [] : [.caseInsensitive]) else { return 0 }
            return re.firstMatch(in: response, range: NSRange(response.startIndex..., in: response)) != nil ? 1 : 0
        case .length:
            let n = rule.unit == .words ? words(response) : sample.responseIDs.count
            if let lo = rule.min, n < lo { return 0 }
            if let hi = rule.max, n > hi { return 0 }
            return 1
        case .match:
            guard let field = rule.field, let expected = sample.record.fields[field] else { return 0 }
            let a = response.trimmingCharacters(in: .whitespacesAndNewlines), e = expected.trimmingCharacters(in: .whitespacesAndNewlines)
            switch rule.mode {
            case .exact: return a.compare(e, options: options) == .orderedSame ? 1 : 0
            case .contains: return a.range(of: e, options: options) != nil ? 1 : 0
            }
        case .ifeval:
            // the records were checked before the run (`checkRecords`); one that fails here scores 0
            guard let record = parsed ?? (try? ifevalRecord(sample.record)) else { return 0 }
            let verdicts = IFEvalScoring.verdicts(response, record.instructions)
            return IFEvalScoring.score(verdicts, loose: rule.loose, allOrNothing: rule.ifevalMode == .all)
        }
    }

    /// The IFEval instructions of a prompt record (`instruction_id_list` and `kwargs`, IFEval's
    /// and Tulu 3's RLVR format).
    public static func ifevalRecord(_ record: PromptRecord) throws -> IFEvalRecord {
        try IFEvalRecord(json: Data(record.json.utf8), requirePrompt: false)
    }

    /// Refuses, before a run writes anything, prompt records that a rule cannot score: for an
    /// `ifeval` rule, every record must carry valid IFEval instructions; a `match` rule's field
    /// must be in at least one record (else every sample would score 0). Errors name the file and
    /// line (up to 20, one per line). Returns notes for the user: how many records lack a `match`
    /// rule's field (their samples score 0).
    @discardableResult
    public static func checkRecords(_ rules: [RewardSettings.Rule], _ records: [PromptRecord], path: String) throws -> [String] {
        var notes: [String] = []
        for rule in rules where rule.kind == .match {
            guard let field = rule.field, !records.isEmpty else { continue }
            let missing = records.filter { $0.fields[field] == nil }
            if missing.count == records.count {
                throw AlignDataError(.invalidArgument, path: path,
                                     "no prompt record has the field \"\(field)\" that the match rule \(rule.name) compares responses with (every sample would score 0); records hold: \(Set(records.flatMap { $0.fields.keys }).sorted().joined(separator: ", "))")
            }
            if !missing.isEmpty {
                notes.append("\(path): \(missing.count) of \(records.count) prompt records have no field \"\(field)\" (first at line \(missing[0].line)); the match rule \(rule.name) scores their samples 0")
            }
        }
        guard rules.contains(where: { $0.kind == .ifeval }) else { return notes }
        var problems: [String] = []
        for r in records {
            do { _ = try ifevalRecord(r) } catch let e as IFEvalRecord.ReadError {
                problems.append("\(path):\(r.line): \(e.message) (an ifeval reward rule reads each prompt's instruction_id_list and kwargs)")
                if problems.count >= 20 { break }
            }
        }
        guard problems.isEmpty else { throw AlignDataError(.invalidArgument, path: "", problems.joined(separator: "\n")) }
        return notes
    }

    /// Whitespace-separated words.
    public static func words(_ text: String) -> Int {
        text.split(whereSeparator: { $0.isWhitespace }).count
    }
}

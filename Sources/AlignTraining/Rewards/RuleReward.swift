import AlignData
import Foundation

/// The rules of the `reward` section: each scores 1 when it holds and 0 when not (before its
/// weight). Pure functions of a sample.
public enum RuleReward {
    public static func score(_ rule: RewardSettings.Rule, _ sample: RewardSample) -> Double {
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
        }
    }

    /// Whitespace-separated words.
    public static func words(_ text: String) -> Int {
        text.split(whereSeparator: { $0.isWhitespace }).count
    }
}

import Foundation

/// The validated records of one dataset file (JSON Lines or a top-level JSON array).
///
/// Reading (`read(_:format:skipInvalid:)`):
/// - The layout is chosen by content: a file whose first non-blank byte is `[` is one JSON
///   array of records; anything else is JSON Lines (one object per line, blank lines ignored,
///   `\r\n` accepted). A leading UTF-8 byte-order mark is skipped. Every record is checked
///   to be valid UTF-8 and strictly valid JSON (RFC 8259, no duplicate keys).
/// - A malformed record throws `AlignDataError(.malformed)` whose `path` is `file:line`,
///   e.g. `train.jsonl:17: missing "completion"` or `train.jsonl:5: not valid JSON: … (column 12)`;
///   in a JSON array the element is named too: `data.json:9: element 3: missing "chosen"`.
/// - With `skipInvalid`, malformed records are skipped instead and counted per
///   `InvalidRecordReason` in `skippedInvalid`. Structural damage to a JSON array (not
///   closed, data after it) is always an error: no record boundary can be trusted.
/// - No valid record (empty file, or everything skipped) is an error naming the file.
public struct DatasetFile: Sendable, Equatable {
    /// The file as the caller spelled it (used in every message).
    public var source: String
    /// The format of every record (never `.auto`).
    public var format: DatasetFormat
    public var records: [DatasetRecord]
    /// The 1-based line of each record in the file (its first line for array elements; 0 when unknown).
    public var lines: [Int]
    /// Skipped malformed records per `InvalidRecordReason.rawValue` (only with `skipInvalid`).
    public var skippedInvalid: [String: Int]

    /// A dataset made in code; all records must have the same format.
    public init(records: [DatasetRecord], source: String = "<memory>", lines: [Int]? = nil,
                skippedInvalid: [String: Int] = [:]) throws {
        guard let first = records.first else {
            throw AlignDataError(.invalidArgument, path: source, "empty dataset: no records")
        }
        if let other = records.first(where: { $0.format != first.format }) {
            throw AlignDataError(.invalidArgument, path: source,
                                 "records of different formats (\(first.format.rawValue) and \(other.format.rawValue)) in one dataset")
        }
        let lines = lines ?? Array(repeating: 0, count: records.count)
        guard lines.count == records.count else {
            throw AlignDataError(.invalidArgument, path: source, "\(lines.count) line numbers for \(records.count) records")
        }
        self.source = source
        self.format = first.format
        self.records = records
        self.lines = lines
        self.skippedInvalid = skippedInvalid
    }

    /// `file:line` for record `index` (just the file when the line is unknown).
    public func location(ofRecord index: Int) -> String {
        lines.indices.contains(index) && lines[index] > 0 ? "\(source):\(lines[index])" : source
    }

    public var skippedInvalidTotal: Int { skippedInvalid.values.reduce(0, +) }

    // MARK: - Reading

    /// Reads and validates a dataset file. See the type's documentation.
    public static func read(_ url: URL, format: DatasetFormat = .auto, skipInvalid: Bool = false) throws -> DatasetFile {
        let name = displayPath(of: url)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw AlignDataError(.io, path: name, "cannot read the dataset: \(FileErrors.reason(error))")
        }
        return try parse(data, source: name, format: format, skipInvalid: skipInvalid)
    }

    /// Parses dataset file contents; `source` names the file in messages.
    public static func parse(_ data: Data, source: String, format: DatasetFormat = .auto,
                             skipInvalid: Bool = false) throws -> DatasetFile {
        let bytes = [UInt8](data)
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        var first = start
        while first < bytes.count, isJSONWhitespace(bytes[first]) { first += 1 }
        guard first < bytes.count else {
            throw AlignDataError(.malformed, path: source, "empty dataset: the file has no records")
        }
        let lineIndex = LineIndex(bytes)
        let units: [RecordUnit]
        if bytes[first] == UInt8(ascii: "[") {
            units = try splitJSONArray(bytes, open: first, lineIndex: lineIndex, source: source)
        } else {
            units = splitJSONLines(bytes, from: start)
            // A pretty-printed single object is neither layout: say so instead of "line 1: not valid JSON".
            if units.count > 1, (try? parseUnit(bytes, units[0])) == nil,
               let whole = try? parseUnit(bytes, RecordUnit(range: first ..< bytes.count, line: 1, element: nil, lineStart: nil)),
               case .object = whole {
                throw AlignDataError(.malformed, path: source,
                                     "the file is one JSON object spread over several lines; expected JSON Lines (one record per line) or a JSON array of records")
            }
        }

        var resolved: DatasetFormat? = format == .auto ? nil : format
        var records: [DatasetRecord] = []
        var lines: [Int] = []
        var skipped: [String: Int] = [:]
        for unit in units {
            let where_ = unit.element.map { "element \($0): " } ?? ""
            do {
                let value = try parseUnit(bytes, unit)
                guard case .object(let members) = value else {
                    throw RecordIssue(.notAnObject, "expected a JSON object, found \(value.kindName)")
                }
                let recordFormat: DatasetFormat
                if let resolved {
                    recordFormat = resolved
                } else {
                    guard let detected = DatasetFormat.detect(keys: Set(members.map(\.key))) else {
                        let keys = members.map { jsonQuoted($0.key) }.joined(separator: ", ")
                        throw RecordIssue(.unknownFormat,
                                          "cannot tell the dataset format from the keys [\(keys)]: expected \"text\", \"prompt\"+\"completion\", "
                                              + "\"instruction\"+\"output\", \"messages\", or \"chosen\"+\"rejected\"")
                    }
                    recordFormat = detected
                }
                let record = try RecordParser.parse(value, as: recordFormat)
                resolved = recordFormat
                records.append(record)
                lines.append(unit.line)
            } catch let issue as RecordIssue {
                if skipInvalid {
                    skipped[issue.reason.rawValue, default: 0] += 1
                    continue
                }
                throw AlignDataError(.malformed, path: "\(source):\(unit.line)", where_ + issue.message)
            }
        }
        guard resolved != nil, !records.isEmpty else {
            let total = skipped.values.reduce(0, +)
            if total == 0 { throw AlignDataError(.malformed, path: source, "empty dataset: the file has no records") }
            throw AlignDataError(.malformed, path: source,
                                 "empty dataset: no valid records (\(total) invalid skipped: \(describeCounts(skipped)))")
        }
        return try DatasetFile(records: records, source: source, lines: lines, skippedInvalid: skipped)
    }

    // MARK: - Splitting into records

    /// One record's bytes: `range` of the file, its 1-based `line`, its index in a JSON array.
    struct RecordUnit {
        var range: Range<Int>
        var line: Int
        var element: Int?
        /// Byte offset of the start of the line (JSON Lines), for column numbers.
        var lineStart: Int?
    }

    static func isJSONWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    static func splitJSONLines(_ bytes: [UInt8], from start: Int) -> [RecordUnit] {
        var units: [RecordUnit] = []
        var lineStart = start
        var line = 1
        let n = bytes.count
        while lineStart <= n {
            var end = lineStart
            while end < n, bytes[end] != 0x0A { end += 1 }
            var contentEnd = end
            if contentEnd > lineStart, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if (lineStart ..< contentEnd).contains(where: { !isJSONWhitespace(bytes[$0]) }) {
                units.append(RecordUnit(range: lineStart ..< contentEnd, line: line, element: nil, lineStart: lineStart))
            }
            if end >= n { break }
            lineStart = end + 1
            line += 1
        }
        return units
    }

    /// The element byte ranges of a top-level JSON array, found by tracking strings and
    /// bracket depth; each element is parsed on its own afterwards, so one bad element
    /// does not hide the others.
    static func splitJSONArray(_ bytes: [UInt8], open: Int, lineIndex: LineIndex, source: String) throws -> [RecordUnit] {
        let n = bytes.count
        var units: [RecordUnit] = []
        var i = open + 1
        func skipWhitespace() { while i < n, isJSONWhitespace(bytes[i]) { i += 1 } }
        skipWhitespace()
        if i < n, bytes[i] == UInt8(ascii: "]") {
            i += 1
        } else {
            while true {
                skipWhitespace()
                let elementStart = i
                var depth = 0
                var inString = false
                scan: while i < n {
                    let c = bytes[i]
                    if inString {
                        if c == UInt8(ascii: "\\") { i += 2; continue }
                        if c == UInt8(ascii: "\"") { inString = false }
                        i += 1
                        continue
                    }
                    switch c {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"): if depth > 0 { depth -= 1 }
                    case UInt8(ascii: "]"):
                        if depth == 0 { break scan }
                        depth -= 1
                    case UInt8(ascii: ","):
                        if depth == 0 { break scan }
                    default: break
                    }
                    i += 1
                }
                let line = lineIndex.line(of: min(elementStart, max(n - 1, 0)))
                guard i < n else {
                    throw AlignDataError(.malformed, path: "\(source):\(line)",
                                         "element \(units.count): not valid JSON: the top-level array is not closed")
                }
                var elementEnd = i
                while elementEnd > elementStart, isJSONWhitespace(bytes[elementEnd - 1]) { elementEnd -= 1 }
                units.append(RecordUnit(range: elementStart ..< elementEnd, line: line, element: units.count, lineStart: nil))
                let delimiter = bytes[i]
                i += 1
                if delimiter == UInt8(ascii: "]") { break }
            }
        }
        skipWhitespace()
        guard i == n else {
            throw AlignDataError(.malformed, path: "\(source):\(lineIndex.line(of: i))", "not valid JSON: unexpected data after the top-level array")
        }
        return units
    }

    /// UTF-8 check, then strict JSON parse of one record.
    static func parseUnit(_ bytes: [UInt8], _ unit: RecordUnit) throws -> JSONValue {
        if let bad = firstInvalidUTF8(bytes, unit.range) {
            let column = bad - (unit.lineStart ?? unit.range.lowerBound) + 1
            throw RecordIssue(.invalidUTF8, "not valid UTF-8 (byte \(column)\(unit.lineStart == nil ? " of the element" : " of the line"))")
        }
        if unit.range.isEmpty {
            throw RecordIssue(.invalidJSON, "not valid JSON: empty element")
        }
        do {
            return try bytes.withUnsafeBytes { raw in
                try JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[unit.range]))
            }
        } catch let e as JSONParseError {
            if let lineStart = unit.lineStart {
                let column = unit.range.lowerBound + e.offset - lineStart + 1
                throw RecordIssue(.invalidJSON, "not valid JSON: \(e.message) (column \(column))")
            }
            throw RecordIssue(.invalidJSON, "not valid JSON: \(e.message) (byte \(e.offset + 1) of the element)")
        }
    }

    /// The offset of the first byte that is not part of valid UTF-8 (no overlongs,
    /// surrogates or code points above U+10FFFF), or nil.
    static func firstInvalidUTF8(_ b: [UInt8], _ range: Range<Int>) -> Int? {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0xC2 ... 0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1 ... 0xEC, 0xEE ... 0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1 ... 0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return i
            }
            guard i + need < end else { return i }
            guard b[i + 1] >= lo, b[i + 1] <= hi else { return i }
            for k in 2 ..< need + 1 where !(0x80 ... 0xBF).contains(b[i + k]) { return i }
            i += need + 1
        }
        return nil
    }

    static func describeCounts(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    }
}

/// Byte offset → 1-based line number.
struct LineIndex {
    private var starts: [Int] = [0]

    init(_ bytes: [UInt8]) {
        for (i, b) in bytes.enumerated() where b == 0x0A { starts.append(i + 1) }
    }

    func line(of offset: Int) -> Int {
        var lo = 0, hi = starts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if starts[mid] <= offset { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

// MARK: - Record parsing

enum RecordParser {
    static func parse(_ value: JSONValue, as format: DatasetFormat) throws -> DatasetRecord {
        switch format {
        case .auto:
            preconditionFailure("format must be resolved")
        case .text:
            return .text(try string(value, "text"))
        case .promptCompletion:
            let prompt = try content(value, "prompt")
            let completion = try content(value, "completion")
            switch (prompt, completion) {
            case (.text, .text):
                break
            case (.conversation(let p), .conversation(let c)):
                guard !p.isEmpty else { throw RecordIssue(.missingField, "\"prompt\" is an empty message list") }
                guard let first = c.first else { throw RecordIssue(.missingField, "\"completion\" is an empty message list") }
                guard first.role == "assistant" else {
                    throw RecordIssue(.badAlternation, "\"completion\"[0]: a completion must start with an assistant turn, found \(jsonQuoted(first.role))")
                }
                try ConversationRules.validate(p + c, label: { split($0, p.count, "prompt", "completion") },
                                               requireAssistant: true, name: "\"completion\"")
            default:
                throw RecordIssue(.wrongType, "\"prompt\" and \"completion\" must both be strings or both be message lists")
            }
            return .promptCompletion(prompt: prompt, completion: completion)
        case .alpaca:
            let instruction = try string(value, "instruction")
            let input = try optionalString(value, "input") ?? ""
            let output = try string(value, "output")
            return .alpaca(instruction: instruction, input: input, output: output)
        case .messages:
            guard let raw = value["messages"] else { throw RecordIssue(.missingField, "missing \"messages\"") }
            let list = try messages(raw, "messages")
            try ConversationRules.validate(list, label: { "\"messages\"[\($0)]" }, requireAssistant: true, name: "\"messages\"")
            return .messages(list)
        case .preference:
            return .preference(try preference(value))
        }
    }

    private static func split(_ i: Int, _ n: Int, _ a: String, _ b: String) -> String {
        i < n ? "\"\(a)\"[\(i)]" : "\"\(b)\"[\(i - n)]"
    }

    static func isNull(_ v: JSONValue) -> Bool {
        if case .null = v { return true }
        return false
    }

    static func string(_ object: JSONValue, _ key: String) throws -> String {
        guard let v = object[key] else { throw RecordIssue(.missingField, "missing \"\(key)\"") }
        guard case .string(let s) = v else {
            throw RecordIssue(.wrongType, "\"\(key)\" must be a string, found \(v.kindName)")
        }
        return s
    }

    static func optionalString(_ object: JSONValue, _ key: String) throws -> String? {
        guard let v = object[key] else { return nil }
        switch v {
        case .null: return nil
        case .string(let s): return s
        default: throw RecordIssue(.wrongType, "\"\(key)\" must be a string, found \(v.kindName)")
        }
    }

    /// A string, or a list of messages (not validated here).
    static func content(_ object: JSONValue, _ key: String) throws -> DatasetContent {
        guard let v = object[key] else { throw RecordIssue(.missingField, "missing \"\(key)\"") }
        switch v {
        case .string(let s): return .text(s)
        case .array: return .conversation(try messages(v, key))
        default: throw RecordIssue(.wrongType, "\"\(key)\" must be a string or a list of messages, found \(v.kindName)")
        }
    }

    static func messages(_ value: JSONValue, _ key: String) throws -> [ChatMessage] {
        guard case .array(let elements) = value else {
            throw RecordIssue(.wrongType, "\"\(key)\" must be a list of messages, found \(value.kindName)")
        }
        return try elements.enumerated().map { i, m in
            let label = "\"\(key)\"[\(i)]"
            guard case .object = m else {
                throw RecordIssue(.wrongType, "\(label) must be an object with \"role\" and \"content\", found \(m.kindName)")
            }
            guard let role = m["role"] else { throw RecordIssue(.missingField, "\(label): missing \"role\"") }
            guard case .string(let r) = role else { throw RecordIssue(.wrongType, "\(label): \"role\" must be a string, found \(role.kindName)") }
            guard let content = m["content"] else { throw RecordIssue(.missingField, "\(label): missing \"content\"") }
            guard case .string(let c) = content else {
                throw RecordIssue(.wrongType, "\(label): \"content\" must be a string, found \(content.kindName)")
            }
            return ChatMessage(role: r, content: c)
        }
    }

    static func preference(_ value: JSONValue) throws -> PreferenceRecord {
        let chosen = try content(value, "chosen")
        let rejected = try content(value, "rejected")
        var margin: Float?
        if let m = value["margin"] {
            switch m {
            case .null: margin = nil
            case .integer(let i): margin = Float(i)
            case .number(let d): margin = Float(d)
            default: throw RecordIssue(.wrongType, "\"margin\" must be a number, found \(m.kindName)")
            }
        }
        if let p = value["prompt"], !isNull(p) {
            let prompt = try content(value, "prompt")
            switch (prompt, chosen, rejected) {
            case (.text, .text, .text):
                break
            case (.conversation(let p), .conversation(let c), .conversation(let r)):
                guard !p.isEmpty else { throw RecordIssue(.missingField, "\"prompt\" is an empty message list") }
                for (name, list) in [("chosen", c), ("rejected", r)] {
                    guard let first = list.first else { throw RecordIssue(.missingField, "\"\(name)\" is an empty message list") }
                    guard first.role == "assistant" else {
                        throw RecordIssue(.badAlternation,
                                          "\"\(name)\"[0]: a response must start with an assistant turn, found \(jsonQuoted(first.role))")
                    }
                    try ConversationRules.validate(p + list, label: { split($0, p.count, "prompt", name) },
                                                   requireAssistant: true, name: "\"\(name)\"")
                }
            default:
                throw RecordIssue(.wrongType, "\"prompt\", \"chosen\" and \"rejected\" must all be strings or all be message lists")
            }
            return PreferenceRecord(prompt: prompt, chosen: chosen, rejected: rejected, margin: margin)
        }
        // Implicit prompt: TRL's `extract_prompt`.
        switch (chosen, rejected) {
        case (.text(let c), .text(let r)):
            let (prompt, cRest, rRest) = extractPrompt(Array(c.unicodeScalars), Array(r.unicodeScalars), isSpace: { $0 == " " })
            func str(_ s: ArraySlice<Unicode.Scalar>) -> String { var out = ""; out.unicodeScalars.append(contentsOf: s); return out }
            return PreferenceRecord(prompt: .text(str(prompt)), chosen: .text(str(cRest)), rejected: .text(str(rRest)),
                                    margin: margin, implicitPrompt: true)
        case (.conversation(let c), .conversation(let r)):
            for (name, list) in [("chosen", c), ("rejected", r)] {
                try ConversationRules.validate(list, label: { "\"\(name)\"[\($0)]" }, requireAssistant: true, name: "\"\(name)\"")
            }
            let (prompt, cRest, rRest) = extractPrompt(c, r, isSpace: { _ in false })
            guard !prompt.isEmpty else {
                throw RecordIssue(.noSharedPrompt, "\"chosen\" and \"rejected\" share no prompt (their first messages differ) and there is no \"prompt\"")
            }
            for (name, rest) in [("chosen", cRest), ("rejected", rRest)] where rest.first?.role != "assistant" {
                throw RecordIssue(.noSharedPrompt,
                                  "\"\(name)\"[\(prompt.count)]: chosen and rejected differ before an assistant turn, so the shared prefix is not a prompt")
            }
            return PreferenceRecord(prompt: .conversation(Array(prompt)), chosen: .conversation(Array(cRest)),
                                    rejected: .conversation(Array(rRest)), margin: margin, implicitPrompt: true)
        default:
            throw RecordIssue(.wrongType, "\"chosen\" and \"rejected\" must both be strings or both be message lists")
        }
    }

    /// TRL's `_extract_prompt`: the prompt is the longest common prefix, except that when
    /// one sequence is a prefix of the other (or they are equal) it stops one element
    /// early, and for strings a space before the first difference goes to the responses.
    static func extractPrompt<T: Equatable>(_ a: [T], _ b: [T], isSpace: (T) -> Bool)
        -> (ArraySlice<T>, ArraySlice<T>, ArraySlice<T>) {
        let n = min(a.count, b.count)
        var idx = max(n - 1, 0)
        for i in 0 ..< n where a[i] != b[i] {
            idx = i
            if i > 0 && isSpace(a[i - 1]) { idx -= 1 }
            break
        }
        return (a[..<idx], a[idx...], b[idx...])
    }
}

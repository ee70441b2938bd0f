import Foundation

/// A kwarg value of an IFEval record, with the JSON kinds the checks tell apart.
public enum IFEvalKwarg: Equatable, Sendable, Decodable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case strings([String])
    case other(String)

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int.self) { self = .integer(i); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([String].self) { self = .strings(a); return }
        self = .other("an array or object")
    }

    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .number: return "a number with a fraction"
        case .string: return "a string"
        case .strings: return "a list of strings"
        case .other(let k): return k
        }
    }
}

/// One prompt of IFEval's format: `{"key", "prompt", "instruction_id_list", "kwargs"}`, its
/// instructions built (so a bad id or kwarg is refused when the record is read).
public struct IFEvalRecord: Sendable {
    public var key: String
    public var prompt: String
    public var instructions: [IFEvalInstruction]

    public struct ReadError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    private struct Raw: Decodable {
        var key: IFEvalKwarg?
        var prompt: String?
        var instruction_id_list: [String]?
        var kwargs: [[String: IFEvalKwarg]]?
    }

    public init(key: String, prompt: String, instructions: [IFEvalInstruction]) {
        self.key = key
        self.prompt = prompt
        self.instructions = instructions
    }

    /// Reads one JSON line. With `requirePrompt` false a record may omit `prompt` (a reward
    /// reads the instructions from a prompt record whose text lives elsewhere).
    public init(json line: Data, requirePrompt: Bool = true) throws {
        let raw: Raw
        do { raw = try JSONDecoder().decode(Raw.self, from: line) } catch {
            throw ReadError(message: "not an IFEval record (an object with \"prompt\", \"instruction_id_list\" and \"kwargs\"): \(Self.describe(error))")
        }
        guard let ids = raw.instruction_id_list else { throw ReadError(message: "has no \"instruction_id_list\"") }
        guard !ids.isEmpty else { throw ReadError(message: "\"instruction_id_list\" is empty") }
        let kwargs = raw.kwargs ?? []
        guard kwargs.count == ids.count || (raw.kwargs == nil && ids.allSatisfy({ IFEvalInstruction.ID(rawValue: $0)?.kwargNames.isEmpty ?? false })) else {
            throw ReadError(message: "\"kwargs\" has \(kwargs.count) entries for \(ids.count) instructions (one object per instruction)")
        }
        if requirePrompt, raw.prompt == nil { throw ReadError(message: "has no \"prompt\"") }
        prompt = raw.prompt ?? ""
        switch raw.key {
        case .integer(let i)?: key = String(i)
        case .string(let s)?: key = s
        default: key = ""
        }
        var built: [IFEvalInstruction] = []
        for (i, id) in ids.enumerated() {
            do {
                built.append(try IFEvalInstruction(id: id, kwargs: kwargs.isEmpty ? [:] : kwargs[i]))
            } catch let e as IFEvalInstruction.BuildError {
                throw ReadError(message: "instruction \(i) (\(id)): \(e.key.map { "kwargs[\(i)].\($0): " } ?? "")\(e.message)")
            }
        }
        instructions = built
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.keyNotFound(_, let c):
            let path = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return "\(path.isEmpty ? "" : "\(path.hasPrefix(".") ? String(path.dropFirst()) : path): ")\(c.debugDescription)"
        case DecodingError.dataCorrupted(let c):
            return c.debugDescription
        default:
            return "\(error)"
        }
    }

    /// Reads a JSONL file of records; every problem is `file:line: message`.
    public static func read(_ path: String) throws -> [IFEvalRecord] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(message: "\(path): cannot read the file")
        }
        var records: [IFEvalRecord] = []
        var problems: [String] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.drop(while: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D })
            if trimmed.isEmpty { continue }
            do { records.append(try IFEvalRecord(json: Data(line))) } catch let e as ReadError {
                problems.append("\(path):\(lineNumber): \(e.message)")
                if problems.count >= 20 { break }
            }
        }
        guard problems.isEmpty else { throw ReadError(message: problems.joined(separator: "\n")) }
        guard !records.isEmpty else { throw ReadError(message: "\(path): no records") }
        return records
    }
}

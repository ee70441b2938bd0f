/// IFEval's strict and loose verdicts for one response, and their accuracies over many.
///
/// As the reference (`if_verifiable.common.evaluate_instructions`): a reasoning block
/// (`…</think>`) is removed and the response stripped; an empty response follows nothing.
/// Strict: the instruction holds on the response. Loose: it holds on any of eight variants
/// (the response, without its first line, last line or both, each also without `*`).
public struct IFEvalVerdict: Sendable, Equatable {
    public var id: IFEvalInstruction.ID
    public var strict: Bool
    public var loose: Bool

    public init(id: IFEvalInstruction.ID, strict: Bool, loose: Bool) {
        self.id = id
        self.strict = strict
        self.loose = loose
    }
}

public enum IFEvalScoring {
    /// `strip_thinking`.
    public static func stripThinking(_ content: String) -> String {
        let s = PythonText.strip(content)
        if s.isEmpty { return s }
        let parts = PythonText.split(s, separator: "</think>")
        if parts.count > 1 { return PythonText.strip(parts.dropFirst().joined(separator: "</think>")) }
        if s.unicodeScalars.starts(with: "<think>".unicodeScalars) { return "" }
        return s
    }

    /// `get_loose_transformations`.
    public static func looseVariants(_ response: String) -> [String] {
        let lines = PythonText.split(response, separator: "\n")
        let first = PythonText.strip(lines.dropFirst().joined(separator: "\n"))
        let last = PythonText.strip(lines.dropLast().joined(separator: "\n"))
        let both = PythonText.strip(lines.count >= 2 ? lines.dropFirst().dropLast().joined(separator: "\n") : "")
        let noStar: (String) -> String = { PythonText.string($0.unicodeScalars.filter { $0 != "*" }) }
        return [response, noStar(response), first, last, both, noStar(first), noStar(last), noStar(both)]
    }

    /// The verdict of every instruction on one response.
    public static func verdicts(_ response: String, _ instructions: [IFEvalInstruction]) -> [IFEvalVerdict] {
        let r = stripThinking(response)
        guard !PythonText.strip(r).isEmpty else {
            return instructions.map { IFEvalVerdict(id: $0.id, strict: false, loose: false) }
        }
        let variants = looseVariants(r).filter { !PythonText.strip($0).isEmpty }
        return instructions.map { ins in
            let strict = ins.isFollowed(by: r)
            let loose = strict || variants.dropFirst().contains { ins.isFollowed(by: $0) }
            return IFEvalVerdict(id: ins.id, strict: strict, loose: loose)
        }
    }

    /// The fraction of instructions followed (`partial`) or 1 when all are (`all`).
    public static func score(_ verdicts: [IFEvalVerdict], loose: Bool = false, allOrNothing: Bool = false) -> Double {
        guard !verdicts.isEmpty else { return 0 }
        let followed = verdicts.filter { loose ? $0.loose : $0.strict }.count
        if allOrNothing { return followed == verdicts.count ? 1 : 0 }
        return Double(followed) / Double(verdicts.count)
    }
}

/// Prompt-level and instruction-level accuracy, strict and loose, and a table per instruction
/// id: what IFEval reports.
public struct IFEvalSummary: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var count = 0
        public var strict = 0
        public var loose = 0
    }

    public var prompts = 0
    public var promptStrict = 0
    public var promptLoose = 0
    public var instructions = 0
    public var instructionStrict = 0
    public var instructionLoose = 0
    public var perInstruction: [IFEvalInstruction.ID: Row] = [:]

    public init() {}

    public mutating func add(_ verdicts: [IFEvalVerdict]) {
        prompts += 1
        if verdicts.allSatisfy(\.strict) { promptStrict += 1 }
        if verdicts.allSatisfy(\.loose) { promptLoose += 1 }
        for v in verdicts {
            instructions += 1
            if v.strict { instructionStrict += 1 }
            if v.loose { instructionLoose += 1 }
            perInstruction[v.id, default: Row()].count += 1
            if v.strict { perInstruction[v.id, default: Row()].strict += 1 }
            if v.loose { perInstruction[v.id, default: Row()].loose += 1 }
        }
    }

    static func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
    public var promptStrictAccuracy: Double { Self.ratio(promptStrict, prompts) }
    public var promptLooseAccuracy: Double { Self.ratio(promptLoose, prompts) }
    public var instructionStrictAccuracy: Double { Self.ratio(instructionStrict, instructions) }
    public var instructionLooseAccuracy: Double { Self.ratio(instructionLoose, instructions) }
}

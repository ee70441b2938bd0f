import Foundation

/// The `reward` section shared by the online trainers (ALGORITHMS.md, Rewards): a weighted sum
/// of a reward model, rules and an external program, then the missing-EOS penalty, clipping and
/// running normalisation. A trainer mounts it as a field of its own section (`ppo.reward`).
public struct RewardSettings: Equatable, Sendable {
    public struct Rule: Equatable, Sendable {
        public enum Kind: String, Sendable, CaseIterable { case contains, notContains = "not_contains", regex, length, match, ifeval }
        public enum Unit: String, Sendable, CaseIterable { case words, tokens }
        public enum MatchMode: String, Sendable, CaseIterable { case exact, contains }
        /// ifeval: the fraction of the record's instructions followed, or 1 only when all are.
        public enum IFEvalMode: String, Sendable, CaseIterable { case fraction, all }
        public var kind: Kind
        public var text: String?
        public var pattern: String?
        public var field: String?
        public var mode: MatchMode
        public var ifevalMode: IFEvalMode
        /// ifeval: judge by IFEval's loose verdicts instead of the strict ones.
        public var loose: Bool
        public var min: Int?
        public var max: Int?
        public var unit: Unit
        public var caseSensitive: Bool
        public var weight: Double
        /// "contains \"Penn\"": how the rule is named in metrics (`rewards/<name>/mean`).
        public var name: String

        init(_ s: ConfigSectionValue, index: Int) {
            kind = s.choice("type")
            text = s.optionalString("text")
            pattern = s.optionalString("pattern")
            field = s.optionalString("field")
            let modeText = s.optionalString("mode")
            mode = modeText.flatMap(MatchMode.init(rawValue:)) ?? .contains
            ifevalMode = modeText.flatMap(IFEvalMode.init(rawValue:)) ?? .fraction
            loose = s.bool("loose")
            min = s.optionalInt("min")
            max = s.optionalInt("max")
            unit = s.choice("unit")
            caseSensitive = s.bool("case_sensitive")
            weight = s.float("weight")
            name = s.optionalString("name") ?? "rule\(index)_\(kind.rawValue)"
        }

        public init(kind: Kind, text: String? = nil, pattern: String? = nil, field: String? = nil, mode: MatchMode = .contains,
                    ifevalMode: IFEvalMode = .fraction, loose: Bool = false,
                    min: Int? = nil, max: Int? = nil, unit: Unit = .words, caseSensitive: Bool = false, weight: Double = 1,
                    name: String? = nil) {
            self.kind = kind
            self.text = text
            self.pattern = pattern
            self.field = field
            self.mode = mode
            self.ifevalMode = ifevalMode
            self.loose = loose
            self.min = min
            self.max = max
            self.unit = unit
            self.caseSensitive = caseSensitive
            self.weight = weight
            self.name = name ?? kind.rawValue
        }
    }

    public var model: String?
    public var modelWeight: Double
    public var rules: [Rule]
    public var program: [String]?
    public var programWeight: Double
    public var programTimeout: Double
    public var missingEOSPenalty: Double?
    public var missingEOSScore: Double?
    public var clip: Double?
    public var normalize: Bool

    public init(_ s: ConfigSectionValue) {
        model = s.optionalString("model")
        modelWeight = s.float("model_weight")
        rules = (s.optionalSections("rules") ?? []).enumerated().map { Rule($1, index: $0) }
        program = s.optionalStrings("program")
        programWeight = s.float("program_weight")
        programTimeout = s.float("program_timeout")
        missingEOSPenalty = s.optionalFloat("missing_eos_penalty")
        missingEOSScore = s.optionalFloat("missing_eos_score")
        clip = s.optionalFloat("clip")
        normalize = s.bool("normalize")
    }

    public init(model: String? = nil, modelWeight: Double = 1, rules: [Rule] = [], program: [String]? = nil, programWeight: Double = 1,
                programTimeout: Double = 30, missingEOSPenalty: Double? = nil, missingEOSScore: Double? = nil, clip: Double? = nil,
                normalize: Bool = false) {
        self.model = model
        self.modelWeight = modelWeight
        self.rules = rules
        self.program = program
        self.programWeight = programWeight
        self.programTimeout = programTimeout
        self.missingEOSPenalty = missingEOSPenalty
        self.missingEOSScore = missingEOSScore
        self.clip = clip
        self.normalize = normalize
    }

    public static let ruleSchema = ConfigSectionSchema(
        name: "reward.rules[]",
        doc: "A rule a user writes without code; it scores 1 when it holds and 0 when not, times `weight`.",
        fields: [
            ConfigField("type", .choice(Rule.Kind.allCases.map(\.rawValue)), default: .required, aliases: ["kind"],
                        doc: "contains / not_contains (`text`), regex (`pattern`, matched anywhere), length (`min`/`max` in `unit`), match (the response against the prompt record's `field`), ifeval (IFEval's checks of the prompt record's `instruction_id_list` and `kwargs`)."),
            ConfigField("text", .string, default: nil, doc: "contains / not_contains: the text looked for."),
            ConfigField("pattern", .string, default: nil, aliases: ["regex"], doc: "regex: an ICU regular expression."),
            ConfigField("field", .string, default: nil, doc: "match: the prompt record's field holding the expected answer (e.g. `answer`)."),
            ConfigField("mode", .choice(Rule.MatchMode.allCases.map(\.rawValue) + Rule.IFEvalMode.allCases.map(\.rawValue)), default: nil,
                        defaultText: "`contains` (match), `fraction` (ifeval)",
                        doc: "match: `exact` (whole response, trimmed) or `contains`. ifeval: `fraction` (of the record's instructions followed) or `all` (1 only when every one is)."),
            ConfigField("loose", .bool, default: false, doc: "ifeval: use IFEval's loose verdicts (the response also without its first/last line or `*`)."),
            ConfigField("min", .int, default: nil, range: .atLeast(0), doc: "length: fewest words/tokens allowed."),
            ConfigField("max", .int, default: nil, range: .atLeast(0), doc: "length: most words/tokens allowed."),
            ConfigField("unit", .choice(Rule.Unit.allCases.map(\.rawValue)), default: "words", doc: "length: count words or tokens."),
            ConfigField("case_sensitive", .bool, default: false, doc: "contains / not_contains / regex / match: compare case-sensitively."),
            ConfigField("weight", .float, default: 1.0, doc: "Weight in the sum (may be negative)."),
            ConfigField("name", .string, default: nil, defaultText: "`rule<i>_<type>`", doc: "Name in metrics (`rewards/<name>/mean`)."),
        ])

    public static let schema = ConfigSectionSchema(
        name: "reward",
        doc: "What the sampled responses are scored by: a weighted sum of a reward model, rules and an external program.",
        fields: [
            ConfigField("model", .path(.directory), default: nil, aliases: ["reward_model", "reward_model_path"],
                        doc: "A reward-model directory written by `align rm` (an ensemble gives mean and σ). Its vocabulary must be the policy's."),
            ConfigField("model_weight", .float, default: 1.0, doc: "Weight of the reward model's score."),
            ConfigField("rules", .sections(ruleSchema), default: nil, defaultText: "`null` (none)", doc: "Rules (see `reward.rules[]`)."),
            ConfigField("program", .strings, default: nil, aliases: ["command", "judge"],
                        doc: "An external program and its arguments, started once: it reads one JSON object per sample on stdin ({prompt, response, record}) and writes one number per line."),
            ConfigField("program_weight", .float, default: 1.0, doc: "Weight of the program's score."),
            ConfigField("program_timeout", .float, default: 30.0, range: .greaterThan(0), doc: "Seconds the program may take per sample."),
            ConfigField("missing_eos_penalty", .float, default: nil, range: .atLeast(0),
                        doc: "Subtracted from the score of a response that ended without an EOS token (TRL's `missing_eos_penalty`)."),
            ConfigField("missing_eos_score", .float, default: nil,
                        doc: "The score of a response that ended without an EOS token, in place of its sources' sum (a gate: a cut-off answer earns nothing for what it got right, an answer that ends keeps its score, so ending is rewarded without making a short failing answer better than a long one); exclusive with missing_eos_penalty."),
            ConfigField("clip", .float, default: nil, range: .greaterThan(0), doc: "Clip scores to ±clip."),
            ConfigField("normalize", .bool, default: false, aliases: ["whiten", "running_normalization"],
                        doc: "Whiten scores with the running mean and standard deviation of all scores so far."),
        ])

    /// Cross-field checks, for the trainer section that mounts the schema at `prefix`
    /// (`"ppo.reward"`).
    public static func checks(prefix: String) -> @Sendable (ConfigCheckContext) -> Void {
        { ctx in
            let hasModel = ctx.isSet("\(prefix).model"), hasProgram = ctx.isSet("\(prefix).program")
            var ruleCount = 0
            if case .list(let items)? = ctx.value("\(prefix).rules") {
                ruleCount = items.count
                for i in items.indices {
                    let r = "\(prefix).rules[\(i)]"
                    guard let type = ctx.string("\(r).type") else { continue }
                    switch type {
                    case "contains", "not_contains":
                        if (ctx.string("\(r).text") ?? "").isEmpty { ctx.fail("\(r).text", "a \(type) rule needs a non-empty \"text\"") }
                    case "regex":
                        if let p = ctx.string("\(r).pattern") {
                            if (try? NSRegularExpression(pattern: p)) == nil { ctx.fail("\(r).pattern", "is not a valid regular expression: \(p)") }
                        } else {
                            ctx.fail("\(r).pattern", "a regex rule needs a \"pattern\"")
                        }
                    case "length":
                        let lo = ctx.int("\(r).min"), hi = ctx.int("\(r).max")
                        if lo == nil && hi == nil { ctx.fail("\(r).max", "a length rule needs \"min\", \"max\" or both") }
                        if let lo, let hi, lo > hi { ctx.fail("\(r).min", "min \(lo) is above max \(hi)") }
                    case "match":
                        if (ctx.string("\(r).field") ?? "").isEmpty { ctx.fail("\(r).field", "a match rule needs the prompt record's \"field\" (e.g. \"answer\")") }
                        if let m = ctx.string("\(r).mode"), Rule.MatchMode(rawValue: m) == nil {
                            ctx.fail("\(r).mode", "a match rule's mode is exact or contains, not \(m)")
                        }
                    case "ifeval":
                        if let m = ctx.string("\(r).mode"), Rule.IFEvalMode(rawValue: m) == nil {
                            ctx.fail("\(r).mode", "an ifeval rule's mode is fraction or all, not \(m)")
                        }
                    default: break
                    }
                }
            }
            if hasProgram, case .list(let parts)? = ctx.value("\(prefix).program") {
                if parts.isEmpty {
                    ctx.fail("\(prefix).program", "is an empty command")
                } else if case .string(let exe) = parts[0], let problem = ProgramReward.executableProblem(exe) {
                    ctx.fail("\(prefix).program", problem)
                }
            }
            if ctx.isSet("\(prefix).missing_eos_penalty") && ctx.isSet("\(prefix).missing_eos_score") {
                ctx.fail("\(prefix).missing_eos_score", "replaces a cut-off response's score, missing_eos_penalty lowers it: set one of them")
            }
            if !hasModel && !hasProgram && ruleCount == 0 {
                ctx.fail(prefix, "no reward: give \(prefix).model (an align rm directory), \(prefix).rules or \(prefix).program")
            }
        }
    }
}

import Foundation

// Run configuration: how it fits together.
//
// - A section declares its keys once as `ConfigField`s (key, `ConfigType`, default, range, doc,
//   aliases) in a `ConfigSectionSchema`; the shared sections are in `RunConfigSchema`, each
//   trainer registers its own as a `TrainerSectionSchema` (see `TrainerConfigs.swift`).
// - `ConfigJSONReader` parses the file keeping the line of every key and value;
//   `ConfigOverrides` applies `--set key.path=value` to that tree (value read by the key's type);
//   `ConfigDecoder` validates the tree against the schema into `ConfigValue`s (every problem
//   collected, with its line); the cross-field checks run on the result (`ConfigCheckContext`).
// - `RunConfig` is the typed result (`ModelConfig`, `DataConfig`, `OptimConfig`, `LoRAConfig`,
//   the trainer's `ConfigSectionValue`); `resolvedJSON()` is `run.json`, and
//   `referenceMarkdown(trainer:)` renders the same declarations as tables.

/// What a path-valued field must point at. Relative paths are resolved against the config
/// file's directory (or, for `--set` values, the current directory) and stored absolute.
public enum ConfigPathKind: Sendable, Equatable {
    /// An existing regular file.
    case file
    /// An existing directory.
    case directory
    /// An existing file or directory.
    case any
    /// A model: a Hugging Face directory containing `config.json`, or a `.gguf` file.
    case model
    /// A tokenizer: a `tokenizer.json` file, a directory containing one, or a `.gguf` file.
    case tokenizer
    /// An output directory: need not exist, but must not be an existing file.
    case output
}

/// The type of a config field. Decoding, `--set` parsing and the reference all follow it.
public indirect enum ConfigType: Sendable {
    /// A JSON number with an integral value.
    case int
    /// Any JSON number.
    case float
    case bool
    case string
    /// One of the listed strings.
    case choice([String])
    /// A string or a list of strings (stored as a list); `--set key=a,b` gives `["a", "b"]`.
    case strings
    /// A path; `keywords` are strings accepted as they are (e.g. `"latest"`).
    case path(ConfigPathKind, keywords: [String] = [])
    /// A nested section (a JSON object).
    case section(ConfigSectionSchema)
    /// A non-empty list of sections.
    case sections(ConfigSectionSchema)
    /// A non-empty list of `[progress, value]` points, progress in [0, 1] non-decreasing
    /// (a piecewise-linear schedule over training progress).
    case points
    /// Either type, chosen by the JSON kind of the value (e.g. a path string or a list of sections).
    case either(ConfigType, ConfigType)

    /// The section schema inside a `.section` type (or an `.either` containing one).
    var sectionSchema: ConfigSectionSchema? {
        switch self {
        case .section(let s): return s
        case .either(let a, let b): return a.sectionSchema ?? b.sectionSchema
        default: return nil
        }
    }

    /// Section schemas of list items (`.sections`, directly or inside `.either`).
    var itemSchema: ConfigSectionSchema? {
        switch self {
        case .sections(let s): return s
        case .either(let a, let b): return a.itemSchema ?? b.itemSchema
        default: return nil
        }
    }

    /// "a number", "an object", … as used in "expected …, got …".
    var expectation: String {
        switch self {
        case .int: return "an integer"
        case .float: return "a number"
        case .bool: return "true or false"
        case .string, .choice: return "a string"
        case .strings: return "a string or a list of strings"
        case .path: return "a path (a string)"
        case .section: return "an object"
        case .sections: return "a list of objects"
        case .points: return "a list of [progress, value] pairs"
        case .either(let a, let b): return "\(a.expectation) or \(b.expectation)"
        }
    }

    /// Whether a JSON value of this kind is decoded by this type (used to pick an `.either` side).
    func accepts(_ kind: ConfigJSON.Kind) -> Bool {
        switch (self, kind) {
        case (.int, .number), (.float, .number), (.bool, .bool): return true
        case (.string, .string), (.choice, .string), (.path, .string), (.strings, .string): return true
        case (.strings, .array), (.sections, .array), (.points, .array): return true
        case (.section, .object): return true
        case (.either(let a, let b), _): return a.accepts(kind) || b.accepts(kind)
        default: return false
        }
    }

    /// The type column of the reference.
    var referenceName: String {
        switch self {
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .string: return "string"
        case .choice(let values): return values.map { "`\($0)`" }.joined(separator: " \\| ")
        case .strings: return "string or list of strings"
        case .path(let kind, let keywords):
            let base: String
            switch kind {
            case .file: base = "path to a file"
            case .directory: base = "path to a directory"
            case .any: base = "path"
            case .model: base = "path to a model (HF directory or .gguf)"
            case .tokenizer: base = "path to a tokenizer (tokenizer.json, model directory or .gguf)"
            case .output: base = "path to a directory (created)"
            }
            return keywords.isEmpty ? base : keywords.map { "`\($0)`" }.joined(separator: ", ") + " or " + base
        case .section(let s): return "section (`\(s.name)`)"
        case .sections(let s): return "list of sections (`\(s.name)`)"
        case .points: return "list of [progress, value]"
        case .either(let a, let b): return "\(a.referenceName) or \(b.referenceName)"
        }
    }
}

/// An allowed numeric range, e.g. `>= 1`, `> 0`, `in [0, 1)`.
public struct ConfigRange: Sendable, Equatable, CustomStringConvertible {
    public var lower: Double?
    public var lowerInclusive: Bool
    public var upper: Double?
    public var upperInclusive: Bool

    public init(lower: Double?, lowerInclusive: Bool = true, upper: Double?, upperInclusive: Bool = true) {
        self.lower = lower
        self.lowerInclusive = lowerInclusive
        self.upper = upper
        self.upperInclusive = upperInclusive
    }

    /// `x >= v`
    public static func atLeast(_ v: Double) -> ConfigRange { ConfigRange(lower: v, upper: nil) }
    /// `x > v`
    public static func greaterThan(_ v: Double) -> ConfigRange { ConfigRange(lower: v, lowerInclusive: false, upper: nil) }
    /// `lo <= x <= hi`
    public static func closed(_ lo: Double, _ hi: Double) -> ConfigRange { ConfigRange(lower: lo, upper: hi) }
    /// `lo <= x < hi`
    public static func halfOpen(_ lo: Double, _ hi: Double) -> ConfigRange { ConfigRange(lower: lo, upper: hi, upperInclusive: false) }
    /// `lo < x <= hi`
    public static func openClosed(_ lo: Double, _ hi: Double) -> ConfigRange {
        ConfigRange(lower: lo, lowerInclusive: false, upper: hi)
    }

    public func contains(_ x: Double) -> Bool {
        if let lower, lowerInclusive ? x < lower : x <= lower { return false }
        if let upper, upperInclusive ? x > upper : x >= upper { return false }
        return true
    }

    public var description: String {
        switch (lower, upper) {
        case (let lo?, nil): return "\(lowerInclusive ? ">=" : ">") \(formatNumber(lo))"
        case (nil, let hi?): return "\(upperInclusive ? "<=" : "<") \(formatNumber(hi))"
        case (let lo?, let hi?):
            return "in \(lowerInclusive ? "[" : "(")\(formatNumber(lo)), \(formatNumber(hi))\(upperInclusive ? "]" : ")")"
        case (nil, nil): return "any"
        }
    }
}

/// A number for messages: integral values without a fraction (`0`, `50`), others as Swift prints them.
func formatNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
    return "\(x)"
}

/// A field's default.
public enum ConfigDefault: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByStringLiteral, ExpressibleByNilLiteral
{
    /// The key must be given.
    case required
    /// `null` (the field is nullable). Its meaning, if computed later, goes in `defaultText`.
    case null
    case value(ConfigValue)
    /// A section with all of its own defaults (as if `{}` were written).
    case sectionDefaults

    public init(integerLiteral value: Int) { self = .value(.int(value)) }
    public init(floatLiteral value: Double) { self = .value(.float(value)) }
    public init(booleanLiteral value: Bool) { self = .value(.bool(value)) }
    public init(stringLiteral value: String) { self = .value(.string(value)) }
    public init(nilLiteral: ()) { self = .null }
}

/// One key of a section, declared once: decoding, `--set`, the reference and `run.json` all
/// come from this declaration.
public struct ConfigField: Sendable {
    /// The JSON key.
    public var key: String
    public var type: ConfigType
    public var defaultValue: ConfigDefault
    /// Whether `null` is accepted (always true when the default is `null`).
    public var nullable: Bool
    /// Allowed range of an int or float (and of the items of `.points` values).
    public var range: ConfigRange?
    /// One line for the reference.
    public var doc: String
    /// How the default is shown in the reference when it is computed (`"the tokenizer's size"`).
    public var defaultText: String?
    /// Other names users may know the key by (TRL/transformers spellings); never accepted,
    /// only suggested: `unknown key "lr"; did you mean "optim.learning_rate"?`.
    public var aliases: [String]

    public init(_ key: String, _ type: ConfigType, default defaultValue: ConfigDefault, nullable: Bool = false,
                range: ConfigRange? = nil, defaultText: String? = nil, aliases: [String] = [], doc: String)
    {
        self.key = key
        self.type = type
        // A float field declared with an integer default (`default: 1`) holds a float, so the
        // resolved config reads back equal.
        if case .float = type, case .value(.int(let i)) = defaultValue {
            self.defaultValue = .value(.float(Double(i)))
        } else {
            self.defaultValue = defaultValue
        }
        self.nullable = nullable || defaultValue == .null
        self.range = range
        self.doc = doc
        self.defaultText = defaultText
        self.aliases = aliases
        if let range, case .value(let v) = self.defaultValue {
            switch v {
            case .int(let i): precondition(range.contains(Double(i)), "config field \(key): default \(i) is not \(range)")
            case .float(let d): precondition(range.contains(d), "config field \(key): default \(d) is not \(range)")
            default: break
            }
        }
        if case .sectionDefaults = self.defaultValue {
            precondition(type.sectionSchema != nil, "config field \(key): sectionDefaults needs a section type")
        }
    }
}

/// The fields of one section (the top level, `optim`, a trainer's section, …).
public struct ConfigSectionSchema: Sendable {
    /// Name used in the reference and in messages (`"optim"`, `"data.train[]"`).
    public var name: String
    /// One paragraph for the reference.
    public var doc: String
    public var fields: [ConfigField]

    public init(name: String, doc: String, fields: [ConfigField]) {
        precondition(Set(fields.map(\.key)).count == fields.count, "config section \(name) declares a key twice")
        self.name = name
        self.doc = doc
        self.fields = fields
    }

    public func field(_ key: String) -> ConfigField? { fields.first { $0.key == key } }
}

/// A trainer's own section (`sft`, `dpo`, …), registered by the trainer: its fields plus
/// cross-field checks that may look at the whole configuration.
public struct TrainerSectionSchema: Sendable {
    /// The section key and subcommand name (`"dpo"` for `align dpo`).
    public var name: String
    public var section: ConfigSectionSchema
    /// Cross-field checks run after decoding (see `ConfigCheckContext`).
    public var checks: [@Sendable (ConfigCheckContext) -> Void]

    public init(name: String, doc: String, fields: [ConfigField], checks: [@Sendable (ConfigCheckContext) -> Void] = []) {
        self.name = name
        self.section = ConfigSectionSchema(name: name, doc: doc, fields: fields)
        self.checks = checks
    }

    /// Every trainer's section name; a section of another trainer in a config gets a specific message.
    public static let allTrainerNames = ["sft", "rm", "dpo", "ppo", "hpa", "bon", "online_dpo"]
}

import Foundation

/// Decodes a `ConfigJSON` tree by a schema into resolved `ConfigValue`s, reporting every problem
/// (unknown keys with a suggestion, wrong types, out-of-range values, missing files, missing
/// required keys) at the line where it was written, and carrying on after each.
struct ConfigDecoder {
    let root: ConfigSectionSchema
    let collector: ConfigIssueCollector
    /// Directory relative paths written in the file are resolved against.
    let fileDirectory: URL
    /// Directory relative paths given with `--set` are resolved against.
    let currentDirectory: URL
    /// The trainer whose section is being read, for the "section of another trainer" message.
    let trainerName: String?

    /// Where each written key (by key path) was written.
    var origins: [String: ConfigOrigin] = [:]
    /// Key paths whose value failed to decode (they hold null in the result).
    var invalid: Set<String> = []

    init(root: ConfigSectionSchema, collector: ConfigIssueCollector, fileDirectory: URL, currentDirectory: URL,
         trainerName: String?)
    {
        self.root = root
        self.collector = collector
        self.fileDirectory = fileDirectory
        self.currentDirectory = currentDirectory
        self.trainerName = trainerName
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    // MARK: sections

    mutating func decodeRoot(_ node: ConfigJSON) -> [String: ConfigValue]? {
        guard case .object = node.kind else {
            collector.add(node.origin, "the configuration must be a JSON object ({\"model\": …, \"data\": …}), got \(node.gotDescription)")
            return nil
        }
        return decodeSection(root, node, path: "")
    }

    mutating func decodeSection(_ schema: ConfigSectionSchema, _ node: ConfigJSON, path: String) -> [String: ConfigValue] {
        guard case .object(let members) = node.kind else { preconditionFailure("decodeSection on a non-object") }
        var given: [String: ConfigJSON.Member] = [:]
        var firstLine: [String: ConfigOrigin] = [:]
        for member in members {
            let keyPath = Self.join(path, member.key)
            if let first = firstLine[member.key] {
                var also = ""
                if case .file(_, let line) = first { also = " (also written at line \(line))" }
                collector.add(member.keyOrigin, "duplicate key \(ConfigJSONWriter.quote(keyPath))\(also)")
            }
            firstLine[member.key] = firstLine[member.key] ?? member.keyOrigin
            if schema.field(member.key) == nil {
                collector.add(member.keyOrigin, unknownKeyMessage(member.key, in: schema, at: path))
                continue
            }
            given[member.key] = member
        }
        var result: [String: ConfigValue] = [:]
        for field in schema.fields {
            let keyPath = Self.join(path, field.key)
            if let member = given[field.key] {
                origins[keyPath] = member.keyOrigin
                if let value = decode(field, field.type, member.value, path: keyPath) {
                    result[field.key] = value
                } else {
                    result[field.key] = .null
                    invalid.insert(keyPath)
                }
                continue
            }
            switch field.defaultValue {
            case .required:
                collector.add(node.origin, "missing required key \"\(keyPath)\": \(field.doc)")
                result[field.key] = .null
                invalid.insert(keyPath)
            case .null:
                result[field.key] = .null
            case .value(let v):
                result[field.key] = v
            case .sectionDefaults:
                guard let sub = field.type.sectionSchema else { preconditionFailure("\(keyPath): sectionDefaults on a non-section") }
                result[field.key] = .section(decodeSection(sub, ConfigJSON(.object([]), node.origin), path: keyPath))
            }
        }
        return result
    }

    // MARK: values

    private func typeError(_ path: String, _ type: ConfigType, _ node: ConfigJSON) {
        collector.add(node.origin, "\(path): expected \(type.expectation), got \(node.gotDescription)")
    }

    private func checkRange(_ field: ConfigField, _ x: Double, _ node: ConfigJSON, path: String) -> Bool {
        guard let range = field.range, !range.contains(x) else { return true }
        var shown = formatNumber(x)
        if case .number(_, let text) = node.kind { shown = text }
        collector.add(node.origin, "\(path): must be \(range), got \(shown)")
        return false
    }

    /// The decoded value, or nil after reporting why it is invalid.
    mutating func decode(_ field: ConfigField, _ type: ConfigType, _ node: ConfigJSON, path: String) -> ConfigValue? {
        if case .null = node.kind {
            if field.nullable { return .null }
            typeError(path, type, node)
            return nil
        }
        switch type {
        case .int:
            guard case .number(let x, _) = node.kind else { typeError(path, type, node); return nil }
            guard x == x.rounded(), abs(x) <= 9_007_199_254_740_992 else { typeError(path, type, node); return nil }
            return checkRange(field, x, node, path: path) ? .int(Int(x)) : nil
        case .float:
            guard case .number(let x, _) = node.kind else { typeError(path, type, node); return nil }
            return checkRange(field, x, node, path: path) ? .float(x) : nil
        case .bool:
            guard case .bool(let b) = node.kind else { typeError(path, type, node); return nil }
            return .bool(b)
        case .string:
            guard case .string(let s) = node.kind else { typeError(path, type, node); return nil }
            return .string(s)
        case .choice(let allowed):
            guard case .string(let s) = node.kind else { typeError(path, type, node); return nil }
            guard allowed.contains(s) else {
                var message = "\(path): \(ConfigJSONWriter.quote(s)) is not one of \(allowed.joined(separator: ", "))"
                if let near = nearest(s, among: allowed) { message += "; did you mean \"\(near)\"?" }
                collector.add(node.origin, message)
                return nil
            }
            return .string(s)
        case .strings:
            var items: [String] = []
            switch node.kind {
            case .string(let s):
                items = s.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            case .array(let elements):
                for (i, element) in elements.enumerated() {
                    guard case .string(let s) = element.kind else {
                        collector.add(element.origin, "\(path)[\(i)]: expected a string, got \(element.gotDescription)")
                        return nil
                    }
                    items.append(s)
                }
            default:
                typeError(path, type, node)
                return nil
            }
            guard !items.isEmpty else { collector.add(node.origin, "\(path): the list is empty"); return nil }
            guard !items.contains(where: \.isEmpty) else { collector.add(node.origin, "\(path): contains an empty name"); return nil }
            return .list(items.map { .string($0) })
        case .path(let kind, let keywords):
            guard case .string(let s) = node.kind else { typeError(path, type, node); return nil }
            if keywords.contains(s) { return .string(s) }
            return resolvePath(s, kind: kind, origin: node.origin, path: path)
        case .section(let schema):
            guard case .object = node.kind else { typeError(path, type, node); return nil }
            return .section(decodeSection(schema, node, path: path))
        case .sections(let schema):
            guard case .array(let elements) = node.kind else { typeError(path, type, node); return nil }
            guard !elements.isEmpty else { collector.add(node.origin, "\(path): the list is empty"); return nil }
            var items: [ConfigValue] = []
            var ok = true
            for (i, element) in elements.enumerated() {
                let itemPath = "\(path)[\(i)]"
                guard case .object = element.kind else {
                    collector.add(element.origin, "\(itemPath): expected an object, got \(element.gotDescription)")
                    ok = false
                    continue
                }
                origins[itemPath] = element.origin
                let before = collector.issues.count
                items.append(.section(decodeSection(schema, element, path: itemPath)))
                if collector.issues.count != before { ok = false }
            }
            return ok ? .list(items) : nil
        case .points:
            return decodePoints(field, node, path: path)
        case .either(let a, let b):
            if a.accepts(node.kind) { return decode(field, a, node, path: path) }
            if b.accepts(node.kind) { return decode(field, b, node, path: path) }
            typeError(path, type, node)
            return nil
        }
    }

    private func decodePoints(_ field: ConfigField, _ node: ConfigJSON, path: String) -> ConfigValue? {
        guard case .array(let elements) = node.kind else { typeError(path, .points, node); return nil }
        guard !elements.isEmpty else { collector.add(node.origin, "\(path): the list is empty"); return nil }
        var points: [ConfigValue] = []
        var previous = -Double.infinity
        for (i, element) in elements.enumerated() {
            let itemPath = "\(path)[\(i)]"
            guard case .array(let pair) = element.kind, pair.count == 2,
                  case .number(let progress, let progressText) = pair[0].kind, case .number(let value, let valueText) = pair[1].kind
            else {
                collector.add(element.origin, "\(itemPath): expected a [progress, value] pair of numbers, got \(element.gotDescription)")
                return nil
            }
            guard (0...1).contains(progress) else {
                collector.add(element.origin, "\(itemPath): progress must be in [0, 1], got \(progressText)")
                return nil
            }
            guard progress >= previous else {
                collector.add(element.origin, "\(itemPath): progress \(progressText) comes after \(formatNumber(previous)); points must be in increasing progress order")
                return nil
            }
            if let range = field.range, !range.contains(value) {
                collector.add(element.origin, "\(itemPath): value must be \(range), got \(valueText)")
                return nil
            }
            previous = progress
            points.append(.list([.float(progress), .float(value)]))
        }
        return .list(points)
    }

    // MARK: paths

    private func resolvePath(_ raw: String, kind: ConfigPathKind, origin: ConfigOrigin, path: String) -> ConfigValue? {
        guard !raw.isEmpty else { collector.add(origin, "\(path): the path is empty"); return nil }
        let expanded = NSString(string: raw).expandingTildeInPath
        let isRelative = !expanded.hasPrefix("/")
        let base: URL
        let note: String
        switch origin {
        case .file:
            base = fileDirectory
            note = isRelative ? " (relative paths are resolved against the config file's directory)" : ""
        case .override:
            base = currentDirectory
            note = isRelative ? " (relative paths given with --set are resolved against the current directory)" : ""
        }
        let url = isRelative ? base.appendingPathComponent(expanded) : URL(fileURLWithPath: expanded)
        let absolute = url.standardizedFileURL.path
        let quoted = ConfigJSONWriter.quote(raw)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory)
        func fail(_ message: String) -> ConfigValue? {
            collector.add(origin, "\(path): \(message)")
            return nil
        }
        func has(_ name: String) -> Bool {
            FileManager.default.fileExists(atPath: URL(fileURLWithPath: absolute).appendingPathComponent(name).path)
        }
        let ext = URL(fileURLWithPath: absolute).pathExtension.lowercased()
        switch kind {
        case .output:
            if exists && !isDirectory.boolValue { return fail("\(quoted) is an existing file, expected a directory\(note)") }
        case .file:
            guard exists else { return fail("file \(quoted) does not exist\(note)") }
            if isDirectory.boolValue { return fail("\(quoted) is a directory, expected a file\(note)") }
        case .directory:
            guard exists else { return fail("directory \(quoted) does not exist\(note)") }
            if !isDirectory.boolValue { return fail("\(quoted) is a file, expected a directory\(note)") }
        case .any:
            guard exists else { return fail("\(quoted) does not exist\(note)") }
        case .model:
            guard exists else { return fail("model \(quoted) does not exist\(note)") }
            if isDirectory.boolValue {
                if !has("config.json") {
                    return fail("directory \(quoted) has no config.json (expected a Hugging Face model directory or a .gguf file)\(note)")
                }
            } else if ext != "gguf" && URL(fileURLWithPath: absolute).lastPathComponent != "config.json" {
                return fail("\(quoted) is neither a .gguf file nor a model directory\(note)")
            }
        case .tokenizer:
            guard exists else { return fail("tokenizer \(quoted) does not exist\(note)") }
            if isDirectory.boolValue {
                if !has("tokenizer.json") { return fail("directory \(quoted) has no tokenizer.json\(note)") }
            } else if ext != "gguf" && ext != "json" {
                return fail("\(quoted) is not a tokenizer.json file, a model directory or a .gguf file\(note)")
            }
        }
        return .string(absolute)
    }

    // MARK: unknown keys

    func unknownKeyMessage(_ key: String, in schema: ConfigSectionSchema, at path: String) -> String {
        let keyPath = Self.join(path, key)
        if path.isEmpty, let trainerName, key != trainerName, TrainerSectionSchema.allTrainerNames.contains(key) {
            return "unknown key \"\(key)\": this is the section of \"align \(key)\"; \"align \(trainerName)\" reads \"\(trainerName)\""
        }
        let quoted = ConfigJSONWriter.quote(keyPath)
        if let suggestion = ConfigSuggestions.suggest(key, in: schema, at: path, root: root) {
            return "unknown key \(quoted); did you mean \"\(suggestion)\"?"
        }
        let keys = schema.fields.map(\.key).joined(separator: ", ")
        return path.isEmpty ? "unknown key \(quoted) (top-level keys: \(keys))"
            : "unknown key \(quoted) (keys of \"\(path)\": \(keys))"
    }
}

/// Nearest-key suggestions for misspelt or misplaced keys.
enum ConfigSuggestions {
    static func normalize(_ s: String) -> String {
        String(s.lowercased().map { $0 == "-" || $0 == " " ? "_" : $0 })
    }

    /// Largest edit distance still suggested for a key of this length.
    static func threshold(_ s: String) -> Int { max(1, min(3, s.count / 4)) }

    /// Every field reachable through nested sections (not list items): (key path, field).
    static func allFields(_ schema: ConfigSectionSchema, prefix: String = "") -> [(String, ConfigField)] {
        var out: [(String, ConfigField)] = []
        for field in schema.fields {
            let p = ConfigDecoder.join(prefix, field.key)
            out.append((p, field))
            if case .section(let sub) = field.type { out += allFields(sub, prefix: p) }
        }
        return out
    }

    /// The full key path to suggest for `key` written in the section at `path`: a sibling spelt
    /// nearly the same (or an alias of one), else a key of that name (or alias) elsewhere.
    static func suggest(_ key: String, in schema: ConfigSectionSchema, at path: String, root: ConfigSectionSchema) -> String? {
        let k = normalize(key)
        let siblings = schema.fields
        if let f = siblings.first(where: { normalize($0.key) == k }) { return ConfigDecoder.join(path, f.key) }
        if let f = siblings.first(where: { $0.aliases.map(normalize).contains(k) }) { return ConfigDecoder.join(path, f.key) }
        if let near = nearest(key, among: siblings.map(\.key)) { return ConfigDecoder.join(path, near) }
        let everywhere = allFields(root)
        if let (p, _) = everywhere.first(where: { normalize($0.1.key) == k }) { return p }
        if let (p, _) = everywhere.first(where: { $0.1.aliases.map(normalize).contains(k) }) { return p }
        if let near = nearest(key, among: everywhere.map(\.1.key)), let (p, _) = everywhere.first(where: { $0.1.key == near }) { return p }
        return nil
    }
}

/// The candidate closest to `s` by edit distance (case- and `-`/`_`-insensitive), if close enough.
func nearest(_ s: String, among candidates: [String]) -> String? {
    let k = Array(ConfigSuggestions.normalize(s))
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(k, Array(ConfigSuggestions.normalize(c)))
        if d <= ConfigSuggestions.threshold(s), best == nil || d < best!.1 { best = (c, d) }
    }
    return best?.0
}

/// Levenshtein distance, with an adjacent transposition counting as one edit.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev2 = [Int](repeating: 0, count: b.count + 1)
    var prev = Array(0...b.count)
    var cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { cur[j] = min(cur[j], prev2[j - 2] + 1) }
        }
        (prev2, prev, cur) = (prev, cur, prev2)
    }
    return prev[b.count]
}

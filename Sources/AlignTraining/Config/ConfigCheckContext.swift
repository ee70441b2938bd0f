import Foundation

/// What a cross-field check sees: the decoded configuration by absolute key path, and a way to
/// report a problem at the line where a key was written.
///
/// Values that failed to decode (already reported) read as `nil`, so checks written with
/// `guard let` never pile a second error on top of the first.
public final class ConfigCheckContext {
    let root: [String: ConfigValue]
    let origins: [String: ConfigOrigin]
    let invalid: Set<String>
    let fallback: ConfigOrigin
    let collector: ConfigIssueCollector

    init(root: [String: ConfigValue], origins: [String: ConfigOrigin], invalid: Set<String>, fallback: ConfigOrigin,
         collector: ConfigIssueCollector)
    {
        self.root = root
        self.origins = origins
        self.invalid = invalid
        self.fallback = fallback
        self.collector = collector
    }

    /// The value at `path` (`"optim.warmup_ratio"`, or into a list of sections:
    /// `"ppo.reward.rules[1].pattern"`), nil when it failed to decode, or when a section or
    /// list on the way is null or too short.
    public func value(_ path: String) -> ConfigValue? {
        if invalid.contains(path) { return nil }
        var current: ConfigValue = .section(root)
        for component in path.split(separator: ".") {
            var key = Substring(component), index: Int?
            if key.hasSuffix("]"), let open = key.lastIndex(of: "["), let i = Int(key[key.index(after: open)..<key.index(before: key.endIndex)]) {
                index = i
                key = key[..<open]
            }
            guard case .section(let members) = current, let next = members[String(key)] else { return nil }
            current = next
            if let index {
                guard case .list(let items) = current, items.indices.contains(index) else { return nil }
                current = items[index]
            }
        }
        return current
    }

    public func int(_ path: String) -> Int? {
        if case .int(let v)? = value(path) { return v }
        return nil
    }

    public func float(_ path: String) -> Double? {
        switch value(path) {
        case .float(let v)?: return v
        case .int(let v)?: return Double(v)
        default: return nil
        }
    }

    public func string(_ path: String) -> String? {
        if case .string(let v)? = value(path) { return v }
        return nil
    }

    public func bool(_ path: String) -> Bool? {
        if case .bool(let v)? = value(path) { return v }
        return nil
    }

    /// True when the value decoded and is not null.
    public func isSet(_ path: String) -> Bool {
        guard let v = value(path) else { return false }
        return !v.isNull
    }

    /// True when the key was written in the file or with `--set` (not just defaulted).
    public func isGiven(_ path: String) -> Bool { origins[path] != nil }

    /// Where `path` was written; for a defaulted key, where its closest written parent section was.
    public func origin(of path: String) -> ConfigOrigin {
        var p = path
        while true {
            if let o = origins[p] { return o }
            guard let dot = p.lastIndex(of: ".") else { return fallback }
            p = String(p[..<dot])
        }
    }

    /// Reports `"<path>: <message>"` at the line of `path`.
    public func fail(_ path: String, _ message: String) {
        collector.add(origin(of: path), "\(path): \(message)")
    }
}

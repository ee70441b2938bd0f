import Foundation

/// `--set key.path=value` overrides, applied to the parsed file before decoding so that the
/// value goes through exactly the same validation as a value written in the file.
///
/// The value text is read by the field's type:
/// - `null` is null for every type (`--set data.eval=null`);
/// - int and float fields take a number (`--set optim.learning_rate=3e-4`, `.5` is accepted);
/// - bool fields take `true` or `false`;
/// - string, enum and path fields take the text as it is (a leading `"` makes it a JSON
///   string); relative paths are resolved against the current directory;
/// - string-or-list fields take a comma-separated list (`--set lora.target_modules=q_proj,v_proj`)
///   or a JSON list;
/// - sections, lists of sections and schedules take JSON
///   (`--set 'data.train=[{"path": "a.jsonl", "weight": 2}]'`);
/// - a key inside a null or absent section creates that section with its defaults
///   (`--set lora.rank=16` turns LoRA on).
enum ConfigOverrides {
    static func apply(_ overrides: [String], to tree: inout ConfigJSON, schema: ConfigSectionSchema, trainerName: String?,
                      collector: ConfigIssueCollector) {
        for (index, argument) in overrides.enumerated() {
            let origin = ConfigOrigin.override(index: index, argument: argument)
            guard let (components, node) = parse(argument, origin: origin, schema: schema, trainerName: trainerName, collector: collector) else { continue }
            guard case .object = tree.kind else { continue }  // reported by the decoder
            set(&tree, components[...], to: node, origin: origin)
        }
    }

    /// The key path components and the value node of one argument, or nil after reporting why not.
    static func parse(_ argument: String, origin: ConfigOrigin, schema root: ConfigSectionSchema, trainerName: String?,
                      collector: ConfigIssueCollector) -> ([String], ConfigJSON)?
    {
        guard let eq = argument.firstIndex(of: "=") else {
            collector.add(origin, "expected key.path=value (e.g. --set optim.learning_rate=3e-4)")
            return nil
        }
        let keyPath = argument[..<eq].trimmingCharacters(in: .whitespaces)
        let text = String(argument[argument.index(after: eq)...])
        let components = keyPath.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !keyPath.isEmpty, !components.contains(where: \.isEmpty) else {
            collector.add(origin, "expected key.path=value (e.g. --set optim.learning_rate=3e-4)")
            return nil
        }
        var schema = root
        var path = ""
        for (i, component) in components.enumerated() {
            guard let field = schema.field(component) else {
                let decoder = ConfigDecoder(root: root, collector: collector, fileDirectory: URL(fileURLWithPath: "/"),
                                            currentDirectory: URL(fileURLWithPath: "/"), trainerName: trainerName)
                collector.add(origin, decoder.unknownKeyMessage(component, in: schema, at: path))
                return nil
            }
            path = ConfigDecoder.join(path, component)
            if i == components.count - 1 {
                guard let node = valueNode(text, field.type, origin: origin, path: path, collector: collector) else { return nil }
                return (components, node)
            }
            guard case .section(let sub) = field.type else {
                collector.add(origin, "\"\(path)\" is a value (\(field.type.referenceName)), not a section; set it as a whole with --set \(path)=…")
                return nil
            }
            schema = sub
        }
        return nil
    }

    /// Reads the text of a `--set` value as a JSON node for a field of `type`.
    static func valueNode(_ text: String, _ type: ConfigType, origin: ConfigOrigin, path: String,
                          collector: ConfigIssueCollector) -> ConfigJSON?
    {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "null" { return ConfigJSON(.null, origin) }
        func json() -> ConfigJSON? {
            do {
                return try ConfigJSONReader.parse(text) { _ in origin }
            } catch let e as ConfigJSONSyntaxError {
                collector.add(origin, "\(path): invalid JSON value at column \(e.column): \(e.message)")
                return nil
            } catch {
                collector.add(origin, "\(path): invalid JSON value: \(error)")
                return nil
            }
        }
        switch type {
        case .int, .float:
            guard let x = lenientNumber(trimmed) else {
                collector.add(origin, "\(path): expected \(type.expectation), got \(ConfigJSONWriter.quote(text))")
                return nil
            }
            return ConfigJSON(.number(x, text: trimmed), origin)
        case .bool:
            switch trimmed.lowercased() {
            case "true": return ConfigJSON(.bool(true), origin)
            case "false": return ConfigJSON(.bool(false), origin)
            default:
                collector.add(origin, "\(path): expected true or false, got \(ConfigJSONWriter.quote(text))")
                return nil
            }
        case .string, .choice, .path:
            return trimmed.hasPrefix("\"") ? json() : ConfigJSON(.string(text), origin)
        case .strings:
            return trimmed.hasPrefix("\"") || trimmed.hasPrefix("[") ? json() : ConfigJSON(.string(text), origin)
        case .section, .sections, .points:
            return json()
        case .either(let a, let b):
            if trimmed.hasPrefix("\"") || trimmed.hasPrefix("[") || trimmed.hasPrefix("{") { return json() }
            if let x = lenientNumber(trimmed), a.accepts(.number(x, text: trimmed)) || b.accepts(.number(x, text: trimmed)) {
                return ConfigJSON(.number(x, text: trimmed), origin)
            }
            return ConfigJSON(.string(text), origin)
        }
    }

    /// A decimal number as people type it on a command line: JSON numbers plus a leading `+`
    /// or `.` (`.5`, `+1e-4`). Not hex, `inf` or `nan`.
    static func lenientNumber(_ s: String) -> Double? {
        guard !s.isEmpty, s.allSatisfy({ "0123456789.eE+-".contains($0) }), s.contains(where: \.isNumber) else { return nil }
        guard let x = Double(s), x.isFinite else { return nil }
        return x
    }

    /// Sets the member at `path` inside the object `node`, creating objects on the way (a
    /// missing, null or non-object section becomes an empty one).
    static func set(_ node: inout ConfigJSON, _ path: ArraySlice<String>, to value: ConfigJSON, origin: ConfigOrigin) {
        guard let key = path.first else { return }
        var members: [ConfigJSON.Member] = []
        if case .object(let m) = node.kind { members = m } else { node.origin = origin }
        let index = members.lastIndex { $0.key == key }
        if path.count == 1 {
            if let index {
                members[index].value = value
                members[index].keyOrigin = origin
            } else {
                members.append(ConfigJSON.Member(key: key, keyOrigin: origin, value: value))
            }
        } else {
            var child = index.map { members[$0].value } ?? ConfigJSON(.object([]), origin)
            set(&child, path.dropFirst(), to: value, origin: origin)
            if let index {
                members[index].value = child
            } else {
                members.append(ConfigJSON.Member(key: key, keyOrigin: origin, value: child))
            }
        }
        node.kind = .object(members)
    }
}

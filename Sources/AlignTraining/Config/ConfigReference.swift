import Foundation

/// Renders a schema as Markdown: an introduction, then one table per section
/// (key, type, default, description), nested sections after their parent.
enum ConfigReference {
    static func markdown(schema: ConfigSectionSchema, trainer: String) -> String {
        var out = """
        # `align \(trainer)` configuration

        One JSON file per run: `align \(trainer) --config run.json [--set key.path=value …]`.
        Keys not written take the default below; *required* keys must be given. `null` is
        accepted only where the default is `null` or the type says "or null".

        - **Paths.** Relative paths in the file are resolved against the directory of the
          config file (not the current directory); relative paths given with `--set` are
          resolved against the current directory. `~` is expanded.
        - **Overrides.** `--set key.path=value` (repeatable) replaces any key after the file is
          read; the value is read by the key's type: `--set optim.learning_rate=3e-4`,
          `--set lora.target_modules=q_proj,v_proj`, `--set data.eval=null`, JSON for sections
          and lists: `--set 'data.train=[{"path": "a.jsonl", "weight": 2}]'`. A key inside a
          section that is null creates the section with its defaults (`--set lora.rank=16`
          enables LoRA).
        - **Validation.** Everything is checked before anything runs: unknown keys (with the
          nearest valid key), types, ranges, files that must exist, incompatible options.
          Every problem is printed on its own line with the file and line (or the `--set`
          argument), the exit status is 2, and nothing is created in `output_dir`.
        - **Resolved configuration.** The configuration with every default filled in and
          paths made absolute is written to `output_dir/run.json`; `--config` accepts it to
          repeat the run.
        - **Reruns.** If `output_dir` already holds checkpoints and `resume_from` is null, the
          run refuses to start: set `resume_from: "latest"` to continue, or use a new `output_dir`.

        """
        appendTables(schema, title: "Top level", into: &out)
        return out
    }

    private static func appendTables(_ schema: ConfigSectionSchema, title: String, into out: inout String) {
        out += "\n## \(title)\n\n"
        if !schema.name.isEmpty { out += escape(schema.doc) + "\n\n" }
        out += "| Key | Type | Default | Description |\n|---|---|---|---|\n"
        let prefix = schema.name.isEmpty ? "" : schema.name + "."
        for field in schema.fields {
            out += "| `\(prefix)\(field.key)` | \(typeText(field)) | \(defaultText(field)) | \(escape(field.doc)) |\n"
        }
        for field in schema.fields {
            if let sub = field.type.sectionSchema { appendTables(sub, title: "`\(sub.name)`", into: &out) }
            if let item = field.type.itemSchema { appendTables(item, title: "`\(item.name)` (each item of `\(prefix)\(field.key)`)", into: &out) }
        }
    }

    static func typeText(_ field: ConfigField) -> String {
        var text = field.type.referenceName
        if let range = field.range {
            if case .points = field.type { text += ", values \(range)" } else { text += " \(range)" }
        }
        if field.nullable && field.defaultValue != .null { text += ", or null" }
        return text.replacingOccurrences(of: ">=", with: "≥").replacingOccurrences(of: "<=", with: "≤")
    }

    static func defaultText(_ field: ConfigField) -> String {
        if let text = field.defaultText { return escape(text) }
        switch field.defaultValue {
        case .required: return "*required*"
        case .null: return "`null`"
        case .value(let v): return "`\(v)`"
        case .sectionDefaults: return "`{}` (all defaults)"
        }
    }

    static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
}

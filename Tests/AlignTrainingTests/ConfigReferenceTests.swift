import XCTest
@testable import AlignTraining

/// The Markdown reference (`--help-config`, README) comes from the same declarations as
/// decoding, so it lists every key with its type, default and description.
final class ConfigReferenceTests: XCTestCase {
    /// Every key path of a schema, as the reference spells it (`data.train[].weight`).
    func allKeyPaths(_ schema: ConfigSectionSchema) -> [String] {
        var out: [String] = []
        let prefix = schema.name.isEmpty ? "" : schema.name + "."
        for field in schema.fields {
            out.append(prefix + field.key)
            if let sub = field.type.sectionSchema { out += allKeyPaths(sub) }
            if let item = field.type.itemSchema { out += allKeyPaths(item) }
        }
        return out
    }

    func testEveryFieldIsListedForEveryTrainer() {
        for trainer in [SFTConfig.schema, DPOConfig.schema, RMConfig.schema] {
            let markdown = RunConfig.referenceMarkdown(trainer: trainer)
            let paths = allKeyPaths(RunConfig.schema(trainer: trainer))
            XCTAssertGreaterThan(paths.count, 50)
            for path in paths {
                XCTAssertTrue(markdown.contains("| `\(path)` |"), "\(trainer.name): \(path) missing from the reference")
            }
            for section in ["Top level", "`model`", "`model.init`", "`data`", "`data.train[]`", "`optim`", "`lora`", "`\(trainer.name)`"] {
                XCTAssertTrue(markdown.contains("\n## \(section)"), "\(trainer.name): no section \(section)")
            }
            XCTAssertTrue(markdown.hasPrefix("# `align \(trainer.name)` configuration"))
        }
    }

    func testRowsShowTypeRangeDefaultAndDoc() {
        let markdown = RunConfig.referenceMarkdown(trainer: DPOConfig.schema)
        let rows = [
            "| `batch_size` | int ≥ 1 | `8` | Examples (or preference pairs) per micro-batch. |",
            "| `optim.learning_rate` | float > 0 | `2e-05` | Peak learning rate. |",
            "| `optim.max_grad_norm` | float > 0, or null | `1.0` | Clip the global gradient norm to this; null disables clipping. |",
            "| `data.eval_fraction` | float in (0, 0.5] | `null` | When `eval` is null: hold out this fraction of train (seeded) for evaluation. |",
            "| `output_dir` | path to a directory (created) | *required* | Directory for run.json, logs, checkpoints and the final model (created when the run starts). |",
            "| `dpo.beta` | float > 0 | `null` (0.1; 2.0 for simpo) | Inverse temperature β of the implicit reward. |",
            "| `optim.schedule` | `constant` \\| `linear` \\| `cosine` | `\"linear\"` | Decay after warmup (transformers' formulas); `linear` as TRL. |",
        ]
        for row in rows { XCTAssertTrue(markdown.contains(row), "missing row: \(row)") }
        XCTAssertTrue(markdown.contains("resolved against the directory of the\n  config file"))
    }
}

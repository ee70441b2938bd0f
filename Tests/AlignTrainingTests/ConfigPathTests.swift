import XCTest
@testable import AlignTraining

/// Path keys: relative paths resolve against the config file's directory (or, with `--set`,
/// the current directory), are stored absolute, and must point at what the key needs.
final class ConfigPathTests: XCTestCase {
    func testMissingDataFileNamesTheKeyLineAndTheRule() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"},
          "data": {
            "train": "data/missing.jsonl",
            "eval": "/nonexistent/eval.jsonl"
          },
          "output_dir": "out/run"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:4: data.train: file "data/missing.jsonl" does not exist (relative paths are resolved against the config file's directory)"#,
            #"run.json:5: data.eval: file "/nonexistent/eval.jsonl" does not exist"#,
        ])
    }

    func testRelativePathsResolveAgainstTheConfigDirectoryNotTheCurrentOne() throws {
        let elsewhere = try ConfigFixtures.temporaryDirectory(self)
        let config = try loadConfig(minimalSFT, currentDirectory: elsewhere)
        XCTAssertEqual(config.model.source, .path(ConfigFixtures.path("../llama-tiny.gguf")))
        XCTAssertEqual(config.data.train, [DataSource(path: ConfigFixtures.path("data/train.jsonl"))])
        XCTAssertEqual(config.outputDir.path, ConfigFixtures.path("out/run"))
        XCTAssertEqual(config.values.section("data").string("train"), ConfigFixtures.path("data/train.jsonl"))
    }

    func testSetPathsResolveAgainstTheCurrentDirectory() throws {
        let elsewhere = try ConfigFixtures.temporaryDirectory(self)
        XCTAssertEqual(configErrors(minimalSFT, overrides: ["data.eval=data/eval.jsonl"], currentDirectory: elsewhere), [
            #"--set data.eval=data/eval.jsonl: data.eval: file "data/eval.jsonl" does not exist (relative paths given with --set are resolved against the current directory)"#,
        ])
        try Data("{\"prompt\": \"a\", \"completion\": \"b\"}\n".utf8).write(to: elsewhere.appendingPathComponent("my-eval.jsonl"))
        let config = try loadConfig(minimalSFT, overrides: ["data.eval=my-eval.jsonl", "output_dir=runs/a"], currentDirectory: elsewhere)
        XCTAssertEqual(config.data.eval, elsewhere.appendingPathComponent("my-eval.jsonl").standardizedFileURL.path)
        XCTAssertEqual(config.outputDir.path, elsewhere.appendingPathComponent("runs/a").standardizedFileURL.path)
        XCTAssertEqual(config.data.train, [DataSource(path: ConfigFixtures.path("data/train.jsonl"))], "file paths still resolve against the file")
    }

    func testWhatAPathMustBe() {
        let text = """
        {
          "model": {"path": "data", "reference": "data/train.jsonl"},
          "data": {"train": "data"},
          "output_dir": "data/train.jsonl"
        }
        """
        XCTAssertEqual(configErrors(text), [
            #"run.json:2: model.path: directory "data" has no config.json (expected a Hugging Face model directory or a .gguf file) (relative paths are resolved against the config file's directory)"#,
            #"run.json:2: model.reference: "data/train.jsonl" is neither a .gguf file nor a model directory (relative paths are resolved against the config file's directory)"#,
            #"run.json:3: data.train: "data" is a directory, expected a file (relative paths are resolved against the config file's directory)"#,
            #"run.json:4: output_dir: "data/train.jsonl" is an existing file, expected a directory (relative paths are resolved against the config file's directory)"#,
        ])
    }

    func testLoadingAFileNamesItAsGiven() throws {
        let url = ConfigFixtures.directory.appendingPathComponent("sft.json")
        let config = try RunConfig.load(file: url, trainer: SFTConfig.schema)
        XCTAssertEqual(config.configFile, url.path)
        XCTAssertEqual(config.data.eval, ConfigFixtures.path("data/eval.jsonl"))

        let missing = ConfigFixtures.directory.appendingPathComponent("nope.json")
        XCTAssertThrowsError(try RunConfig.load(file: missing, trainer: SFTConfig.schema)) { error in
            XCTAssertEqual("\(error)", "\(missing.path): config file does not exist")
        }
    }

    func testRelativeConfigFileIsNamedAsGivenAndResolvedFromTheCurrentDirectory() throws {
        let dir = try ConfigFixtures.temporaryDirectory(self)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("configs/data"), withIntermediateDirectories: true)
        try Data("{}\n".utf8).write(to: dir.appendingPathComponent("configs/data/train.jsonl"))
        try Data("{\n  \"model\": {\"path\": \"model.gguf\"},\n  \"data\": {\"train\": \"data/train.jsonl\"},\n  \"output_dir\": \"out\"\n}\n".utf8)
            .write(to: dir.appendingPathComponent("configs/run.json"))
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir.path))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        XCTAssertThrowsError(try RunConfig.load(file: URL(fileURLWithPath: "configs/run.json"), trainer: SFTConfig.schema)) { error in
            XCTAssertEqual("\(error)", #"configs/run.json:2: model.path: model "model.gguf" does not exist (relative paths are resolved against the config file's directory)"#)
        }
        try Data().write(to: dir.appendingPathComponent("configs/model.gguf"))
        let config = try RunConfig.load(file: URL(fileURLWithPath: "configs/run.json"), trainer: SFTConfig.schema)
        XCTAssertEqual(config.configFile, "configs/run.json")
        XCTAssertEqual(URL(fileURLWithPath: config.data.train[0].path).resolvingSymlinksInPath().path,
                       dir.appendingPathComponent("configs/data/train.jsonl").resolvingSymlinksInPath().path)
        XCTAssertEqual(config.outputDir.resolvingSymlinksInPath().path, dir.appendingPathComponent("configs/out").resolvingSymlinksInPath().path)
    }
}

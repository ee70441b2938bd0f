import AlignData
import AlignNN
import AlignTensor
import AlignTraining
import ArgumentParser
import Foundation
import XCTest
@testable import align

/// What the commands refuse before they run, and how failures reach the user: each test is one
/// class of problem from the reliability review, with its cases.
final class CLIReliabilityTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["in.jsonl", "prompts.jsonl", "strong.gguf", "weak.gguf", "rm.gguf", "model.gguf", "corpus.txt"] {
            try Data("{}\n".utf8).write(to: dir.appendingPathComponent(name))
        }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("model"), withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors", "tokenizer.json"] {
            try Data("{}".utf8).write(to: dir.appendingPathComponent("model/\(name)"))
        }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.jsonl").path, withDestinationPath: dir.appendingPathComponent("in.jsonl").path)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// The message a command line is refused with before it runs, or nil when it is accepted.
    func refusal(_ arguments: [String]) -> String? {
        do {
            _ = try Align.parseAsRoot(arguments)
            return nil
        } catch {
            return ExitStatus.describe(error) ?? Align.message(for: error)
        }
    }

    func assertRefused(_ arguments: [String], _ expected: String..., file: StaticString = #filePath, line: UInt = #line) {
        guard let message = refusal(arguments) else { return XCTFail("accepted: \(arguments)", file: file, line: line) }
        for e in expected { XCTAssertTrue(message.contains(e), "\(message)\n(expected \"\(e)\")", file: file, line: line) }
        XCTAssertFalse(message.contains("Missing value"), message, file: file, line: line)
    }

    /// A tokenizer of a kind align does not load (a WordPiece tokenizer.json, a GGUF SentencePiece
    /// vocabulary without scores) is refused (exit 2) with one line naming the kind and the file.
    func testAnUnsupportedTokenizerKindIsRefusedInOneLine() throws {
        try Data(#"{"model": {"type": "WordPiece", "vocab": {"a": 0}}}"#.utf8).write(to: dir.appendingPathComponent("wp.json"))
        var writer = GGUFWriter()
        writer.set("general.architecture", "llama")
        writer.set("tokenizer.ggml.model", "llama")
        writer.set("tokenizer.ggml.tokens", strings: ["<unk>", "<s>", "</s>", "a"])
        try writer.write(to: dir.appendingPathComponent("noscores.gguf"))
        for (file, expected) in [("wp.json", "wp.json: model.type \"WordPiece\" is not supported"),
                                 ("noscores.gguf", "noscores.gguf: metadata 'tokenizer.ggml.scores' is missing")] {
            var command = try Align.parseAsRoot(["tokenizer", "bench", "--tokenizer", path(file), "--input", path("corpus.txt")])
            XCTAssertThrowsError(try command.run()) { error in
                XCTAssertEqual(ExitStatus.code(for: error), ExitStatus.refused)
                let message = ExitStatus.describe(error) ?? Align.message(for: error)
                XCTAssertTrue(message.contains(expected), message)
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
    }

    func testSentencePieceTrainingRefusesTheByteLevelOptions() {
        let base = ["tokenizer", "train", "--kind", "sentencepiece", "--input", path("corpus.txt"), "--output", path("sp")]
        assertRefused(base + ["--vocab-size", "1000", "--special", "<x>"], "--special does not apply to --kind sentencepiece")
        assertRefused(base + ["--vocab-size", "1000", "--pre-tokenizer", "llama3"], "--pre-tokenizer does not apply")
        assertRefused(base + ["--vocab-size", "259"], "--vocab-size 259 must exceed 3 special + 256 byte tokens")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("sp")))
    }

    func testTokenizerExtendSourcesOfTokensAreChecked() {
        let base = ["tokenizer", "extend", "--tokenizer", path("model/tokenizer.json"), "--output", path("out")]
        assertRefused(base, "give at least one --add token, an --add-file or --mine-characters")
        assertRefused(base + ["--mine-characters", "10"], "--mine-characters needs --corpus FILE")
        assertRefused(base + ["--add", "x", "--corpus", path("corpus.txt")], "--corpus is only read with --mine-characters")
        assertRefused(base + ["--mine-characters", "0", "--corpus", path("corpus.txt")], "--mine-characters must be in 1…1000000")
        assertRefused(base + ["--add-file", path("missing.txt")], "--add-file", "no such file")
        assertRefused(base + ["--add", "x", "--held-out", path("missing.txt")], "--held-out", "no such file")
        XCTAssertNil(refusal(base + ["--mine-characters", "10", "--corpus", path("corpus.txt"), "--held-out", path("corpus.txt")]))
    }

    /// `tokenizer extend --model`: the model's embedding rows belong to its own tokenizer's ids, so
    /// a --tokenizer that reads them differently is refused, and a reward model (whose score head
    /// the extension would drop) too; nothing is written.
    func testTokenizerExtendRefusesAModelOfAnotherTokenizerAndARewardModel() throws {
        let words = (0..<30).flatMap { _ in ["name a red thing", "a blue cat", "the green dog", "a sun thing"] }
        var mine = try Tokenizer.train(on: words, options: BPETrainingOptions(vocabSize: 280, specialTokens: ["<|im_end|>"]))
        mine.eosToken = "<|im_end|>"
        var theirs = try Tokenizer.train(on: words, options: BPETrainingOptions(vocabSize: 280, specialTokens: ["<|endoftext|>"]))
        theirs.eosToken = "<|endoftext|>"
        var rng = RandomGenerator(seed: 2)
        let config = try LlamaConfig.decode(json: Data(#"{"vocab_size": \#(mine.vocabSize), "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 32}"#.utf8))
        let lm = LoadedModel(family: .llama, model: LlamaModel(config, rng: &rng), source: dir)
        try ModelStore.save(lm, tokenizer: mine, to: dir.appendingPathComponent("lm"))
        try theirs.save(to: dir.appendingPathComponent("theirs"))
        try RewardModelStore.save(RewardModel(backbone: lm.model, head: RewardModel.makeHead(hiddenSize: 16, heads: 1, rng: &rng), padID: 0),
                                  family: .llama, tokenizer: mine, to: dir.appendingPathComponent("rm"))
        func failure(_ arguments: [String]) -> String? {
            do {
                var command = try Align.parseAsRoot(arguments)
                try command.run()
                return nil
            } catch {
                XCTAssertEqual(ExitStatus.code(for: error), ExitStatus.refused, "\(error)")
                return ExitStatus.describe(error) ?? Align.message(for: error)
            }
        }
        let out = path("extended")
        let other = failure(["tokenizer", "extend", "--tokenizer", path("theirs/tokenizer.json"), "--model", path("lm"), "--add", "zebra", "--output", out])
        XCTAssertTrue(other?.contains("its tokenizer is not --tokenizer's: token id") == true, other ?? "accepted")
        let reward = failure(["tokenizer", "extend", "--tokenizer", path("rm"), "--model", path("rm"), "--add", "zebra", "--output", out])
        XCTAssertTrue(reward?.contains("is a reward model (it has a score head)") == true, reward ?? "accepted")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "wrote --output")
        // the model's own tokenizer extends
        XCTAssertNil(failure(["tokenizer", "extend", "--tokenizer", path("lm"), "--model", path("lm"), "--add", "zebra", "--output", out]))
        XCTAssertEqual(try ModelStore.loadTokenizer(out).vocabSize, mine.vocabSize + 1)
    }

    // MARK: lost or overwritten data

    func testAnOutputThatIsAnInputOrAnotherOutputIsRefused() throws {
        let input = path("in.jsonl")
        // through a symbolic link and through `..`
        assertRefused(["rm", "score", "--model", path("model"), "--input", input, "--output", path("link.jsonl")],
                      "--output", "is the input --input")
        assertRefused(["rm", "score", "--model", path("model"), "--input", input, "--output", path("sub/../in.jsonl")], "is the input --input")
        assertRefused(["synth", "--prompts", path("prompts.jsonl"), "--strong", path("strong.gguf"), "--weak", path("weak.gguf"),
                       "--reward-model", path("rm.gguf"), "--output", path("prompts.jsonl")], "--output", "--prompts")
        assertRefused(["clean", "--input", input, "--model", path("model.gguf"), "--output", path("out.jsonl"), "--dropped", input],
                      "--dropped", "--input")
        assertRefused(["clean", "--input", input, "--model", path("model.gguf"), "--output", path("out.jsonl"), "--dropped", path("sub/../out.jsonl")],
                      "--output", "--dropped", "name the same file")
        assertRefused(["logprobs", "--model", path("model.gguf"), "--input", input, "--output", input], "is the input --input")
        assertRefused(["convert", "--from", path("model"), "--to", path("sub/../model")], "--to", "--from")
        assertRefused(["convert", "--from", path("model.gguf"), "--to", path("in.jsonl")], "existing file")
        assertRefused(["plot", path("c.svg"), "--out", path("./c.svg")], "--out", "is the input run")
        // a model directory: its tokenizer is not replaced, in place or by a new one
        assertRefused(["tokenizer", "extend", "--tokenizer", path("model"), "--add", "<x>", "--output", path("model")], "is the input --tokenizer")
        assertRefused(["tokenizer", "extend", "--tokenizer", path("model/tokenizer.json"), "--add", "<x>", "--output", path("model")],
                      "would overwrite the input --tokenizer")
        assertRefused(["tokenizer", "train", "--input", path("corpus.txt"), "--vocab-size", "300", "--output", path("model")], "holds a model")
        // accepted: distinct files, and an output beside the input in its directory
        XCTAssertNil(refusal(["clean", "--input", input, "--model", path("model.gguf"), "--output", path("out.jsonl"), "--dropped", path("dropped.jsonl")]))
        XCTAssertNil(refusal(["tokenizer", "train", "--input", path("corpus.txt"), "--vocab-size", "300", "--output", dir.path]))
    }

    func testAFailedWriteToStandardOutputIsReported() throws {
        XCTAssertNil(StandardOutput.check())
        fflush(stdout)
        let saved = dup(1)
        let full = open("/dev/full", O_WRONLY)
        try XCTSkipIf(full < 0, "no /dev/full")
        dup2(full, 1)
        print(String(repeating: "x", count: 100))
        let error = StandardOutput.check()
        dup2(saved, 1)
        close(full)
        close(saved)
        clearerr(stdout)
        XCTAssertNotNil(error)
        XCTAssertTrue("\(error!)".contains("cannot write to standard output: No space left on device"), "\(error!)")
        XCTAssertEqual(ExitStatus.code(for: error!), 1)
    }

    /// A run stopped by an anomaly (a KL or reward spike past its limit) failed at run time: exit
    /// 1 as a diverged loss, not 2, which is for refused input.
    func testAnAnomalyStopIsARunTimeFailure() {
        let anomaly = TrainingAnomalyError(step: 4, reason: "KL spike (objective/kl 3 > ppo.max_kl 1)", lastCheckpoint: nil)
        XCTAssertEqual(ExitStatus.code(for: anomaly), ExitStatus.failed)
        XCTAssertEqual(ExitStatus.code(for: NonFiniteLossError(step: 4, value: .nan, lastCheckpoint: nil)), ExitStatus.failed)
        XCTAssertEqual(ExitStatus.code(for: ConfigError([])), ExitStatus.refused)
    }

    // MARK: errors that come too late or say too little

    func testFoundationErrorsBecomeOneLineNamingThePath() throws {
        // a directory given as a file
        do {
            _ = try Data(contentsOf: dir.appendingPathComponent("sub"))
            XCTFail("read a directory")
        } catch {
            XCTAssertEqual(ExitStatus.describe(error), "\(path("sub")): is a directory, not a file")
            XCTAssertEqual(ExitStatus.code(for: error), 2)
        }
        // an existing file where a directory is created
        do {
            try FileManager.default.createDirectory(atPath: path("in.jsonl"), withIntermediateDirectories: true)
            XCTFail("created a directory over a file")
        } catch {
            let text = ExitStatus.describe(error) ?? ""
            XCTAssertTrue(text.hasPrefix(path("in.jsonl")) && !text.contains("Domain"), text)
        }
        // NaN reaching JSON output
        do {
            _ = try JSONSerialization.data(withJSONObject: ["loss": Double.nan])
            XCTFail("wrote NaN as JSON")
        } catch {
            let text = ExitStatus.describe(error) ?? ""
            XCTAssertTrue(text.contains("not a finite number"), text)
            XCTAssertEqual(ExitStatus.code(for: error), 1)
        }
        // invalid UTF-8 in a text corpus: the file and line
        var bytes = Array("good line\nstill good\nbad ".utf8)
        bytes.append(0xFF)
        try Data(bytes).write(to: dir.appendingPathComponent("bad.txt"))
        XCTAssertThrowsError(try FileErrors.readText(path("bad.txt"))) { error in
            XCTAssertEqual("\(error)", "\(path("bad.txt")):3: not valid UTF-8 text (byte 5 of the line)")
        }
        XCTAssertThrowsError(try FileErrors.readText(path("sub"))) { error in
            XCTAssertEqual("\(error)", "\(path("sub")): is a directory, not a file")
        }
    }

    /// `align eval --task ifeval` reads and checks every record (ids, kwargs and their types)
    /// before it loads the model, and names each bad line.
    func testIFEvalRecordsAreCheckedBeforeTheModelLoads() throws {
        try """
        {"key": 1, "prompt": "a", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}
        {"key": 2, "prompt": "b", "instruction_id_list": ["length_constraints:number_words"], "kwargs": [{"num_words": "ten", "relation": "at least"}]}
        {"key": 3, "prompt": "c", "instruction_id_list": ["detectable_format:title", "startend:quotation"], "kwargs": [{}]}
        not json
        """.write(to: dir.appendingPathComponent("ifeval.jsonl"), atomically: true, encoding: .utf8)
        var command = try Align.parseAsRoot(["eval", "--task", "ifeval", "--model", path("model"), "--input", path("ifeval.jsonl")])
        XCTAssertThrowsError(try command.run()) { error in
            XCTAssertEqual(ExitStatus.code(for: error), ExitStatus.refused)
            let message = ExitStatus.describe(error) ?? Align.message(for: error)
            XCTAssertEqual(message.split(separator: "\n").map(String.init), [
                "\(path("ifeval.jsonl")):2: instruction 0 (length_constraints:number_words): kwargs[0].num_words: must be an integer, got a string",
                "\(path("ifeval.jsonl")):3: \"kwargs\" has 1 entries for 2 instructions (one object per instruction)",
                "\(path("ifeval.jsonl")):4: not an IFEval record (an object with \"prompt\", \"instruction_id_list\" and \"kwargs\"): The given data was not valid JSON.",
            ], message)
        }
        assertRefused(["eval", "--task", "ifeval", "--model", path("model"), "--input", path("ifeval.jsonl"), "--max-new-tokens", "0"], "--max-new-tokens and --batch-size must be ≥ 1")
    }

    func testEveryBadJSONLLineIsReported() throws {
        try "{\"prompt\": \"a\"}\nnot json\n{\"prompt\": 3}\n\n{\"prompt\": \"  \"}\n".write(to: dir.appendingPathComponent("p.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JSONLines.read(path("p.jsonl")) { obj -> String in
            guard let p = obj["prompt"] as? String else { throw JSONLines.Problem("expected a string field \"prompt\"") }
            guard !p.trimmingCharacters(in: .whitespaces).isEmpty else { throw JSONLines.Problem("\"prompt\" is empty") }
            return p
        }) { error in
            XCTAssertEqual("\(error)".split(separator: "\n"), [
                "\(path("p.jsonl")):2: not a JSON object",
                "\(path("p.jsonl")):3: expected a string field \"prompt\"",
                "\(path("p.jsonl")):5: \"prompt\" is empty",
            ])
        }
    }

    func testNegativeNumbersAreRangeErrorsNotMissingValues() {
        let generate = ["generate", "--model", path("model.gguf"), "--prompt", "hi"]
        assertRefused(generate + ["--temperature", "-1"], "temperature")
        assertRefused(generate + ["--max-new-tokens", "-5"], "--max-new-tokens -5: must be ≥ 1")
        assertRefused(generate + ["--top-k", "-3"], "top-k")
        assertRefused(generate + ["--seed", "-1"], "'-1'", "--seed")
        assertRefused(["eval", "--model", path("model.gguf"), "--input", path("in.jsonl"), "--show", "-1"], "--show -1: must be ≥ 0")
        // a negative value where one is meaningful is accepted
        XCTAssertNil(refusal(["clean", "--input", path("in.jsonl"), "--model", path("model.gguf"), "--output", path("o.jsonl"), "--min-margin", "-0.5"]))
    }

    func testMeaninglessSettingsAreRefused() throws {
        assertRefused(["eval", "--model", path("model.gguf"), "--input", path("in.jsonl"), "--task", "preference",
                       "--reference", path("model.gguf"), "--beta", "0"], "--beta 0", "must be > 0")
        assertRefused(["eval", "--model", path("model.gguf"), "--input", path("in.jsonl"), "--task", "preference",
                       "--reference", path("model.gguf"), "--beta", "-0.1"], "--beta -0.1")
        assertRefused(["generate", "--model", path("model.gguf"), "--prompt", "hi", "--system", "be brief"], "--system", "--chat")
        XCTAssertNil(refusal(["generate", "--model", path("model.gguf"), "--prompt", "hi", "--system", "be brief", "--chat"]))
        var options = try TrainOptions.parse(["--config", path("run.json"), "--resume", "--set", "resume_from=\(path("ckpt"))"])
        XCTAssertThrowsError(try options.load(trainer: SFTConfig.schema)) { error in
            XCTAssertTrue("\(error)".contains("--resume") && "\(error)".contains("resume_from="), "\(error)")
        }
        options = try TrainOptions.parse(["--config", path("run.json"), "--resume", "--set", "resume=latest"])
        XCTAssertThrowsError(try options.load(trainer: SFTConfig.schema)) { error in
            XCTAssertTrue("\(error)".contains("--resume"), "\(error)")
        }
    }

    /// A model chat template the Jinja engine cannot render: one line naming the construct, exit 2.
    func testAnUnsupportedChatTemplateIsRefusedNamingTheConstruct() throws {
        var tok = try Tokenizer.train(on: ["hello world", "user assistant"], options: BPETrainingOptions(vocabSize: 270))
        for (source, construct) in [("{% for m in messages %}{% include 'turn.jinja' %}{% endfor %}", "include"),
                                    ("{{ messages | frobnicate }}", "frobnicate"),
                                    ("{% for m in messages recursive %}{{ loop(m.children) }}{% endfor %}", "recursive")] {
            tok.chatTemplate = source
            do {
                _ = try promptIDs(["hi"], tokenizer: tok, chat: true)
                XCTFail("\(source): accepted")
            } catch {
                let message = ExitStatus.describe(error) ?? Align.message(for: error)
                XCTAssertEqual(ExitStatus.code(for: error), ExitStatus.refused, message)
                XCTAssertTrue(message.contains(construct), message)
                XCTAssertTrue(message.hasPrefix("chat template line 1, column "), message)
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
    }

    func testTokenizerExtendHelpNamesOnlyItsOptions() {
        let help = TokenizerCommand.Extend.helpMessage()
        XCTAssertFalse(help.contains("--model-output"), help)
        XCTAssertTrue(help.contains("--model"), help)
    }
}

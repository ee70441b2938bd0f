import AlignData
import Foundation
import XCTest

/// Reading dataset files: every format, layout detection, file:line errors, skipInvalid.
final class DatasetReaderTests: XCTestCase {
    typealias S = DatasetTestSupport

    func testReadsEveryFormat() throws {
        let text = try S.read("text.jsonl")
        XCTAssertEqual(text.format, .text)
        XCTAssertEqual(text.records.count, 3)
        XCTAssertEqual(text.lines, [1, 2, 4], "blank lines are skipped but counted")
        XCTAssertEqual(text.records[1], .text("A bird in the hand is worth two in the bush."))

        let pc = try S.read("prompt_completion.jsonl")
        XCTAssertEqual(pc.format, .promptCompletion)
        XCTAssertEqual(pc.records[0], .promptCompletion(prompt: .text("The capital of France is"), completion: .text(" Paris.")))

        let pcChat = try S.read("prompt_completion_chat.jsonl")
        XCTAssertEqual(pcChat.format, .promptCompletion)
        XCTAssertEqual(pcChat.records[0], .promptCompletion(prompt: .conversation([.user("What colour is the sky?")]),
                                                            completion: .conversation([.assistant("The sky is blue.")])))

        let alpaca = try S.read("alpaca.json")
        XCTAssertEqual(alpaca.format, .alpaca)
        XCTAssertEqual(alpaca.lines, [2, 3, 6, 7])
        XCTAssertEqual(alpaca.records[1], .alpaca(instruction: "Translate to French.", input: "The cat", output: "Le chat."))
        XCTAssertEqual(alpaca.records[2], .alpaca(instruction: "Say hello.", input: "", output: "Hello."))
        XCTAssertEqual(alpaca.records[3], .alpaca(instruction: "Count to three.", input: "", output: "One, two, three."))

        let messages = try S.read("messages.jsonl")
        XCTAssertEqual(messages.format, .messages)
        XCTAssertEqual(messages.records[0], .messages([.user("Hi there"), .assistant("Hello! How can I help?")]))

        let pref = try S.read("preference.jsonl")
        XCTAssertEqual(pref.format, .preference)
        XCTAssertEqual(pref.records[0], .preference(PreferenceRecord(prompt: .text("The sky is"), chosen: .text(" blue."),
                                                                     rejected: .text(" green."), margin: 1.5)))
        XCTAssertEqual(pref.records[1], .preference(PreferenceRecord(prompt: .text("Two plus two is"), chosen: .text(" four."),
                                                                     rejected: .text(" five."), margin: nil)))

        let prefChat = try S.read("preference_chat.json")
        XCTAssertEqual(prefChat.format, .preference)
        XCTAssertEqual(prefChat.lines, [2, 5])
        XCTAssertEqual(prefChat.records[0], .preference(PreferenceRecord(prompt: .conversation([.user("What colour is the sky?")]),
                                                                         chosen: .conversation([.assistant("Blue.")]),
                                                                         rejected: .conversation([.assistant("Green.")]))))
        // element 1 has an implicit prompt
        XCTAssertEqual(prefChat.records[1], .preference(PreferenceRecord(prompt: .conversation([.user("Two plus two?")]),
                                                                         chosen: .conversation([.assistant("Four.")]),
                                                                         rejected: .conversation([.assistant("Five.")]),
                                                                         margin: 2, implicitPrompt: true)))
    }

    func testExplicitFormatAndLayoutsAgree() throws {
        let lines = """
        {"prompt": "a", "completion": "b"}\r
        {"prompt": "c", "completion": "d"}
        """
        let array = "\u{FEFF}[{\"prompt\": \"a\", \"completion\": \"b\"},\n {\"prompt\": \"c\", \"completion\": \"d\"}]\n"
        let a = try S.parse(lines, format: .promptCompletion)
        let b = try S.parse(array, source: "train.json")
        XCTAssertEqual(a.records, b.records)
        XCTAssertEqual(a.lines, [1, 2])
        XCTAssertEqual(b.lines, [1, 2])
    }

    func testImplicitPromptExtraction() throws {
        let file = try S.read("preference_implicit.jsonl")
        XCTAssertEqual(file.records[0], .preference(PreferenceRecord(prompt: .text("The sky is"), chosen: .text(" blue."),
                                                                     rejected: .text(" green."), implicitPrompt: true)),
                       "the space before the first difference goes to the responses (TRL's extract_prompt)")
        XCTAssertEqual(file.records[1], .preference(PreferenceRecord(
            prompt: .conversation([.system("Be kind."), .user("Hi")]),
            chosen: .conversation([.assistant("Hello, friend!")]),
            rejected: .conversation([.assistant("Go away.")]), implicitPrompt: true)))

        assertDatasetError("p.jsonl:1: \"chosen\" and \"rejected\" share no prompt (their first messages differ) and there is no \"prompt\"") {
            try S.parse(#"{"chosen": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "rejected": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "b"}]}"#,
                        source: "p.jsonl")
        }
    }

    func testBrokenJSONLineNamesFileAndLine() throws {
        assertDatasetError("broken.jsonl:2: not valid JSON: unexpected end of JSON inside an object (column 34)") {
            try DatasetFile.read(URL(fileURLWithPath: "broken.jsonl", relativeTo: S.url("broken.jsonl").deletingLastPathComponent()))
        }
        assertDatasetError("train.jsonl:5: not valid JSON: ", prefix: true) {
            try S.parse("{\"text\": \"a\"}\n{\"text\": \"b\"}\n\n{\"text\": \"c\"}\n{\"text\": \"d\",}\n")
        }
    }

    func testMissingFieldNamesLine() throws {
        var lines = (1 ... 16).map { #"{"prompt": "p\#($0)", "completion": "c\#($0)"}"# }
        lines.append(#"{"prompt": "p17"}"#)
        assertDatasetError("train.jsonl:17: missing \"completion\"") { try S.parse(lines.joined(separator: "\n")) }
        // auto: every record must have the first record's format
        assertDatasetError("train.jsonl:3: missing \"prompt\"") {
            try S.parse(#"{"prompt": "a", "completion": "b"}"# + "\n\n" + #"{"text": "c"}"#)
        }
        assertDatasetError("m.jsonl:1: \"messages\"[1]: missing \"content\"") {
            try S.parse(#"{"messages": [{"role": "user", "content": "a"}, {"role": "assistant"}]}"#, source: "m.jsonl")
        }
    }

    func testWrongTypeNamesLine() throws {
        assertDatasetError("train.jsonl:2: \"completion\" must be a string or a list of messages, found an integer") {
            try S.parse(#"{"prompt": "a", "completion": "b"}"# + "\n" + #"{"prompt": "a", "completion": 3}"#)
        }
        assertDatasetError("train.jsonl:1: \"prompt\" and \"completion\" must both be strings or both be message lists") {
            try S.parse(#"{"prompt": "a", "completion": [{"role": "assistant", "content": "b"}]}"#)
        }
        assertDatasetError("train.jsonl:1: \"margin\" must be a number, found a string") {
            try S.parse(#"{"prompt": "a", "chosen": "b", "rejected": "c", "margin": "1"}"#)
        }
        assertDatasetError("train.json:1: element 0: expected a JSON object, found an array") { try S.parse("[[1, 2]]", source: "train.json") }
        assertDatasetError("train.jsonl:2: expected a JSON object, found a string") { try S.parse("{\"text\": \"a\"}\n\"b\"") }
    }

    func testConversationChecks() throws {
        assertDatasetError("chat.jsonl:3: \"messages\" has no assistant turn") {
            try S.parse("""
            {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
            {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
            {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "a"}]}
            """, source: "chat.jsonl")
        }
        assertDatasetError("chat.jsonl:1: \"messages\"[2]: role \"assistant\" follows \"assistant\" (user and assistant turns must alternate)") {
            try S.parse(#"{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "assistant", "content": "c"}]}"#,
                        source: "chat.jsonl")
        }
        assertDatasetError("chat.jsonl:1: \"messages\"[1]: unknown role \"bot\" (expected system, user or assistant)") {
            try S.parse(#"{"messages": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}]}"#, source: "chat.jsonl")
        }
        assertDatasetError("chat.jsonl:1: \"messages\"[0]: the conversation must start with a user turn (after an optional system message), found \"assistant\"") {
            try S.parse(#"{"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]}"#, source: "chat.jsonl")
        }
        assertDatasetError("pc.jsonl:1: \"completion\"[0]: a completion must start with an assistant turn, found \"user\"") {
            try S.parse(#"{"prompt": [{"role": "user", "content": "a"}], "completion": [{"role": "user", "content": "b"}]}"#, source: "pc.jsonl")
        }
        assertDatasetError("pc.jsonl:1: \"completion\"[1]: role \"assistant\" follows \"assistant\" (user and assistant turns must alternate)") {
            try S.parse(#"{"prompt": [{"role": "user", "content": "a"}], "completion": [{"role": "assistant", "content": "b"}, {"role": "assistant", "content": "c"}]}"#,
                        source: "pc.jsonl")
        }
    }

    func testPrettyPrintedObjectIsExplained() throws {
        assertDatasetError("one.json: the file is one JSON object spread over several lines; expected JSON Lines (one record per line) or a JSON array of records") {
            try S.parse("{\n  \"text\": \"a\"\n}\n", source: "one.json")
        }
    }

    func testEmptyFile() throws {
        let url = S.url("empty.jsonl")
        assertDatasetError("\(url.path): empty dataset: the file has no records") { try DatasetFile.read(url) }
        assertDatasetError("blank.jsonl: empty dataset: the file has no records") { try S.parse("\n  \n\r\n", source: "blank.jsonl") }
        assertDatasetError("a.json: empty dataset: the file has no records") { try S.parse("[ ]", source: "a.json") }
        assertDatasetError("x.jsonl: cannot read the dataset: ", prefix: true) {
            try DatasetFile.read(URL(fileURLWithPath: "x.jsonl", relativeTo: URL(fileURLWithPath: "/nonexistent-dir")))
        }
    }

    func testJSONArrayErrorsNameElementAndLine() throws {
        let text = """
        [
          {"prompt": "a", "chosen": "b", "rejected": "c"},
          {"prompt": "a", "chosen": "b", "rejected": "c"},
          {"prompt": "a",
           "rejected": "c"},
          {"prompt": "a", "chosen": "b", "rejected": "c"}
        ]
        """
        assertDatasetError("prefs.json:4: element 2: missing \"chosen\"") { try S.parse(text, source: "prefs.json") }
        assertDatasetError("prefs.json:3: element 1: not valid JSON: ", prefix: true) {
            try S.parse("[\n {\"text\": \"a\"},\n {\"text\": \"b\" \"c\"},\n {\"text\": \"d\"}\n]", source: "prefs.json")
        }
        assertDatasetError("prefs.json:2: element 1: not valid JSON: the top-level array is not closed") {
            try S.parse("[{\"text\": \"a\"},\n {\"text\": \"b\"}", source: "prefs.json")
        }
        assertDatasetError("prefs.json:2: not valid JSON: unexpected data after the top-level array") {
            try S.parse("[{\"text\": \"a\"}]\n{}", source: "prefs.json")
        }
        // a comma or bracket inside a string does not split elements
        let tricky = try S.parse(#"[{"text": "a, ] b \" }"}, {"text": "[c"}]"#, source: "t.json")
        XCTAssertEqual(tricky.records, [.text("a, ] b \" }"), .text("[c")])
    }

    func testInvalidUTF8NamesLine() throws {
        var data = Data(#"{"text": "ok"}"#.utf8) + Data([0x0A])
        data += Data(#"{"text": "bad "#.utf8) + Data([0xC3, 0x28]) + Data(#""}"#.utf8) + Data([0x0A])
        assertDatasetError("u.jsonl:2: not valid UTF-8 (byte 15 of the line)") { try DatasetFile.parse(data, source: "u.jsonl") }
        let skipped = try DatasetFile.parse(data, source: "u.jsonl", skipInvalid: true)
        XCTAssertEqual(skipped.records, [.text("ok")])
        XCTAssertEqual(skipped.skippedInvalid, ["invalid UTF-8": 1])
    }

    func testSkipInvalidCountsPerReason() throws {
        let text = """
        {"broken": 
        {"prompt": "p1", "completion": "c1"}
        {"prompt": "p2"}
        {"prompt": "p3", "completion": 3}
        ["not", "an", "object"]
        {"prompt": "p4", "completion": "c4"}
        {"prompt": "p5"}

        {"prompt": [{"role": "user", "content": "u"}], "completion": [{"role": "user", "content": "x"}]}
        """
        assertDatasetError("train.jsonl:1: not valid JSON: ", prefix: true) { try S.parse(text) }
        let file = try S.parse(text, skipInvalid: true)
        XCTAssertEqual(file.format, .promptCompletion)
        XCTAssertEqual(file.records.count, 2)
        XCTAssertEqual(file.lines, [2, 6])
        XCTAssertEqual(file.skippedInvalid, ["invalid JSON": 1, "missing field": 2, "wrong type": 1, "not an object": 1,
                                             "roles do not alternate": 1])
        XCTAssertEqual(file.skippedInvalidTotal, 6)

        // the first VALID record decides the format under auto
        let detected = try S.parse("{\"foo\": 1}\n{\"text\": \"a\"}\n{\"prompt\": \"x\", \"completion\": \"y\", \"text\": \"z\"}", skipInvalid: true)
        XCTAssertEqual(detected.format, .text)
        XCTAssertEqual(detected.records, [.text("a"), .text("z")])
        XCTAssertEqual(detected.skippedInvalid, ["unknown format": 1])

        assertDatasetError("bad.jsonl: empty dataset: no valid records (3 invalid skipped: 1 invalid JSON, 2 missing field)") {
            try S.parse("{\n{\"prompt\": \"a\"}\n{\"prompt\": \"b\"}", source: "bad.jsonl", format: .promptCompletion, skipInvalid: true)
        }
        assertDatasetError("x.jsonl:1: cannot tell the dataset format from the keys [\"foo\"]: ", prefix: true) {
            try S.parse("{\"foo\": 1}", source: "x.jsonl")
        }
    }
}

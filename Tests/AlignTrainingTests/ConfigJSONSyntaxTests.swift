import XCTest
@testable import AlignTraining

/// JSON syntax errors report line and column, and name the usual slips.
final class ConfigJSONSyntaxTests: XCTestCase {
    func syntaxError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        configErrors(text, file: file, line: line).joined(separator: "\n")
    }

    func testMissingComma() {
        let text = """
        {
          "model": {"path": "../llama-tiny.gguf"}
          "data": {"train": "data/train.jsonl"}
        }
        """
        XCTAssertEqual(syntaxError(text),
                       #"run.json:3:3: invalid JSON: expected ',' or '}' after the value of "model", got '"' (missing comma?)"#)
    }

    func testTrailingCommaIsReportedAtTheComma() {
        let text = """
        {
          "batch_size": 8,
          "seed": 1,
        }
        """
        XCTAssertEqual(syntaxError(text),
                       "run.json:3:12: invalid JSON: trailing comma before '}' (JSON does not allow one after the last member)")
        XCTAssertEqual(syntaxError("{\"a\": [1, 2,]}"),
                       "run.json:1:12: invalid JSON: trailing comma before ']' (JSON does not allow one after the last item)")
    }

    func testUsualSlips() {
        XCTAssertEqual(syntaxError("{\n  // comment\n}"), "run.json:2:3: invalid JSON: comments are not allowed in JSON")
        XCTAssertEqual(syntaxError("{\n  'seed': 1\n}"), "run.json:2:3: invalid JSON: keys must be in double quotes (\")")
        XCTAssertEqual(syntaxError("{\"shuffle\": True}"), "run.json:1:13: invalid JSON: True is not JSON; write true")
        XCTAssertEqual(syntaxError("{\"eval\": None}"), "run.json:1:10: invalid JSON: None is not JSON; write null")
        XCTAssertEqual(syntaxError("{\"lr\": .5}"), "run.json:1:8: invalid JSON: expected the value of \"lr\", got '.'")
        XCTAssertEqual(syntaxError("{\"lr\": 01}"), "run.json:1:8: invalid JSON: invalid number: leading zeros are not allowed")
        XCTAssertEqual(syntaxError("{\n  \"output_dir\": \"out\n}"),
                       #"run.json:2:17: invalid JSON: unterminated string (a string cannot span lines; write \n for a line break)"#)
        XCTAssertEqual(syntaxError(#"{"path": "C:\data"}"#),
                       #"run.json:1:13: invalid JSON: invalid escape \d in a string (a Windows path? write \\ or /)"#)
        XCTAssertEqual(syntaxError("{\"a\": 1} }"),
                       "run.json:1:10: invalid JSON: unexpected '}' after the end of the JSON value (a missing '[' or '{', or text after the closing brace?)")
        XCTAssertEqual(syntaxError(""), "run.json:1:1: invalid JSON: the text is empty; expected a JSON object")
        XCTAssertEqual(syntaxError("{\"a\": "), "run.json:1:7: invalid JSON: unexpected end of the text; expected the value of \"a\"")
    }

    func testColumnsCountCharactersNotBytes() {
        XCTAssertEqual(syntaxError("{\"é\": 1 \"x\": 2}"),
                       #"run.json:1:9: invalid JSON: expected ',' or '}' after the value of "é", got '"' (missing comma?)"#)
    }

    func testSetArgumentsAreStillCheckedWhenTheFileIsInvalid() {
        XCTAssertEqual(configErrors("{", overrides: ["optim.lr=1"]), [
            "run.json:1:2: invalid JSON: unexpected end of the text inside an object; expected a key or '}'",
            #"--set optim.lr=1: unknown key "optim.lr"; did you mean "optim.learning_rate"?"#,
        ])
    }

    func testReaderRecordsLinesAndDecodesEscapes() throws {
        let text = "{\n  \"a\": \"\\u00e9\\ud83d\\ude00\\t\",\n  \"b\": [\n    1.5e3,\n    -0\n  ]\n}"
        let node = try ConfigJSONReader.parse(text) { .file("x.json", line: $0) }
        guard case .object(let members) = node.kind else { return XCTFail() }
        XCTAssertEqual(members.map(\.key), ["a", "b"])
        XCTAssertEqual(members.map(\.keyOrigin), [.file("x.json", line: 2), .file("x.json", line: 3)])
        guard case .string(let s) = members[0].value.kind else { return XCTFail() }
        XCTAssertEqual(s, "é😀\t")
        guard case .array(let items) = members[1].value.kind else { return XCTFail() }
        XCTAssertEqual(items.map(\.origin), [.file("x.json", line: 4), .file("x.json", line: 5)])
    }
}

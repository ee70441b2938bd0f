import AlignData
import Foundation
import XCTest

/// Shared helpers of the Dataset* tests.
enum DatasetTestSupport {
    static let corpus = [
        "The cat sat on the mat. The dog sat on the log.",
        "The capital of France is Paris. The capital of Italy is Rome.",
        "Two plus two is four. Two plus three is five.",
        "The sky is blue. The grass is green. Hello! How can I help?",
        "What colour is the sky? Name a fruit. A pear. Hi there.",
        "### Instruction:\nSay hello.\n\n### Response:\nHello.",
        "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
    ]

    /// A small byte-level BPE trained here, with chatml special tokens, EOS `<|endoftext|>`
    /// and the chatml chat template.
    static let tokenizer: Tokenizer = {
        var t = try! Tokenizer.train(on: corpus + corpus,
                                     options: BPETrainingOptions(vocabSize: 380, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]))
        t.eosToken = "<|endoftext|>"
        t.chatTemplate = ChatTemplate.chatml.jinja
        return t
    }()

    static var eos: Int { tokenizer.eosTokenID! }

    static func url(_ name: String) -> URL { Fixtures.url("datasets/\(name)") }

    static func read(_ name: String, format: DatasetFormat = .auto, skipInvalid: Bool = false) throws -> DatasetFile {
        try DatasetFile.read(url(name), format: format, skipInvalid: skipInvalid)
    }

    static func parse(_ text: String, source: String = "train.jsonl", format: DatasetFormat = .auto,
                      skipInvalid: Bool = false) throws -> DatasetFile {
        try DatasetFile.parse(Data(text.utf8), source: source, format: format, skipInvalid: skipInvalid)
    }

    static func encode(_ s: String) -> [Int] { tokenizer.encode(s, addSpecialTokens: false) }
}

/// Asserts that `body` throws an `AlignDataError` whose description is `expected`
/// (or starts with it when `prefix` is true).
func assertDatasetError<T>(_ expected: String, prefix: Bool = false, file: StaticString = #filePath, line: UInt = #line,
                           _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected the error \(expected)", file: file, line: line)
    } catch let e as AlignDataError {
        if prefix {
            XCTAssertTrue(e.description.hasPrefix(expected), "\(e.description)\n  does not start with\n\(expected)", file: file, line: line)
        } else {
            XCTAssertEqual(e.description, expected, file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

import AlignData
import Foundation
import XCTest

/// Records → SFT examples and preference pairs: masks, templates, windows, truncation, reports.
final class DatasetTokenizationTests: XCTestCase {
    typealias S = DatasetTestSupport
    let tok = DatasetTestSupport.tokenizer

    private func masked(_ e: SFTExample) -> String {
        tok.decode(zip(e.ids, e.lossMask).filter(\.1).map(\.0))
    }

    private func memory(_ records: [DatasetRecord]) throws -> DatasetFile {
        try DatasetFile(records: records, source: "mem")
    }

    func testPromptCompletionStrings() throws {
        let ds = try S.read("prompt_completion.jsonl").sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 64))
        XCTAssertEqual(ds.examples.count, 3)
        let p = S.encode("The capital of France is"), c = S.encode(" Paris.") + [S.eos]
        XCTAssertEqual(ds.examples[0].ids, p + c)
        XCTAssertEqual(ds.examples[0].lossMask, Array(repeating: false, count: p.count) + Array(repeating: true, count: c.count))
        XCTAssertEqual(masked(ds.examples[0]), " Paris.<|endoftext|>")
        XCTAssertEqual(ds.examples[0].targetCount, c.count)
        XCTAssertEqual(ds.report.records, 3)
        XCTAssertEqual(ds.report.examples, 3)
        XCTAssertEqual(ds.report.truncated, 0)
        XCTAssertEqual(ds.report.droppedTotal, 0)
        XCTAssertEqual(ds.report.lossTokens, ds.examples.reduce(0) { $0 + $1.targetCount })

        // completion-only loss off: every token
        let all = try S.read("prompt_completion.jsonl").sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 64, completionOnlyLoss: false))
        XCTAssertEqual(all.examples[0].ids, p + c)
        XCTAssertTrue(all.examples[0].lossMask.allSatisfy { $0 })
    }

    func testConversationalPromptCompletionMasksOnlyTheCompletion() throws {
        let file = try S.read("prompt_completion_chat.jsonl")
        let ds = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 256))
        XCTAssertEqual(masked(ds.examples[0]), "The sky is blue.<|im_end|>")
        // the assistant turn inside the prompt is context, not loss
        XCTAssertEqual(masked(ds.examples[1]), "A pear.<|im_end|>")
        guard case .promptCompletion(.conversation(let p), .conversation(let c)) = file.records[1] else { return XCTFail() }
        let whole = try ChatTemplate.chatml.encode(p + c, with: tok)
        XCTAssertEqual(ds.examples[1].ids, whole.ids)
    }

    func testMessagesMaskIsTheAssistantMask() throws {
        let file = try S.read("messages.jsonl")
        let ds = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 256))
        for (k, record) in file.records.enumerated() {
            guard case .messages(let m) = record else { return XCTFail() }
            let enc = try ChatTemplate.chatml.encode(m, with: tok)
            XCTAssertEqual(ds.examples[k].ids, enc.ids)
            XCTAssertEqual(ds.examples[k].lossMask, enc.assistantMask)
        }
        XCTAssertEqual(masked(ds.examples[1]), "Rome.<|im_end|>Madrid.<|im_end|>")

        // an explicit template wins over the tokenizer's
        let plain = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 256, chatTemplate: .plain))
        XCTAssertEqual(tok.decode(plain.examples[0].ids), "Hi there\nHello! How can I help?<|endoftext|>")
        XCTAssertEqual(masked(plain.examples[0]), "Hello! How can I help?<|endoftext|>")
    }

    func testAlpacaUsesTheStanfordTemplate() throws {
        let ds = try S.read("alpaca.json").sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 256))
        XCTAssertEqual(tok.decode(ds.examples[1].ids), """
        Below is an instruction that describes a task, paired with an input that provides further context. \
        Write a response that appropriately completes the request.

        ### Instruction:
        Translate to French.

        ### Input:
        The cat

        ### Response:
        Le chat.<|endoftext|>
        """)
        XCTAssertEqual(masked(ds.examples[1]), "Le chat.<|endoftext|>")
        XCTAssertEqual(tok.decode(ds.examples[2].ids), """
        Below is an instruction that describes a task. Write a response that appropriately completes the request.

        ### Instruction:
        Say hello.

        ### Response:
        Hello.<|endoftext|>
        """)
        let bare = try S.read("alpaca.json").sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 256, alpacaPreamble: false))
        XCTAssertEqual(tok.decode(bare.examples[0].ids), "### Instruction:\nGive a synonym of happy.\n\n### Response:\nGlad.<|endoftext|>")
    }

    func testRawTextWindows() throws {
        let file = try S.read("text.jsonl")
        var stream: [Int] = []
        for case .text(let t) in file.records { stream += S.encode(t) + [S.eos] }
        XCTAssertGreaterThan(stream.count, 40)

        // default: no overlap, every token in exactly one window, the last partial window kept
        let plain = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 16))
        XCTAssertEqual(plain.examples.flatMap(\.ids), stream)
        XCTAssertEqual(plain.examples.count, (stream.count + 15) / 16)
        XCTAssertTrue(plain.examples.dropLast().allSatisfy { $0.ids.count == 16 })
        XCTAssertTrue(plain.examples.allSatisfy { $0.lossMask.allSatisfy { $0 } })
        XCTAssertEqual(plain.report.examples, plain.examples.count)
        XCTAssertEqual(plain.report.truncated, 0)

        // with overlap every token but the stream's first is a target exactly once
        for (maxLen, stride) in [(8, 3), (8, 7), (5, 1), (16, 10), (2, 1), (9, 8)] {
            let ds = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: maxLen, stride: stride))
            var counts = [Int](repeating: 0, count: stream.count)
            for (k, w) in ds.examples.enumerated() {
                let start = k * stride
                XCTAssertLessThanOrEqual(w.ids.count, maxLen)
                XCTAssertEqual(w.ids, Array(stream[start ..< start + w.ids.count]), "window \(k)")
                for t in 1 ..< w.ids.count where w.lossMask[t] { counts[start + t] += 1 }
            }
            XCTAssertEqual(counts[0], 0)
            XCTAssertEqual(Array(counts.dropFirst()), Array(repeating: 1, count: stream.count - 1), "max \(maxLen) stride \(stride)")
            XCTAssertEqual(ds.report.lossTokens, stream.count - 1)
            XCTAssertEqual(ds.examples.last?.ids.last, stream.last, "the last partial window is kept")
        }

        assertDatasetError("stride must be in 1…maxSeqLen (8), got 9") {
            try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 8, stride: 9))
        }
    }

    func testTruncationCutsThePromptFromTheChosenSide() throws {
        let prompt = "The cat sat on the mat. The dog sat on the log. Two plus two is"
        let p = S.encode(prompt), c = S.encode(" four.") + [S.eos]
        let file = try memory([.promptCompletion(prompt: .text(prompt), completion: .text(" four."))])
        XCTAssertGreaterThan(p.count, 6)

        let left = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: c.count + 3))
        XCTAssertEqual(left.examples[0].ids, Array(p.suffix(3)) + c)
        XCTAssertEqual(left.examples[0].lossMask, [false, false, false] + Array(repeating: true, count: c.count))
        XCTAssertEqual(left.report.truncated, 1)

        let right = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: c.count + 3, truncationSide: .right))
        XCTAssertEqual(right.examples[0].ids, Array(p.prefix(3)) + c)

        // the prompt alone is longer than maxSeqLen: reported as truncated, the response kept whole
        let maxLen = p.count - 1
        let short = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: maxLen))
        XCTAssertEqual(short.examples[0].ids, Array(p.suffix(maxLen - c.count)) + c)
        XCTAssertEqual(short.report.truncated, 1)
    }

    func testTruncationKeepsAtLeastOneResponseToken() throws {
        let completion = " The cat sat on the mat. The dog sat on the log."
        let p = S.encode("Hi"), c = S.encode(completion) + [S.eos]
        let file = try memory([.promptCompletion(prompt: .text("Hi"), completion: .text(completion))])
        for maxLen in [2, 3, 5] {
            let ds = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: maxLen))
            let e = ds.examples[0]
            // one prompt token stays so the first response token has a context
            XCTAssertEqual(e.ids, [p.last!] + c.prefix(maxLen - 1))
            XCTAssertEqual(e.lossMask, [false] + Array(repeating: true, count: maxLen - 1))
            XCTAssertGreaterThanOrEqual(e.targetCount, 1)
            XCTAssertEqual(ds.report.truncated, 1)
        }
        assertDatasetError("maxSeqLen must be at least 2 (one context and one learned token), got 1") {
            try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 1))
        }

        // conversations: the last assistant turn is the response, earlier turns are cut from the left
        let conv = try S.read("messages.jsonl")
        guard case .messages(let m) = conv.records[1] else { return XCTFail() }
        let full = try ChatTemplate.chatml.encode(m, with: tok)
        let ds = try conv.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 12))
        XCTAssertEqual(ds.examples[1].ids, Array(full.ids.suffix(12)))
        XCTAssertEqual(ds.examples[1].lossMask, Array(full.assistantMask.suffix(12)))
        XCTAssertTrue(masked(ds.examples[1]).hasSuffix("Madrid.<|im_end|>"))
        XCTAssertEqual(ds.report.truncated, 2)
    }

    func testDroppedRecordsAreCounted() throws {
        let file = try memory([.promptCompletion(prompt: .text("a"), completion: .text("")),
                               .promptCompletion(prompt: .text("b"), completion: .text(" c")),
                               .promptCompletion(prompt: .text("d"), completion: .text(""))])
        let ds = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 16))
        XCTAssertEqual(ds.examples.count, 1)
        XCTAssertEqual(ds.report.dropped, ["empty completion": 2])
        XCTAssertTrue(ds.report.description.contains("2 dropped (2 empty completion)"), ds.report.description)

        let chats = try memory([.messages([.user("hi")]), .messages([.user("a"), .assistant("b")]), .messages([.user("x"), .assistant("")])])
        let c = try chats.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 64))
        XCTAssertEqual(c.examples.count, 1)
        XCTAssertEqual(c.report.dropped, ["no assistant turn": 1, "empty completion": 1])

        let texts = try memory([.text(""), .text("The cat")])
        XCTAssertEqual(try texts.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 16)).report.dropped, ["empty text": 1])

        assertDatasetError("mem: no training examples: all 1 records were dropped (1 empty completion)") {
            try memory([.promptCompletion(prompt: .text("a"), completion: .text(""))])
                .sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 16))
        }
    }

    func testSkippedInvalidRecordsReachTheReport() throws {
        let file = try S.parse("{\"prompt\": \"a\", \"completion\": \" b\"}\n{oops}\n{\"prompt\": \"c\"}", skipInvalid: true)
        let ds = try file.sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 16))
        XCTAssertEqual(ds.report.skippedInvalid, ["invalid JSON": 1, "missing field": 1])
        XCTAssertEqual(ds.report.examples, 1)
    }

    func testConfigurationErrorsNameTheRecord() throws {
        var noTemplate = tok
        noTemplate.chatTemplate = nil
        let path = S.url("prompt_completion_chat.jsonl").path
        assertDatasetError("\(path):1: conversational records need a chat template", prefix: true) {
            try S.read("prompt_completion_chat.jsonl").sftExamples(tokenizer: noTemplate, options: TokenizationOptions(maxSeqLen: 64))
        }
        var noEOS = tok
        noEOS.eosToken = nil
        assertDatasetError("\(S.url("prompt_completion.jsonl").path):1: the tokenizer (trained) has no EOS token to end completions") {
            try S.read("prompt_completion.jsonl").sftExamples(tokenizer: noEOS, options: TokenizationOptions(maxSeqLen: 64))
        }
        assertDatasetError("\(S.url("preference.jsonl").path):1: preference records cannot be used for SFT", prefix: true) {
            try S.read("preference.jsonl").sftExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 64))
        }
        assertDatasetError("\(S.url("text.jsonl").path): text records are not preference pairs", prefix: true) {
            try S.read("text.jsonl").preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 64))
        }
    }

    // MARK: - Preference

    func testPreferenceStringsAndIdenticalPairs() throws {
        let ds = try S.read("preference.jsonl").preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 64))
        XCTAssertEqual(ds.examples.count, 2)
        XCTAssertEqual(ds.examples[0], PreferenceExample(prompt: S.encode("The sky is"), chosen: S.encode(" blue.") + [S.eos],
                                                         rejected: S.encode(" green.") + [S.eos], margin: 1.5))
        XCTAssertNil(ds.examples[1].margin)
        XCTAssertEqual(ds.report.identicalPairs, 1, "the ' mat.' / ' mat.' pair carries no signal")
        XCTAssertTrue(ds.report.description.contains("1 identical pairs skipped"), ds.report.description)

        // pairs that become identical through truncation are skipped too
        let file = try memory([.preference(PreferenceRecord(prompt: .text("Hi"), chosen: .text(" The cat sat on the mat."),
                                                            rejected: .text(" The cat sat on the log."))),
                               .preference(PreferenceRecord(prompt: .text("Hi"), chosen: .text(" blue"), rejected: .text(" green")))])
        let cut = try file.preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 4))
        XCTAssertEqual(cut.report.identicalPairs, 1)
        XCTAssertEqual(cut.examples.count, 1)
    }

    func testPreferenceTruncation() throws {
        let prompt = "The cat sat on the mat. The dog sat on the log. The sky is"
        let p = S.encode(prompt), c = S.encode(" blue.") + [S.eos], r = S.encode(" green. The grass is green.") + [S.eos]
        let file = try memory([.preference(PreferenceRecord(prompt: .text(prompt), chosen: .text(" blue."),
                                                            rejected: .text(" green. The grass is green.")))])
        let maxLen = r.count + 4
        let ds = try file.preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: maxLen))
        XCTAssertEqual(ds.examples[0], PreferenceExample(prompt: Array(p.suffix(4)), chosen: c, rejected: r))
        XCTAssertEqual(ds.report.truncated, 1)
        let right = try file.preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: maxLen, truncationSide: .right))
        XCTAssertEqual(right.examples[0].prompt, Array(p.prefix(4)))

        // the longer response alone does not fit: one prompt token, responses cut from the right, never empty
        let tiny = try file.preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 3))
        XCTAssertEqual(tiny.examples[0], PreferenceExample(prompt: [p.last!], chosen: Array(c.prefix(2)), rejected: Array(r.prefix(2))))
        for e in tiny.examples {
            XCTAssertLessThanOrEqual(e.prompt.count + max(e.chosen.count, e.rejected.count), 3)
            XCTAssertFalse(e.chosen.isEmpty)
            XCTAssertFalse(e.rejected.isEmpty)
        }
    }

    func testConversationalPreference() throws {
        let file = try S.read("preference_chat.json")
        let ds = try file.preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 128))
        XCTAssertEqual(tok.decode(ds.examples[0].prompt), "<|im_start|>user\nWhat colour is the sky?<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(tok.decode(ds.examples[0].chosen), "Blue.<|im_end|>\n")
        XCTAssertEqual(tok.decode(ds.examples[0].rejected), "Green.<|im_end|>\n")
        XCTAssertNil(ds.examples[0].margin)
        XCTAssertEqual(tok.decode(ds.examples[1].prompt), "<|im_start|>user\nTwo plus two?<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(tok.decode(ds.examples[1].chosen), "Four.<|im_end|>\n")
        XCTAssertEqual(ds.examples[1].margin, 2)

        // implicit prompts, with a system message, through LLaMA-3's template and tokenizer
        let llama = try TokenizerFixtures.loadForChat("llama3")
        let implicit = try S.read("preference_implicit.jsonl")
        let conv = try DatasetFile(records: [implicit.records[1]], source: "x")
        let l = try conv.preferenceExamples(tokenizer: llama, options: TokenizationOptions(maxSeqLen: 256, chatTemplate: .llama3))
        let full = try ChatTemplate.llama3.render([.system("Be kind."), .user("Hi"), .assistant("Hello, friend!")], bosToken: "<|begin_of_text|>")
        XCTAssertEqual(llama.decode(l.examples[0].prompt + l.examples[0].chosen), full.text)
        XCTAssertEqual(llama.decode(l.examples[0].chosen), "Hello, friend!<|eot_id|>")
        XCTAssertEqual(llama.decode(l.examples[0].rejected), "Go away.<|eot_id|>")

        let strings = try DatasetFile(records: [implicit.records[0]], source: "x")
            .preferenceExamples(tokenizer: tok, options: TokenizationOptions(maxSeqLen: 64))
        XCTAssertEqual(strings.examples[0].prompt, S.encode("The sky is"))
        XCTAssertEqual(strings.examples[0].chosen, S.encode(" blue.") + [S.eos])
    }
}

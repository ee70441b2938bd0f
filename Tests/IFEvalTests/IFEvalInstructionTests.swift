import Foundation
import IFEval
import XCTest

/// One test per instruction family, at the edges the reference's code decides on (expected
/// values read off its `check_following`; the golden agreement test checks the same against
/// the reference itself).
final class IFEvalInstructionTests: XCTestCase {
    func make(_ id: String, _ kwargs: [String: IFEvalKwarg] = [:]) throws -> IFEvalInstruction {
        try IFEvalInstruction(id: id, kwargs: kwargs)
    }

    func check(_ id: String, _ kwargs: [String: IFEvalKwarg] = [:], _ cases: [(String, Bool)], file: StaticString = #filePath, line: UInt = #line) throws {
        let ins = try make(id, kwargs)
        for (text, expected) in cases {
            XCTAssertEqual(ins.isFollowed(by: text), expected, "\(id) on \(text.debugDescription)", file: file, line: line)
        }
    }

    func testKeywordsAreCaseInsensitivePatternsFoundAnywhere() throws {
        try check("keywords:existence", ["keywords": .strings(["cat", "dog"])],
                  [("A Cat and a DOG.", true), ("concatenate dogma", true), ("only a cat", false)])
        try check("keywords:frequency", ["keyword": .string(" the "), "frequency": .integer(2), "relation": .string("at least")],
                  [("The cat and the dog", true), ("The cat", false), ("theme there", true)])
        try check("keywords:frequency", ["keyword": .string("a"), "frequency": .integer(3), "relation": .string("less than")],
                  [("a a", true), ("banana", false)])
    }

    func testForbiddenWordsAreWholeWords() throws {
        try check("keywords:forbidden_words", ["forbidden_words": .strings(["cat"])],
                  [("concatenate", true), ("the Cat sat", false), ("cat_x", true), ("cat's", false), ("cat\u{E9}", true)])
    }

    func testLetterFrequencyCountsTheLowercasedLetter() throws {
        try check("keywords:letter_frequency", ["letter": .string("A"), "let_frequency": .integer(3), "let_relation": .string("at least")],
                  [("Aaa", true), ("aa", false), ("\u{C0}Aa", false)])
        try check("keywords:letter_frequency", ["letter": .string("i"), "let_frequency": .integer(2), "let_relation": .string("at least")],
                  [("\u{130}i", true)])   // İ lowercases to i + combining dot, as in Python
    }

    func testWordsAreRunsOfPythonWordCharacters() throws {
        XCTAssertEqual(PythonText.countWords("don't stop-me now_ok 3.14"), 7)
        // NLTK's tokenizer runs on the `regex` engine: a combining mark, ‿ and a joiner stay in a word, ² does not
        XCTAssertEqual(PythonText.countWords("nai\u{308}ve caf\u{E9} a\u{203F}b x\u{200D}y 2\u{B2}"), 5)
        XCTAssertEqual(PythonText.countWords("\u{24B6}\u{2160}"), 1)
        XCTAssertEqual(PythonText.countWords(""), 0)
        try check("length_constraints:number_words", ["num_words": .integer(3), "relation": .string("less than")],
                  [("one two", true), ("one two three", false)])
    }

    func testSentencesUseThePunktSplitter() throws {
        try check("length_constraints:number_sentences", ["num_sentences": .integer(2), "relation": .string("at least")],
                  [("One. Two.", true), ("Only one sentence here", false)])
    }

    func testParagraphsAreSplitByThreeStars() throws {
        let ins = try make("length_constraints:number_paragraphs", ["num_paragraphs": .integer(2)])
        XCTAssertTrue(ins.isFollowed(by: "a\n***\nb"))
        XCTAssertTrue(ins.isFollowed(by: "***\na\n***\nb\n***"))   // empty first and last pieces do not count
        XCTAssertFalse(ins.isFollowed(by: "a\n***\n\n***\nb"))     // an empty middle piece fails
        XCTAssertFalse(ins.isFollowed(by: "a\n\nb"))
    }

    func testNthParagraphFirstWord() throws {
        let ins = try make("length_constraints:nth_paragraph_first_word",
                           ["num_paragraphs": .integer(2), "nth_paragraph": .integer(2), "first_word": .string("Then")])
        XCTAssertTrue(ins.isFollowed(by: "First.\n\n\"Then, we go."))
        XCTAssertFalse(ins.isFollowed(by: "First.\n\nThere we go."))
        XCTAssertFalse(ins.isFollowed(by: "First.\n\nThen.\n\nMore."))
        XCTAssertThrowsError(try make("length_constraints:nth_paragraph_first_word",
                                      ["num_paragraphs": .integer(2), "nth_paragraph": .integer(3), "first_word": .string("x")]))
    }

    func testPlaceholdersCloseOnTheirLine() throws {
        try check("detectable_content:number_placeholders", ["num_placeholders": .integer(2)],
                  [("[name] at [address]", true), ("[name]\n[addr\n]", false), ("[b\n] [[c]] x", false), ("[a] [b\n] [[c]]", true)])
    }

    func testPostscriptMarkers() throws {
        try check("detectable_content:postscript", ["postscript_marker": .string("P.S.")],
                  [("Hi.\nP.S. bye", true), ("Hi. p. s. bye", true), ("Hi. PS bye", false)])
        try check("detectable_content:postscript", ["postscript_marker": .string("P.P.S")],
                  [("x\nP.P.S y", true), ("x\nP.S. y", false)])
    }

    func testBulletsCountStarAndDashLines() throws {
        try check("detectable_format:number_bullet_lists", ["num_bullets": .integer(2)],
                  [("* a\n* b", true), ("* a\n- b\n", true), ("* a\n** b", false), ("* a\n* b\n* c", false), ("*a\r\n- b", true)])
    }

    func testConstrainedResponse() throws {
        try check("detectable_format:constrained_response", [:],
                  [("My answer is yes.", true), ("Well... My answer is maybe. Sure", true), ("my answer is yes.", false), ("My answer is yes", false)])
    }

    func testHighlightsCountSingleAndDoubleStars() throws {
        try check("detectable_format:number_highlighted_sections", ["num_highlights": .integer(2)],
                  [("*a* and *b*", true), ("**bold** and *it*", true), ("**bold**", false), ("* * and *a*", false), ("*a\nb*", false)])
    }

    func testSections() throws {
        try check("detectable_format:multiple_sections", ["section_spliter": .string("Section"), "num_sections": .integer(2)],
                  [("Section 1\nx\nSection 2\ny", true), ("Section 1 only", false), ("SECTION 1\nSECTION 2", false)])
    }

    func testJSONAsPythonLoadsIt() throws {
        let ins = try make("detectable_format:json_format")
        for (text, ok) in [("{\"a\": [1, 2.5e3, null]}", true), ("```json\n{\"a\": 1}\n```", true), ("[1, 2,]", false), ("NaN", true),
                           ("-Infinity", true), ("{'a': 1}", false), ("\"x\" y", false), ("01", false), ("1.", false),
                           ("{\"a\": \"\\ud800\"}", true), ("{\"a\": \"tab\there\"}", false), ("\u{FEFF}{}", false), ("", false),
                           (String(repeating: "1", count: 4301), false), (String(repeating: "1", count: 4300), true)] {
            XCTAssertEqual(ins.isFollowed(by: text), ok, text.debugDescription)
        }
    }

    func testTitleNeedsTextBetweenAngleBrackets() throws {
        try check("detectable_format:title", [:], [("<<Joy>>\nText", true), ("<< >>", false), ("<<>> and <<x>>", true), ("<<a\nb>>", false)])
    }

    func testTwoResponses() throws {
        try check("combination:two_responses", [:],
                  [("a\n******\nb", true), ("a ****** a", false), ("******\na\n******\nb\n******", true), ("a\n******\n\n******\nb", false),
                   ("caf\u{E9}\n******\ncafe\u{301}", true)])   // code points differ, as Python compares them
    }

    func testRepeatPromptAndEndAndQuotation() throws {
        try check("combination:repeat_prompt", ["prompt_to_repeat": .string("Say Hi. ")], [("  say hi. Hi!", true), ("Hi! say hi.", false)])
        try check("startend:end_checker", ["end_phrase": .string("Any other questions?")],
                  [("Text. any other questions?\"", true), ("Any other questions? Yes", false)])
        try check("startend:quotation", [:], [(" \"quoted\" ", true), ("\"", false), ("\"a", false)])
    }

    func testCaseChecks() throws {
        try check("change_case:english_lowercase", [:], [("all lower case text here", true), ("Not lower", false), ("123", false)])
        try check("change_case:english_capital", [:], [("ALL CAPS TEXT HERE", true), ("ALL CAPs", false)])
        XCTAssertFalse(PythonText.isUpper("\u{DF}1SS"))   // ß is a lowercase letter
        XCTAssertTrue(PythonText.isUpper("SS1"))
        // final sigma: Σ ending a word lowercases to ς, elsewhere to σ (CPython's str.lower)
        XCTAssertEqual(PythonText.lower("\u{39F}\u{394}\u{39F}\u{3A3} \u{3A3}\u{391}"), "\u{3BF}\u{3B4}\u{3BF}\u{3C2} \u{3C3}\u{3B1}")
        try check("change_case:capital_word_frequency", ["capital_frequency": .integer(3), "capital_relation": .string("at least")],
                  [("DON'T STOP", true), ("DON'T stop", false), ("A&B now", false), ("A&B C", true)])   // DO + N'T; A, &, B
        try check("punctuation:no_comma", [:], [("no commas", true), ("one, two", false), ("full-width\u{FF0C}comma", true)])
    }

    func testLanguageGuess() {
        XCTAssertEqual(LanguageGuess.code("This is a sentence in English about the weather."), "en")
        XCTAssertEqual(LanguageGuess.code("Это предложение на русском языке."), "ru")
        XCTAssertEqual(LanguageGuess.code("Це речення українською мовою, і воно є."), "uk")
        XCTAssertEqual(LanguageGuess.code("Esta es una frase en español para la prueba."), "es")
        XCTAssertEqual(LanguageGuess.code("これは日本語の文です。"), "ja")
        XCTAssertNil(LanguageGuess.code("123 456 !!"))
    }

    func testBadKwargsAreRefusedNamingTheKey() {
        let cases: [(String, [String: IFEvalKwarg], String)] = [
            ("keywords:nope", [:], "unknown instruction id"),
            ("keywords:existence", [:], "needs \"keywords\""),
            ("keywords:existence", ["keywords": .string("cat")], "kwargs.keywords: must be a list of strings"),
            ("length_constraints:number_words", ["num_words": .number(2.5), "relation": .string("at least")], "kwargs.num_words: must be an integer"),
            ("length_constraints:number_words", ["num_words": .integer(5), "relation": .string("more than")], "kwargs.relation"),
            ("keywords:letter_frequency", ["letter": .string("ab"), "let_frequency": .integer(1), "let_relation": .string("at least")], "kwargs.letter"),
            ("language:response_language", ["language": .string("xx")], "kwargs.language"),
            ("detectable_format:title", ["num_bullets": .integer(3)], "kwargs.num_bullets: detectable_format:title takes no"),
            ("keywords:existence", ["keywords": .strings(["(unclosed"])], "kwargs.keywords: not a regular expression"),
        ]
        for (id, kwargs, expected) in cases {
            XCTAssertThrowsError(try IFEvalInstruction(id: id, kwargs: kwargs), id) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error) should contain \(expected)")
            }
        }
        // nulls are absent, as the reference drops them
        XCTAssertNoThrow(try IFEvalInstruction(id: "detectable_format:title", kwargs: ["num_bullets": .null]))
    }

    func testRecordsNameTheInstructionAtFault() throws {
        let good = #"{"key": 7, "prompt": "Hi", "instruction_id_list": ["punctuation:no_comma", "detectable_format:number_bullet_lists"], "kwargs": [{}, {"num_bullets": 2}]}"#
        let r = try IFEvalRecord(json: Data(good.utf8))
        XCTAssertEqual(r.key, "7")
        XCTAssertEqual(r.instructions.map(\.id), [.punctuationNoComma, .formatNumberBulletLists])
        let bad = #"{"prompt": "Hi", "instruction_id_list": ["punctuation:no_comma", "detectable_format:number_bullet_lists"], "kwargs": [{}, {"num_bullets": "2"}]}"#
        XCTAssertThrowsError(try IFEvalRecord(json: Data(bad.utf8))) { e in
            XCTAssertTrue("\(e)".contains("instruction 1 (detectable_format:number_bullet_lists): kwargs[1].num_bullets: must be an integer"), "\(e)")
        }
        let short = #"{"prompt": "Hi", "instruction_id_list": ["punctuation:no_comma", "detectable_format:title"], "kwargs": [{}]}"#
        XCTAssertThrowsError(try IFEvalRecord(json: Data(short.utf8))) { e in
            XCTAssertTrue("\(e)".contains("\"kwargs\" has 1 entries for 2 instructions"), "\(e)")
        }
    }

    func testLooseVariantsAndEmptyResponses() throws {
        let ins = try make("startend:quotation")
        let v = IFEvalScoring.verdicts("Here it is:\n\"quoted\"", [ins])
        XCTAssertEqual(v, [IFEvalVerdict(id: .startEndQuotation, strict: false, loose: true)])
        XCTAssertEqual(IFEvalScoring.verdicts("   \n", [ins]), [IFEvalVerdict(id: .startEndQuotation, strict: false, loose: false)])
        XCTAssertEqual(IFEvalScoring.stripThinking("<think>plan</think> \"a\""), "\"a\"")
        XCTAssertEqual(IFEvalScoring.stripThinking("<think>unfinished"), "")
        let two = [IFEvalVerdict(id: .punctuationNoComma, strict: true, loose: true), IFEvalVerdict(id: .formatTitle, strict: false, loose: true)]
        XCTAssertEqual(IFEvalScoring.score(two), 0.5)
        XCTAssertEqual(IFEvalScoring.score(two, allOrNothing: true), 0)
        XCTAssertEqual(IFEvalScoring.score(two, loose: true, allOrNothing: true), 1)
    }

    func testPythonRegexClasses() throws {
        // \s takes U+001C (str.isspace), \w does not take a combining mark, . stops only at \n
        XCTAssertTrue(try PythonRegex(#"a\sb"#).search("a\u{1C}b"))
        XCTAssertFalse(try PythonRegex(#"^a\w$"#).search("a\u{301}"))
        XCTAssertEqual(try PythonRegex(#"^.*$"#, multiline: true).findAll("ab\rcd\nef"), ["ab\rcd", "ef"])
        XCTAssertEqual(try PythonRegex(#"\bcat\b"#).count("cat,cat_ cat"), 2)
        XCTAssertEqual(try PythonRegex(#"(?P<x>a)(?P=x)"#).count("aa a"), 1)
        // IGNORECASE as Python's re: simple lowercase (İ is i) and sre's equivalences (ı with i), not ICU's full folding (ß is not ss)
        XCTAssertTrue(try PythonRegex("istanbul", ignoreCase: true).search("\u{130}stanbul"))
        XCTAssertTrue(try PythonRegex("\u{131}s\u{131}k", ignoreCase: true).search("ISIK"))
        XCTAssertFalse(try PythonRegex("stra\u{DF}e", ignoreCase: true).search("STRASSE"))
        XCTAssertTrue(try PythonRegex("k", ignoreCase: true).search("\u{212A}"))
        XCTAssertTrue(try PythonRegex("(?i)[a-c]x(?:y)", ignoreCase: true).search("BXY"))
    }
}

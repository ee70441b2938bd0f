/// One verifiable instruction of IFEval (Zhou et al. 2023), built from its id and kwargs as
/// IFEval's records carry them, and its check of a response. Each check is the reference
/// implementation's `check_following` (Google's `instruction_following_eval`, as the PyPI
/// package `if-verifiable` 0.1.2 ships it) with Python's string and `re` semantics
/// (`PythonText`, `PythonRegex`, `PythonJSON`). Where the reference would draw a missing or
/// out-of-range argument at random, the record is refused instead.
public struct IFEvalInstruction: Sendable {
    /// The 25 instruction ids of IFEval's registry.
    public enum ID: String, CaseIterable, Sendable {
        case keywordsExistence = "keywords:existence"
        case keywordsFrequency = "keywords:frequency"
        case keywordsForbiddenWords = "keywords:forbidden_words"
        case keywordsLetterFrequency = "keywords:letter_frequency"
        case languageResponseLanguage = "language:response_language"
        case lengthNumberSentences = "length_constraints:number_sentences"
        case lengthNumberParagraphs = "length_constraints:number_paragraphs"
        case lengthNumberWords = "length_constraints:number_words"
        case lengthNthParagraphFirstWord = "length_constraints:nth_paragraph_first_word"
        case contentNumberPlaceholders = "detectable_content:number_placeholders"
        case contentPostscript = "detectable_content:postscript"
        case formatNumberBulletLists = "detectable_format:number_bullet_lists"
        case formatConstrainedResponse = "detectable_format:constrained_response"
        case formatNumberHighlightedSections = "detectable_format:number_highlighted_sections"
        case formatMultipleSections = "detectable_format:multiple_sections"
        case formatJSON = "detectable_format:json_format"
        case formatTitle = "detectable_format:title"
        case combinationTwoResponses = "combination:two_responses"
        case combinationRepeatPrompt = "combination:repeat_prompt"
        case startEndEndChecker = "startend:end_checker"
        case changeCaseCapitalWordFrequency = "change_case:capital_word_frequency"
        case changeCaseEnglishCapital = "change_case:english_capital"
        case changeCaseEnglishLowercase = "change_case:english_lowercase"
        case punctuationNoComma = "punctuation:no_comma"
        case startEndQuotation = "startend:quotation"

        /// The kwargs its `build_description` takes.
        public var kwargNames: [String] {
            switch self {
            case .keywordsExistence: return ["keywords"]
            case .keywordsFrequency: return ["keyword", "frequency", "relation"]
            case .keywordsForbiddenWords: return ["forbidden_words"]
            case .keywordsLetterFrequency: return ["letter", "let_frequency", "let_relation"]
            case .languageResponseLanguage: return ["language"]
            case .lengthNumberSentences: return ["num_sentences", "relation"]
            case .lengthNumberParagraphs: return ["num_paragraphs"]
            case .lengthNumberWords: return ["num_words", "relation"]
            case .lengthNthParagraphFirstWord: return ["num_paragraphs", "nth_paragraph", "first_word"]
            case .contentNumberPlaceholders: return ["num_placeholders"]
            case .contentPostscript: return ["postscript_marker"]
            case .formatNumberBulletLists: return ["num_bullets"]
            case .formatNumberHighlightedSections: return ["num_highlights"]
            case .formatMultipleSections: return ["section_spliter", "num_sections"]
            case .combinationRepeatPrompt: return ["prompt_to_repeat"]
            case .startEndEndChecker: return ["end_phrase"]
            case .changeCaseCapitalWordFrequency: return ["capital_frequency", "capital_relation"]
            case .formatConstrainedResponse, .formatJSON, .formatTitle, .combinationTwoResponses,
                 .changeCaseEnglishCapital, .changeCaseEnglishLowercase, .punctuationNoComma, .startEndQuotation:
                return []
            }
        }
    }

    /// IFEval's comparison relations.
    public enum Relation: String, Sendable {
        case lessThan = "less than"
        case atLeast = "at least"

        func holds(_ count: Int, _ threshold: Int) -> Bool {
            self == .lessThan ? count < threshold : count >= threshold
        }
    }

    /// The language codes `language:response_language` accepts (IFEval's `LANGUAGE_CODES`).
    public static let languages: [String: String] = [
        "en": "English", "es": "Spanish", "pt": "Portuguese", "ar": "Arabic", "hi": "Hindi", "fr": "French",
        "ru": "Russian", "de": "German", "ja": "Japanese", "it": "Italian", "bn": "Bengali", "uk": "Ukrainian",
        "th": "Thai", "ur": "Urdu", "ta": "Tamil", "te": "Telugu", "bg": "Bulgarian", "ko": "Korean",
        "pl": "Polish", "he": "Hebrew", "fa": "Persian", "vi": "Vietnamese", "ne": "Nepali", "sw": "Swahili",
        "kn": "Kannada", "mr": "Marathi", "gu": "Gujarati", "pa": "Punjabi", "ml": "Malayalam", "fi": "Finnish",
    ]

    enum Check: Sendable {
        case keywords([PythonRegex])
        case keywordFrequency(PythonRegex, Int, Relation)
        case forbidden([PythonRegex])
        case letterFrequency(Unicode.Scalar, Int, Relation)
        case language(String)
        case sentences(Int, Relation)
        case paragraphs(Int)
        case words(Int, Relation)
        case nthParagraphFirstWord(count: Int, nth: Int, word: String)
        case placeholders(Int)
        case postscript(PythonRegex)
        case bullets(Int)
        case constrainedResponse
        case highlights(Int)
        case sections(PythonRegex, Int)
        case json
        case title
        case twoResponses
        case repeatPrompt(String)
        case end(String)
        case capitalWords(Int, Relation)
        case englishCapital
        case englishLowercase
        case noComma
        case quotation
    }

    public let id: ID
    let check: Check

    /// Why a record's instruction cannot be built; `key` is the kwarg at fault, if one is.
    public struct BuildError: Error, CustomStringConvertible {
        public var key: String?
        public var message: String
        public var description: String { key.map { "kwargs.\($0): \(message)" } ?? message }
    }

    /// Builds instruction `id` from its kwargs (null values are absent, as the reference drops
    /// them).
    public init(id rawID: String, kwargs: [String: IFEvalKwarg]) throws {
        guard let id = ID(rawValue: rawID) else {
            throw BuildError(key: nil, message: "unknown instruction id \"\(rawID)\" (IFEval's ids: \(ID.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.id = id
        let given = kwargs.filter { $0.value != .null }
        for key in given.keys.sorted() where !id.kwargNames.contains(key) {
            throw BuildError(key: key, message: "\(id.rawValue) takes no \"\(key)\" (it takes \(id.kwargNames.isEmpty ? "no kwargs" : id.kwargNames.joined(separator: ", ")))")
        }
        let a = Arguments(values: given, id: id)
        switch id {
        case .keywordsExistence:
            check = .keywords(try a.strings("keywords").map { try a.pattern($0, key: "keywords", ignoreCase: true) })
        case .keywordsFrequency:
            let k = PythonText.strip(try a.string("keyword"))
            check = .keywordFrequency(try a.pattern(k, key: "keyword", ignoreCase: true), try a.count("frequency"), try a.relation("relation"))
        case .keywordsForbiddenWords:
            check = .forbidden(try a.strings("forbidden_words").map { try a.pattern(#"\b"# + $0 + #"\b"#, key: "forbidden_words", ignoreCase: true) })
        case .keywordsLetterFrequency:
            let l = try a.string("letter")
            let u = Array(l.unicodeScalars)
            guard u.count == 1, let low = PythonText.lower(l).unicodeScalars.first, (0x61...0x7A).contains(low.value) else {
                throw BuildError(key: "letter", message: "must be one ASCII letter, got \"\(l)\"")
            }
            check = .letterFrequency(low, try a.count("let_frequency"), try a.relation("let_relation"))
        case .languageResponseLanguage:
            let code = try a.string("language")
            guard Self.languages[code] != nil else {
                throw BuildError(key: "language", message: "\"\(code)\" is not one of IFEval's language codes (\(Self.languages.keys.sorted().joined(separator: ", ")))")
            }
            check = .language(code)
        case .lengthNumberSentences:
            check = .sentences(try a.count("num_sentences"), try a.relation("relation"))
        case .lengthNumberParagraphs:
            check = .paragraphs(try a.count("num_paragraphs"))
        case .lengthNumberWords:
            check = .words(try a.count("num_words"), try a.relation("relation"))
        case .lengthNthParagraphFirstWord:
            let n = try a.count("num_paragraphs"), nth = try a.count("nth_paragraph")
            guard nth >= 1, nth <= n else { throw BuildError(key: "nth_paragraph", message: "must be between 1 and num_paragraphs (\(n)), got \(nth)") }
            check = .nthParagraphFirstWord(count: n, nth: nth, word: PythonText.lower(try a.string("first_word")))
        case .contentNumberPlaceholders:
            check = .placeholders(try a.count("num_placeholders"))
        case .contentPostscript:
            let marker = PythonText.strip(try a.string("postscript_marker"))
            let pattern: String
            switch marker {
            case "P.P.S": pattern = #"\s*p\.\s?p\.\s?s.*$"#
            case "P.S.": pattern = #"\s*p\.\s?s\..*$"#
            default: pattern = #"\s*"# + PythonText.lower(marker) + ".*$"
            }
            check = .postscript(try a.pattern(pattern, key: "postscript_marker", multiline: true))
        case .formatNumberBulletLists:
            check = .bullets(try a.count("num_bullets"))
        case .formatConstrainedResponse:
            check = .constrainedResponse
        case .formatNumberHighlightedSections:
            check = .highlights(try a.count("num_highlights"))
        case .formatMultipleSections:
            let splitter = PythonText.strip(try a.string("section_spliter"))
            check = .sections(try a.pattern(#"\s?"# + splitter + #"\s?\d+\s?"#, key: "section_spliter"), try a.count("num_sections"))
        case .formatJSON: check = .json
        case .formatTitle: check = .title
        case .combinationTwoResponses: check = .twoResponses
        case .combinationRepeatPrompt:
            let p = try a.string("prompt_to_repeat")
            guard !p.isEmpty else { throw BuildError(key: "prompt_to_repeat", message: "must not be empty") }
            check = .repeatPrompt(PythonText.lower(PythonText.strip(p)))
        case .startEndEndChecker:
            check = .end(PythonText.lower(PythonText.strip(try a.string("end_phrase"))))
        case .changeCaseCapitalWordFrequency:
            check = .capitalWords(try a.integer("capital_frequency"), try a.relation("capital_relation"))
        case .changeCaseEnglishCapital: check = .englishCapital
        case .changeCaseEnglishLowercase: check = .englishLowercase
        case .punctuationNoComma: check = .noComma
        case .startEndQuotation: check = .quotation
        }
    }

    /// The kwargs of one instruction, read with the types `build_description` expects.
    struct Arguments {
        var values: [String: IFEvalKwarg]
        var id: ID

        func value(_ key: String) throws -> IFEvalKwarg {
            guard let v = values[key] else { throw BuildError(key: key, message: "\(id.rawValue) needs \"\(key)\"") }
            return v
        }
        func string(_ key: String) throws -> String {
            guard case .string(let s) = try value(key) else { throw BuildError(key: key, message: "must be a string, got \(try value(key).kindName)") }
            return s
        }
        func strings(_ key: String) throws -> [String] {
            guard case .strings(let s) = try value(key) else { throw BuildError(key: key, message: "must be a list of strings, got \(try value(key).kindName)") }
            guard !s.isEmpty else { throw BuildError(key: key, message: "must not be empty") }
            return s
        }
        func integer(_ key: String) throws -> Int {
            guard case .integer(let n) = try value(key) else { throw BuildError(key: key, message: "must be an integer, got \(try value(key).kindName)") }
            return n
        }
        /// A count the reference would redraw at random when negative.
        func count(_ key: String) throws -> Int {
            let n = try integer(key)
            guard n >= 0 else { throw BuildError(key: key, message: "must be at least 0, got \(n)") }
            return n
        }
        func relation(_ key: String) throws -> Relation {
            let s = try string(key)
            guard let r = Relation(rawValue: s) else { throw BuildError(key: key, message: "must be \"less than\" or \"at least\", got \"\(s)\"") }
            return r
        }
        func pattern(_ p: String, key: String, ignoreCase: Bool = false, multiline: Bool = false) throws -> PythonRegex {
            do { return try PythonRegex(p, ignoreCase: ignoreCase, multiline: multiline) } catch let e as PythonRegex.PatternError {
                throw BuildError(key: key, message: e.description)
            }
        }
    }

    static let bulletStar = try! PythonRegex(#"^\s*\*[^\*].*$"#, multiline: true)
    static let bulletDash = try! PythonRegex(#"^\s*-.*$"#, multiline: true)
    static let highlight = try! PythonRegex(#"\*[^\n\*]*\*"#)
    static let doubleHighlight = try! PythonRegex(#"\*\*[^\n\*]*\*\*"#)
    static let paragraphDivider = try! PythonRegex(#"\s?\*\*\*\s?"#)
    static let titlePattern = try! PythonRegex(#"<<[^\n]+>>"#)
    static let constrainedOptions = ["My answer is yes.", "My answer is no.", "My answer is maybe."]

    /// `check_following(value)`.
    public func isFollowed(by value: String) -> Bool {
        switch check {
        case .keywords(let patterns):
            return patterns.allSatisfy { $0.search(value) }
        case .keywordFrequency(let p, let n, let r):
            return r.holds(p.count(value), n)
        case .forbidden(let patterns):
            return !patterns.contains { $0.search(value) }
        case .letterFrequency(let letter, let n, let r):
            return r.holds(PythonText.lower(value).unicodeScalars.filter { $0 == letter }.count, n)
        case .language(let code):
            return LanguageGuess.code(value).map { $0 == code } ?? true
        case .sentences(let n, let r):
            return r.holds(PunktSentences.split(value).count, n)
        case .paragraphs(let n):
            let parts = Self.paragraphDivider.split(value)
            var count = parts.count
            for (i, p) in parts.enumerated() where PythonText.strip(p).isEmpty {
                if i == 0 || i == parts.count - 1 { count -= 1 } else { return false }
            }
            return count == n
        case .words(let n, let r):
            return r.holds(PythonText.countWords(value), n)
        case .nthParagraphFirstWord(let n, let nth, let word):
            let parts = PythonText.split(value, separator: "\n\n")
            let count = parts.count - parts.filter { PythonText.strip($0).isEmpty }.count
            guard nth <= count else { return false }
            let paragraph = PythonText.strip(parts[nth - 1])
            guard !paragraph.isEmpty else { return false }
            var w = PythonText.strip(PythonText.splitWhitespace(paragraph)[0])
            w = PythonText.strip(w, ["'"], trailing: false)
            w = PythonText.strip(w, ["\""], trailing: false)
            var first = ""
            for s in w.unicodeScalars {
                if ".,?!'\"".unicodeScalars.contains(s) { break }
                first += PythonText.lower(String(s))
            }
            return count == n && first.unicodeScalars.elementsEqual(word.unicodeScalars)
        case .placeholders(let n):
            return Self.placeholderCount(value) >= n
        case .postscript(let p):
            return p.search(PythonText.lower(value))
        case .bullets(let n):
            return Self.bulletStar.count(value) + Self.bulletDash.count(value) == n
        case .constrainedResponse:
            let v = PythonText.strip(value)
            return Self.constrainedOptions.contains { v.unicodeScalars.contains(subsequence: $0.unicodeScalars) }
        case .highlights(let n):
            var count = Self.highlight.findAll(value).filter { !PythonText.strip(PythonText.strip($0, ["*"])).isEmpty }.count
            count += Self.doubleHighlight.findAll(value).filter { h in
                var u = Array(h.unicodeScalars)
                if u.starts(with: "**".unicodeScalars) { u.removeFirst(2) }
                if u.count >= 2, u.suffix(2).elementsEqual("**".unicodeScalars) { u.removeLast(2) }
                return !PythonText.strip(PythonText.string(u)).isEmpty
            }.count
            return count >= n
        case .sections(let p, let n):
            return p.split(value).count - 1 >= n
        case .json:
            var u = Array(PythonText.strip(value).unicodeScalars)
            for prefix in ["```json", "```Json", "```JSON", "```"] where u.starts(with: prefix.unicodeScalars) {
                u.removeFirst(prefix.unicodeScalars.count)
            }
            if u.count >= 3, u.suffix(3).elementsEqual("```".unicodeScalars) { u.removeLast(3) }
            return PythonJSON.accepts(PythonText.strip(PythonText.string(u)))
        case .title:
            return Self.titlePattern.findAll(value).contains { t in
                !PythonText.strip(PythonText.strip(PythonText.strip(t, ["<"], trailing: false), [">"], leading: false)).isEmpty
            }
        case .twoResponses:
            let parts = PythonText.split(value, separator: "******")
            var valid: [String] = []
            for (i, p) in parts.enumerated() {
                if PythonText.strip(p).isEmpty {
                    if i != 0 && i != parts.count - 1 { return false }
                } else {
                    valid.append(p)
                }
            }
            // code points, as Python compares strings (Swift's == would equate "é" and "e\u{301}")
            return valid.count == 2 && !PythonText.strip(valid[0]).unicodeScalars.elementsEqual(PythonText.strip(valid[1]).unicodeScalars)
        case .repeatPrompt(let p):
            return PythonText.lower(PythonText.strip(value)).unicodeScalars.starts(with: p.unicodeScalars)
        case .end(let phrase):
            let v = PythonText.lower(PythonText.strip(PythonText.strip(value), ["\""]))
            let u = Array(v.unicodeScalars), e = Array(phrase.unicodeScalars)
            return u.count >= e.count && u.suffix(e.count).elementsEqual(e)
        case .capitalWords(let n, let r):
            return r.holds(TreebankWords.wordTokenize(value).filter(PythonText.isUpper).count, n)
        case .englishCapital:
            return PythonText.isUpper(value) && (LanguageGuess.code(value).map { $0 == "en" } ?? true)
        case .englishLowercase:
            return PythonText.isLower(value) && (LanguageGuess.code(value).map { $0 == "en" } ?? true)
        case .noComma:
            return !value.unicodeScalars.contains(",")
        case .quotation:
            let u = Array(PythonText.strip(value).unicodeScalars)
            return u.count > 1 && u.first == "\"" && u.last == "\""
        }
    }

    /// `len(re.findall(r"\[.*?\]", value))`: a `[` closed by the next `]` on its line.
    static func placeholderCount(_ value: String) -> Int {
        let u = Array(value.unicodeScalars)
        var n = 0, i = 0
        while i < u.count {
            if u[i] == "[" {
                var j = i + 1
                while j < u.count, u[j] != "]", u[j] != "\n" { j += 1 }
                if j < u.count, u[j] == "]" { n += 1; i = j + 1; continue }
            }
            i += 1
        }
        return n
    }
}

extension String.UnicodeScalarView {
    func contains(subsequence needle: String.UnicodeScalarView) -> Bool {
        let h = Array(self), n = Array(needle)
        guard !n.isEmpty else { return true }
        guard h.count >= n.count else { return false }
        for i in 0...(h.count - n.count) where h[i..<(i + n.count)].elementsEqual(n) { return true }
        return false
    }
}

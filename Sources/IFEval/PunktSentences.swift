import Foundation

// Shape: `PunktSentences.split(text) -> [String]`, the sentences of `text` exactly as NLTK
// 3.10.4's `PunktSentenceTokenizer().tokenize(text)` returns them when the tokenizer is built
// with no training text (empty `PunktParameters`: no abbreviations, collocations, sentence
// starters or orthographic context). IFEval's `length_constraints:number_sentences` counts these,
// and `TreebankWords.wordTokenize` splits its input with them first.
//
// Semantics: a Python `str` is a sequence of code points, so everything here works on
// `Unicode.Scalar` arrays and every index is a code-point index. NLTK 3.10.4 compiles Punkt's
// patterns with the third-party `regex` engine (`nltk.redos`), not `re`, so its classes are that
// engine's: `\s` is Unicode White_Space (not U+001C–U+001F, unlike `str.isspace()`), `\w` is
// Alphabetic, marks, decimal digits, connector punctuation and join controls, `\d` is category
// Nd, and `$` (also under MULTILINE) sees only "\n". Python string methods keep their own
// semantics: `str.strip()`/`rstrip()` strip `str.isspace()` code points, `str.split("\n")`
// splits on "\n" only, `string.whitespace` is " \t\n\r\x0b\x0c", `isupper()`/`islower()` of
// one code point are the Uppercase/Lowercase properties. Every pattern is matched by hand-written
// scanning (no regular-expression engine), linear in the length of the text.
//
// The pipeline mirrors `PunktSentenceTokenizer.span_tokenize`:
// 1. `_match_potential_end_contexts`: every '.', '?' or '!' followed by other punctuation or by
//    whitespace and a token is a candidate; its context is the word before it (back to the last
//    `string.whitespace` character since the previous candidate), the candidate and what follows
//    it. A candidate whose word overlaps the next candidate's word is dropped.
// 2. `text_contains_sentbreak` on each context: Punkt's word tokenization of the context, the
//    first annotation pass (".", "?", "!" and words ending in one period break; runs of periods
//    are ellipses) and the second pass with empty parameters (an initial "X." or a number
//    followed by punctuation or a lower-case word, or an initial followed by an upper-case word,
//    does not break); the context breaks when a token other than the last one breaks.
// 3. `_slices_from_text`: a sentence ends after each breaking candidate, the next one starts at
//    the following token (or right after the candidate when punctuation follows it); the last one
//    ends at the text without its trailing whitespace.
// 4. `_realign_boundaries`: closing quotes and brackets right after a break move to the sentence
//    they close; empty sentences are dropped.

/// Sentence splitting of NLTK's Punkt algorithm with untrained (empty) parameters.
public enum PunktSentences {
    /// The sentences of `text`, as `PunktSentenceTokenizer().tokenize(text)` (NLTK 3.10.4, no
    /// training text) returns them: substrings of `text` in order, none empty, with the
    /// whitespace between sentences left out.
    public static func split(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        return spans(s).map { CharClass.string(s[$0]) }
    }

    /// The code-point ranges of the sentences of `s` (`span_tokenize`).
    static func spans(_ s: [Unicode.Scalar]) -> [Range<Int>] {
        let n = s.count
        // _slices_from_text
        var slices: [(Int, Int)] = []
        var lastBreak = 0
        for c in endContexts(s) where containsSentbreak(s[c.contextStart..<c.afterEnd]) {
            slices.append((lastBreak, c.position + 1))
            lastBreak = c.nextTokenStart ?? (c.position + 1)
        }
        var stripped = n
        while stripped > 0, CharClass.isPySpace(s[stripped - 1]) { stripped -= 1 }
        slices.append((lastBreak, stripped))

        // _realign_boundaries
        var out: [Range<Int>] = []
        var realign = 0
        for k in slices.indices {
            let start1 = slices[k].0 + realign
            let stop1 = slices[k].1
            if k + 1 == slices.count {
                if let r = pySlice(start1, stop1, n) { out.append(r) }
                continue
            }
            let (start2, stop2) = slices[k + 1]
            if let (keep, matched) = realignment(s, start2, stop2) {
                // Yielded even when empty, as the reference does (it never is: the sentence
                // ends before the closing characters that are moved into it).
                let lo = min(start1, n)
                out.append(lo..<max(lo, min(start2 + keep, n)))
                realign = matched
            } else {
                realign = 0
                if let r = pySlice(start1, stop1, n) { out.append(r) }
            }
        }
        return out
    }

    /// Python's `text[a:b]` for non-negative bounds, as a range; nil when it is empty.
    private static func pySlice(_ a: Int, _ b: Int, _ n: Int) -> Range<Int>? {
        let lo = min(a, n), hi = min(b, n)
        return lo < hi ? lo..<hi : nil
    }

    /// `re_boundary_realignment.match(text[start:stop])`:
    /// `["')\]}‘’“”«»]+?(?:\s+|(?=--)|$)` under MULTILINE. Returns the length of the match
    /// without its trailing whitespace (`len(m.group(0).rstrip())`) and its full length (`m.end()`).
    private static func realignment(_ s: [Unicode.Scalar], _ start: Int, _ stop: Int) -> (Int, Int)? {
        let n = s.count
        let lo = min(start, n), hi = min(stop, n)
        guard lo < hi else { return nil }
        var p = lo
        while p < hi, CharClass.isClosing(s[p]) {
            p += 1
            if p < hi, CharClass.isRxSpace(s[p]) {
                var q = p
                while q < hi, CharClass.isRxSpace(s[q]) { q += 1 }
                return (p - lo, q - lo)
            }
            if p + 1 < hi, s[p] == "-", s[p + 1] == "-" { return (p - lo, p - lo) }
            if p == hi || s[p] == "\n" { return (p - lo, p - lo) }
        }
        return nil
    }

    // MARK: - Candidates and their contexts

    /// A match of the period-context pattern, with the start of the word before it.
    struct EndContext {
        /// Index of the '.', '?' or '!' (`match.start()`).
        var position: Int
        /// End of the `after_tok` group (the context's end).
        var afterEnd: Int
        /// Start of the `next_tok` group, when the candidate is followed by whitespace and a token.
        var nextTokenStart: Int?
        /// Start of the word before the candidate (the context's start).
        var contextStart: Int
    }

    /// `_match_potential_end_contexts`: the candidates kept, each with its context
    /// `text[contextStart..<afterEnd]` (the word before, the candidate, `after_tok`).
    static func endContexts(_ s: [Unicode.Scalar]) -> [EndContext] {
        var out: [EndContext] = []
        var prevStart = 0, prevStop = 0
        var previous: EndContext?
        for var m in periodContextMatches(s) {
            // _get_last_whitespace_index(text[prevStop:m.position]); index 0 counts as none.
            var idx = 0
            var k = m.position - 1
            while k >= prevStop {
                if CharClass.isStringWhitespace(s[k]) { idx = k - prevStop; break }
                k -= 1
            }
            let wordStart = idx != 0 ? idx + prevStop + 1 : prevStart
            if let p = previous, prevStop <= wordStart { out.append(p) }
            m.contextStart = wordStart
            previous = m
            prevStart = wordStart
            prevStop = m.position
        }
        if let p = previous { out.append(p) }
        return out
    }

    /// `period_context_re().finditer(text)`:
    /// `[.?!](?=(?P<after_tok>NonWord|\s+(?P<next_tok>\S+)))`.
    static func periodContextMatches(_ s: [Unicode.Scalar]) -> [EndContext] {
        let n = s.count
        var out: [EndContext] = []
        var i = 0
        while i < n {
            defer { i += 1 }
            let c = s[i]
            guard c == "." || c == "?" || c == "!", i + 1 < n else { continue }
            if CharClass.isNonWord(s[i + 1]) {
                out.append(EndContext(position: i, afterEnd: i + 2, nextTokenStart: nil, contextStart: 0))
                continue
            }
            guard CharClass.isRxSpace(s[i + 1]) else { continue }
            var j = i + 1
            while j < n, CharClass.isRxSpace(s[j]) { j += 1 }
            guard j < n else { continue }
            var e = j
            while e < n, !CharClass.isRxSpace(s[e]) { e += 1 }
            out.append(EndContext(position: i, afterEnd: e, nextTokenStart: j, contextStart: 0))
        }
        return out
    }

    // MARK: - Word tokens and annotation

    /// `text_contains_sentbreak(context)`: whether a token other than the last one of the context
    /// is a sentence break after both annotation passes.
    static func containsSentbreak(_ context: ArraySlice<Unicode.Scalar>) -> Bool {
        let toks = punktWords(context)
        guard toks.count >= 2 else { return false }
        for k in 0..<(toks.count - 1) where isSentbreak(context[toks[k]], next: context[toks[k + 1]]) {
            return true
        }
        return false
    }

    /// `_tokenize_words`: the text split on "\n", lines that `strip()` to nothing skipped, each
    /// other line tokenized by `PunktLanguageVars.word_tokenize`. Ranges index `text`.
    static func punktWords(_ text: ArraySlice<Unicode.Scalar>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var lineStart = text.startIndex
        while lineStart <= text.endIndex {
            var lineEnd = lineStart
            while lineEnd < text.endIndex, text[lineEnd] != "\n" { lineEnd += 1 }
            if text[lineStart..<lineEnd].contains(where: { !CharClass.isPySpace($0) }) {
                wordTokenizeLine(text, lineStart, lineEnd, into: &out)
            }
            lineStart = lineEnd + 1
        }
        return out
    }

    /// `findall` of Punkt's word pattern on `s[lo..<hi]`:
    /// `MultiChar | (?=WordStart)\S+?(?=\s|$|NonWord|MultiChar|,(?=$|\s|NonWord|MultiChar)) | \S`.
    static func wordTokenizeLine(_ s: ArraySlice<Unicode.Scalar>, _ lo: Int, _ hi: Int, into out: inout [Range<Int>]) {
        var p = lo
        while p < hi {
            if let len = multiChar(s, p, hi) {
                out.append(p..<(p + len))
                p += len
                continue
            }
            let c = s[p]
            if CharClass.isRxSpace(c) { p += 1; continue }
            if CharClass.isWordStart(c) {
                var q = p + 1
                while q < hi {
                    let d = s[q]
                    if CharClass.isRxSpace(d) || CharClass.isNonWord(d) || multiChar(s, q, hi) != nil { break }
                    if d == ",", commaEndsWord(s, q + 1, hi) { break }
                    q += 1
                }
                out.append(p..<q)
                p = q
                continue
            }
            out.append(p..<(p + 1))
            p += 1
        }
    }

    /// The lookahead after a comma: `$|\s|NonWord|MultiChar` at `q`.
    private static func commaEndsWord(_ s: ArraySlice<Unicode.Scalar>, _ q: Int, _ hi: Int) -> Bool {
        if q >= hi { return true }
        return CharClass.isRxSpace(s[q]) || CharClass.isNonWord(s[q]) || multiChar(s, q, hi) != nil
    }

    /// Length of a match of `(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)` at `p` (bounded by `hi`), or nil.
    static func multiChar(_ s: ArraySlice<Unicode.Scalar>, _ p: Int, _ hi: Int) -> Int? {
        guard p + 1 < hi else { return nil }
        let c = s[p]
        if c == "-" {
            guard s[p + 1] == "-" else { return nil }
            var q = p + 2
            while q < hi, s[q] == "-" { q += 1 }
            return q - p
        }
        guard c == "." else { return nil }
        if s[p + 1] == "." {
            var q = p + 2
            while q < hi, s[q] == "." { q += 1 }
            return q - p
        }
        // (?:\.\s){2,}\.  — greedy pairs, then one period; backtrack one pair if needed.
        var pairs = 0
        var j = p
        while j + 1 < hi, s[j] == ".", CharClass.isRxSpace(s[j + 1]) {
            pairs += 1
            j += 2
        }
        if pairs >= 2, j < hi, s[j] == "." { return 2 * pairs + 1 }
        if pairs >= 3 { return 2 * (pairs - 1) + 1 }
        return nil
    }

    /// The final sentence-break flag of `tok` after the first pass and the second pass with the
    /// token that follows it, under empty parameters.
    static func isSentbreak(_ tok: ArraySlice<Unicode.Scalar>, next: ArraySlice<Unicode.Scalar>) -> Bool {
        let count = tok.count
        let last = tok[tok.endIndex - 1]
        // First pass.
        var sentbreak: Bool
        if count == 1, last == "." || last == "?" || last == "!" {
            sentbreak = true
        } else if count >= 2, tok.allSatisfy({ $0 == "." }) {
            sentbreak = false  // ellipsis
        } else if last == ".", !(count >= 2 && tok[tok.endIndex - 2] == ".") {
            sentbreak = true  // no abbreviation is known
        } else {
            sentbreak = false
        }
        // Second pass (only period-final tokens; abbreviations and ellipses never gain a break
        // because the orthographic heuristic never says "sentence starter" without context).
        guard last == "." else { return sentbreak }
        let isInitial = count == 2 && CharClass.isRxNonPunct(tok[tok.startIndex])
        if isInitial || isNumberType(tok) {
            let first = next[next.startIndex]
            let orthoSaysNo = (next.count == 1 && ";:,.!?".unicodeScalars.contains(first))
                || first.properties.isLowercase
            if orthoSaysNo {
                sentbreak = false
            } else if isInitial, first.properties.isUppercase {
                sentbreak = false
            }
        }
        return sentbreak
    }

    /// Whether `type_no_period` of the token is "##number##": the token matches
    /// `^-?[\.,]?\d[\d,\.-]*\.?$`, or its lower-case form is literally "##number##.".
    static func isNumberType(_ tok: ArraySlice<Unicode.Scalar>) -> Bool {
        var i = tok.startIndex
        let end = tok.endIndex
        if i < end, tok[i] == "-" { i += 1 }
        if i < end, tok[i] == "." || tok[i] == "," { i += 1 }
        if i < end, CharClass.isRxDigit(tok[i]) {
            i += 1
            while i < end {
                let c = tok[i]
                guard CharClass.isRxDigit(c) || c == "," || c == "." || c == "-" else { break }
                i += 1
            }
            if i == end { return true }
        }
        let literal = Array("##number##.".unicodeScalars)
        guard tok.count == literal.count else { return false }
        return zip(tok, literal).allSatisfy { a, b in
            a == b || (a.value >= 0x41 && a.value <= 0x5A && a.value + 0x20 == b.value)
        }
    }
}

extension PunktSentences {
    /// Code-point classes of Python's string methods and of the `regex` engine's pattern classes,
    /// shared by `PunktSentences` and `TreebankWords`.
    enum CharClass {
        /// `str.isspace()` (and `\s` of Python's `re`): bidirectional class WS, B or S, or Zs.
        static func isPySpace(_ c: Unicode.Scalar) -> Bool {
            switch c.value {
            case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029,
                 0x202F, 0x205F, 0x3000:
                return true
            default:
                return false
            }
        }

        /// `\s` of the `regex` engine: the White_Space property (no U+001C–U+001F).
        static func isRxSpace(_ c: Unicode.Scalar) -> Bool {
            switch c.value {
            case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029,
                 0x202F, 0x205F, 0x3000:
                return true
            default:
                return false
            }
        }

        /// `string.whitespace`: " \t\n\r\x0b\x0c".
        static func isStringWhitespace(_ c: Unicode.Scalar) -> Bool {
            switch c.value {
            case 0x09...0x0D, 0x20: return true
            default: return false
            }
        }

        /// `\d` of the `regex` engine: category Nd.
        static func isRxDigit(_ c: Unicode.Scalar) -> Bool {
            c.properties.generalCategory == .decimalNumber
        }

        /// `\w` of the `regex` engine: Alphabetic, marks, Nd, Pc or Join_Control.
        static func isRxWord(_ c: Unicode.Scalar) -> Bool {
            if c.value < 0x80 {
                switch c.value {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return true
                default: return false
                }
            }
            let p = c.properties
            if p.isAlphabetic || p.isJoinControl { return true }
            switch p.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
                return true
            default:
                return false
            }
        }

        /// `[^\W\d]` of the `regex` engine.
        static func isRxNonPunct(_ c: Unicode.Scalar) -> Bool {
            isRxWord(c) && !isRxDigit(c)
        }

        /// `\w` of Python's `re`: `str.isalnum()` or "_" (letters and characters with a numeric type).
        static func isReWord(_ c: Unicode.Scalar) -> Bool {
            if c.value < 0x80 {
                switch c.value {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return true
                default: return false
                }
            }
            let p = c.properties
            switch p.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
                return true
            default:
                return p.numericType != nil
            }
        }

        /// Punkt's `_re_non_word_chars`: `[)";}\]*:@'({[‘’“”«»?!]`.
        static func isNonWord(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case ")", "\"", ";", "}", "]", "*", ":", "@", "'", "(", "{", "[",
                 "\u{2018}", "\u{2019}", "\u{201C}", "\u{201D}", "\u{AB}", "\u{BB}", "?", "!":
                return true
            default:
                return false
            }
        }

        /// Punkt's `(?=_re_word_start)\S`: not whitespace and not one of `("`{[:;&#*@)}]-,`.
        static func isWordStart(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case "(", "\"", "`", "{", "[", ":", ";", "&", "#", "*", "@", ")", "}", "]", "-", ",":
                return false
            default:
                return !isRxSpace(c)
            }
        }

        /// The class of `re_boundary_realignment`: `["')\]}‘’“”«»]`.
        static func isClosing(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case "\"", "'", ")", "]", "}", "\u{2018}", "\u{2019}", "\u{201C}", "\u{201D}", "\u{AB}", "\u{BB}":
                return true
            default:
                return false
            }
        }

        /// A `String` of the code points `s`.
        static func string<C: Collection>(_ s: C) -> String where C.Element == Unicode.Scalar {
            var v = String.UnicodeScalarView()
            v.append(contentsOf: s)
            return String(v)
        }
    }
}

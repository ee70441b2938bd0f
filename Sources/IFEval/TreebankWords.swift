import Foundation

// Shape: `TreebankWords.tokenize(text) -> [String]` is NLTK 3.10.4's
// `NLTKWordTokenizer().tokenize(text)` (convert_parentheses off, its default; the overload with
// `convertParentheses:` sets it);
// `TreebankWords.wordTokenize(text) -> [String]` is `nltk.word_tokenize(text)` with the sentence
// splitter replaced by untrained Punkt (`PunktSentences.split`): the text is split into
// sentences and each sentence tokenized. IFEval's `change_case:capital_word_frequency` counts
// the tokens of `wordTokenize` that are `str.isupper()`.
//
// Semantics: the tokenizer is a chain of regular-expression substitutions, each applied to the
// whole output of the previous one, then `str.split()`. Each substitution is reproduced here by
// a left-to-right scan that finds the same leftmost, non-overlapping matches on the input of that
// step (lookarounds see that input, not the replaced text) and writes the same replacement.
// Everything works on code points (`Unicode.Scalar`), as Python's `str` does. NLTK 3.10.4
// compiles STARTING_QUOTES, PUNCTUATION, PARENS_BRACKETS, DOUBLE_DASHES and ENDING_QUOTES with
// the third-party `regex` engine (`nltk.redos`): there `\s` is White_Space, `\w` is Alphabetic,
// marks, Nd, Pc and join controls, `\d` is Nd, `$` also matches before a final "\n", and
// `(?i)` folds "s" with U+017F. CONTRACTIONS2/3 are compiled with Python's `re`: there `\w` (and
// so `\b`) is `str.isalnum()` or "_", `\s` is `str.isspace()`, and `(?i)` folds "i" with U+0130
// and U+0131 and "s" with U+017F. The final `str.split()` splits on `str.isspace()` runs.
// The classes are `PunktSentences.CharClass`. Every step is linear in the length of the text.

/// NLTK's Treebank-style word tokenizer (`NLTKWordTokenizer`) and `word_tokenize`.
public enum TreebankWords {
    /// `NLTKWordTokenizer().tokenize(text)` of NLTK 3.10.4: the tokens of one sentence.
    public static func tokenize(_ text: String) -> [String] {
        tokenize(scalars: Array(text.unicodeScalars), convertParentheses: false)
    }

    /// `NLTKWordTokenizer().tokenize(text, convert_parentheses=convertParentheses)`: when set,
    /// brackets become the Penn Treebank symbols `-LRB-`, `-RRB-`, `-LSB-`, `-RSB-`, `-LCB-`, `-RCB-`.
    public static func tokenize(_ text: String, convertParentheses: Bool) -> [String] {
        tokenize(scalars: Array(text.unicodeScalars), convertParentheses: convertParentheses)
    }

    /// `nltk.word_tokenize(text)` with untrained Punkt sentences: `PunktSentences.split(text)`,
    /// then `tokenize` of each sentence, the tokens concatenated in order.
    public static func wordTokenize(_ text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        var out: [String] = []
        for r in PunktSentences.spans(s) {
            out.append(contentsOf: tokenize(scalars: Array(s[r]), convertParentheses: false))
        }
        return out
    }

    private typealias Scalars = [Unicode.Scalar]
    private typealias C = PunktSentences.CharClass

    /// The substitution chain of `NLTKWordTokenizer.tokenize`, then `str.split()`.
    static func tokenize(scalars input: [Unicode.Scalar], convertParentheses: Bool) -> [String] {
        var s = input
        // STARTING_QUOTES
        s = startingQuoteMarks(s)
        s = initialDoubleQuote(s)
        s = padDoubleBackticks(s)
        s = openingDoubleQuotes(s)
        s = openingSingleQuote(s)
        // PUNCTUATION
        s = finalPeriod(s, extendedClass: true)
        s = commaColonBeforeNonDigit(s)
        s = commaColonAtEnd(s)
        s = periodRuns(s)
        s = padEach(s) { c in c == ";" || c == "@" || c == "#" || c == "$" || c == "%" || c == "&" }
        s = padEach(s) { c in c.value >= 0x2012 && c.value <= 0x2015 }
        s = finalPeriod(s, extendedClass: false)
        s = padEach(s) { c in c == "?" || c == "!" }
        s = quoteBeforeSpace(s)
        s = padEach(s) { c in c == "*" }
        // PARENS_BRACKETS
        s = padEach(s) { c in
            c == "]" || c == "[" || c == "(" || c == ")" || c == "{" || c == "}" || c == "<" || c == ">"
        }
        // CONVERT_PARENTHESES (optional)
        if convertParentheses { s = treebankBrackets(s) }
        // DOUBLE_DASHES
        s = padLiteral(s, ["-", "-"])
        // add extra space to make things easier
        s = [" "] + s + [" "]
        // ENDING_QUOTES
        s = padEach(s) { c in c == "\u{BB}" || c == "\u{201D}" || c == "\u{2019}" }
        s = padLiteral(s, ["'", "'"])
        s = replaceEach(s, "\"", with: [" ", "'", "'", " "])
        s = collapseSpaces(s)
        s = clitics(s, possessiveClitics)
        s = clitics(s, verbClitics)
        // CONTRACTIONS2, CONTRACTIONS3
        for (a, b, spaceAfter) in contractions2 { s = contraction(s, a, b, spaceAfter: spaceAfter) }
        for (a, b) in contractions3 { s = contraction3(s, a, b) }
        return splitPySpace(s)
    }

    private static func scalars(_ s: String) -> Scalars { Array(s.unicodeScalars) }

    /// CONTRACTIONS2 as (first group, second group, whether `(?=\s)` ends it instead of `\b`).
    private static let contractions2: [(Scalars, Scalars, Bool)] = [
        ("can", "not", false), ("d", "'ye", false), ("gim", "me", false), ("gon", "na", false),
        ("got", "ta", false), ("lem", "me", false), ("more", "'n", false), ("wan", "na", true),
    ].map { (scalars($0.0), scalars($0.1), $0.2) }
    /// CONTRACTIONS3 as (first group without its leading space, second group).
    private static let contractions3: [(Scalars, Scalars)] = [("'t", "is"), ("'t", "was")].map { (scalars($0.0), scalars($0.1)) }
    /// The alternatives of ENDING_QUOTES' two clitic rules, in order.
    private static let possessiveClitics: [Scalars] = ["'s", "'S", "'m", "'M", "'d", "'D", "'"].map(scalars)
    private static let verbClitics: [Scalars] = ["'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"].map(scalars)
    /// The clitics that STARTING_QUOTES' last rule does not split a quote from.
    private static let quoteClitics: [Scalars] = ["re", "ve", "ll", "m", "t", "s", "d", "n"].map(scalars)

    // MARK: - Scanning substitution

    /// `re.sub` by scanning: at each position `rule` either writes the replacement of a match
    /// starting there into its buffer and returns the (positive) length of the match, or returns 0
    /// and the character is kept. The input comes back unchanged (not copied) when nothing matches.
    private static func substitute(_ s: Scalars, _ rule: (Int, inout Scalars) -> Int) -> Scalars {
        var out: Scalars = []
        var replacement: Scalars = []
        var copied = 0
        var i = 0
        while i < s.count {
            let len = rule(i, &replacement)
            if len > 0 {
                if copied == 0 { out.reserveCapacity(s.count + s.count / 2 + 8) }
                out.append(contentsOf: s[copied..<i])
                out.append(contentsOf: replacement)
                replacement.removeAll(keepingCapacity: true)
                i += len
                copied = i
            } else {
                i += 1
            }
        }
        if copied == 0 && out.isEmpty { return s }
        out.append(contentsOf: s[copied..<s.count])
        return out
    }

    /// `[class]` → `" \g<0> "`.
    private static func padEach(_ s: Scalars, _ inClass: (Unicode.Scalar) -> Bool) -> Scalars {
        substitute(s) { i, out in
            guard inClass(s[i]) else { return 0 }
            out.append(" ")
            out.append(s[i])
            out.append(" ")
            return 1
        }
    }

    /// A literal → `" literal "`, non-overlapping from the left.
    private static func padLiteral(_ s: Scalars, _ lit: Scalars) -> Scalars {
        substitute(s) { i, out in
            guard hasPrefix(s, i, lit) else { return 0 }
            out.append(" ")
            out.append(contentsOf: lit)
            out.append(" ")
            return lit.count
        }
    }

    /// One code point → a fixed replacement.
    private static func replaceEach(_ s: Scalars, _ c: Unicode.Scalar, with rep: Scalars) -> Scalars {
        substitute(s) { i, out in
            guard s[i] == c else { return 0 }
            out.append(contentsOf: rep)
            return 1
        }
    }

    private static func hasPrefix(_ s: Scalars, _ i: Int, _ lit: Scalars) -> Bool {
        guard i + lit.count <= s.count else { return false }
        for k in 0..<lit.count where s[i + k] != lit[k] { return false }
        return true
    }

    /// `$` without MULTILINE at position `p`: the end, or just before a final "\n".
    private static func atEnd(_ s: Scalars, _ p: Int) -> Bool {
        p == s.count || (p == s.count - 1 && s[p] == "\n")
    }

    // MARK: - STARTING_QUOTES

    /// `([«“‘„]|[`]+)` → `" \1 "`.
    private static func startingQuoteMarks(_ s: Scalars) -> Scalars {
        substitute(s) { i, out in
            let c = s[i]
            var j = i
            if c == "\u{AB}" || c == "\u{201C}" || c == "\u{2018}" || c == "\u{201E}" {
                j = i + 1
            } else if c == "`" {
                while j < s.count, s[j] == "`" { j += 1 }
            } else {
                return 0
            }
            out.append(" ")
            out.append(contentsOf: s[i..<j])
            out.append(" ")
            return j - i
        }
    }

    /// `^\"` → "``".
    private static func initialDoubleQuote(_ s: Scalars) -> Scalars {
        guard s.first == "\"" else { return s }
        return ["`", "`"] + s.dropFirst()
    }

    /// `(``)` → `" \1 "`.
    private static func padDoubleBackticks(_ s: Scalars) -> Scalars {
        padLiteral(s, ["`", "`"])
    }

    /// `([ \(\[{<])(\"|\'{2})` → `"\1 `` "`.
    private static func openingDoubleQuotes(_ s: Scalars) -> Scalars {
        substitute(s) { i, out in
            let c = s[i]
            guard c == " " || c == "(" || c == "[" || c == "{" || c == "<", i + 1 < s.count else { return 0 }
            var len = 0
            if s[i + 1] == "\"" {
                len = 2
            } else if s[i + 1] == "'", i + 2 < s.count, s[i + 2] == "'" {
                len = 3
            } else {
                return 0
            }
            out.append(c)
            out.append(contentsOf: [" ", "`", "`", " "] as Scalars)
            return len
        }
    }

    /// `(?i)(?<!\w)(\')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)` → `"\1 "` (`regex` engine classes).
    private static func openingSingleQuote(_ s: Scalars) -> Scalars {
        substitute(s) { i, out in
            guard s[i] == "'", i + 1 < s.count, C.isRxWord(s[i + 1]) else { return 0 }
            if i > 0, C.isRxWord(s[i - 1]) { return 0 }
            for clitic in quoteClitics {
                let end = i + 1 + clitic.count
                guard end <= s.count else { continue }
                var same = true
                for k in 0..<clitic.count where !rxFoldEqual(s[i + 1 + k], clitic[k]) { same = false; break }
                if same, end == s.count || !C.isRxWord(s[end]) { return 0 }
            }
            out.append("'")
            out.append(" ")
            return 1
        }
    }

    // MARK: - PUNCTUATION

    /// The final period:
    /// `([^\.])(\.)([\]\)}>"\'»”’ ]*+)\s*$` → `"\1 \2 \3 "` (`extendedClass`), or
    /// `([^\.])(\.)([\]\)}>"\']*)\s*$` → `"\1 \2\3 "`.
    /// Both match at most once: after the period only closing characters, then whitespace.
    private static func finalPeriod(_ s: Scalars, extendedClass: Bool) -> Scalars {
        func inClass(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case "]", ")", "}", ">", "\"", "'": return true
            case "\u{BB}", "\u{201D}", "\u{2019}", " ": return extendedClass
            default: return false
            }
        }
        return substitute(s) { i, out in
            guard s[i] != ".", i + 1 < s.count, s[i + 1] == "." else { return 0 }
            var j = i + 2
            while j < s.count, inClass(s[j]) { j += 1 }
            var k = j
            while k < s.count, C.isRxSpace(s[k]) { k += 1 }
            guard k == s.count else { return 0 }
            out.append(s[i])
            out.append(" ")
            out.append(".")
            if extendedClass { out.append(" ") }
            out.append(contentsOf: s[(i + 2)..<j])
            out.append(" ")
            return s.count - i
        }
    }

    /// `([:,])([^\d])` → `" \1 \2"`.
    private static func commaColonBeforeNonDigit(_ s: Scalars) -> Scalars {
        substitute(s) { i, out in
            let c = s[i]
            guard c == ":" || c == ",", i + 1 < s.count, !C.isRxDigit(s[i + 1]) else { return 0 }
            out.append(" ")
            out.append(c)
            out.append(" ")
            out.append(s[i + 1])
            return 2
        }
    }

    /// `([:,])$` → `" \1 "`.
    private static func commaColonAtEnd(_ s: Scalars) -> Scalars {
        substitute(s) { i, out in
            let c = s[i]
            guard c == ":" || c == ",", atEnd(s, i + 1) else { return 0 }
            out.append(" ")
            out.append(c)
            out.append(" ")
            return 1
        }
    }

    /// `\.{2,}` → `" \g<0> "`.
    private static func periodRuns(_ s: Scalars) -> Scalars {
        substitute(s) { i, out in
            guard s[i] == ".", i + 1 < s.count, s[i + 1] == "." else { return 0 }
            var j = i + 2
            while j < s.count, s[j] == "." { j += 1 }
            out.append(" ")
            out.append(contentsOf: s[i..<j])
            out.append(" ")
            return j - i
        }
    }

    /// `([^'])' ` → `"\1 ' "`.
    private static func quoteBeforeSpace(_ s: Scalars) -> Scalars {
        substitute(s) { i, out in
            guard s[i] != "'", i + 2 < s.count, s[i + 1] == "'", s[i + 2] == " " else { return 0 }
            out.append(s[i])
            out.append(contentsOf: [" ", "'", " "] as Scalars)
            return 3
        }
    }

    // MARK: - CONVERT_PARENTHESES

    /// `\(` → `-LRB-`, `\)` → `-RRB-`, `\[` → `-LSB-`, `\]` → `-RSB-`, `\{` → `-LCB-`, `\}` → `-RCB-`
    /// (six substitutions whose replacements hold no bracket, so one pass).
    private static func treebankBrackets(_ s: Scalars) -> Scalars {
        substitute(s) { i, out in
            let name: String
            switch s[i] {
            case "(": name = "-LRB-"
            case ")": name = "-RRB-"
            case "[": name = "-LSB-"
            case "]": name = "-RSB-"
            case "{": name = "-LCB-"
            case "}": name = "-RCB-"
            default: return 0
            }
            out.append(contentsOf: name.unicodeScalars)
            return 1
        }
    }

    // MARK: - ENDING_QUOTES

    /// `\s+` → `" "` (`regex` engine `\s`).
    private static func collapseSpaces(_ s: Scalars) -> Scalars {
        substitute(s) { i, out in
            guard C.isRxSpace(s[i]) else { return 0 }
            var j = i + 1
            while j < s.count, C.isRxSpace(s[j]) { j += 1 }
            out.append(" ")
            return j - i
        }
    }

    /// `([^' ])(alternatives) ` → `"\1 \2 "`, the alternatives tried in order.
    private static func clitics(_ s: Scalars, _ alts: [Scalars]) -> Scalars {
        substitute(s) { i, out in
            guard s[i] != "'", s[i] != " " else { return 0 }
            for alt in alts {
                let end = i + 1 + alt.count
                guard hasPrefix(s, i + 1, alt), end < s.count, s[end] == " " else { continue }
                out.append(s[i])
                out.append(" ")
                out.append(contentsOf: alt)
                out.append(" ")
                return end + 1 - i
            }
            return 0
        }
    }

    // MARK: - CONTRACTIONS2 / CONTRACTIONS3 (Python `re`)

    /// `(?i)\b(a)(b)\b` (or `(?i)\b(a)(b)(?=\s)`) → `" \1 \2 "`.
    private static func contraction(_ s: Scalars, _ first: Scalars, _ second: Scalars, spaceAfter: Bool) -> Scalars {
        let len = first.count + second.count
        return substitute(s) { i, out in
            guard reFoldEqual(s[i], first[0]), i == 0 || !C.isReWord(s[i - 1]) else { return 0 }
            guard reFoldPrefix(s, i, first), reFoldPrefix(s, i + first.count, second) else { return 0 }
            let end = i + len
            if spaceAfter {
                guard end < s.count, C.isPySpace(s[end]) else { return 0 }
            } else {
                guard end == s.count || !C.isReWord(s[end]) else { return 0 }
            }
            out.append(" ")
            out.append(contentsOf: s[i..<(i + first.count)])
            out.append(" ")
            out.append(contentsOf: s[(i + first.count)..<end])
            out.append(" ")
            return len
        }
    }

    /// `(?i) (a)(b)\b` → `" \1 \2 "`.
    private static func contraction3(_ s: Scalars, _ first: Scalars, _ second: Scalars) -> Scalars {
        let len = 1 + first.count + second.count
        return substitute(s) { i, out in
            guard s[i] == " ", reFoldPrefix(s, i + 1, first), reFoldPrefix(s, i + 1 + first.count, second) else { return 0 }
            let end = i + len
            guard end == s.count || !C.isReWord(s[end]) else { return 0 }
            out.append(" ")
            out.append(contentsOf: s[(i + 1)..<(i + 1 + first.count)])
            out.append(" ")
            out.append(contentsOf: s[(i + 1 + first.count)..<end])
            out.append(" ")
            return len
        }
    }

    private static func reFoldPrefix(_ s: Scalars, _ i: Int, _ lit: Scalars) -> Bool {
        guard i + lit.count <= s.count else { return false }
        for k in 0..<lit.count where !reFoldEqual(s[i + k], lit[k]) { return false }
        return true
    }

    /// Whether `c` matches the lower-case ASCII pattern character `p` under `(?i)` of the
    /// `regex` engine (simple case folding).
    private static func rxFoldEqual(_ c: Unicode.Scalar, _ p: Unicode.Scalar) -> Bool {
        if c == p { return true }
        if p.value >= 0x61, p.value <= 0x7A, c.value == p.value - 0x20 { return true }
        switch (p, c.value) {
        case ("s", 0x17F), ("k", 0x212A), ("i", 0x130): return true
        default: return false
        }
    }

    /// Whether `c` matches the lower-case ASCII pattern character `p` under `(?i)` of Python's `re`.
    private static func reFoldEqual(_ c: Unicode.Scalar, _ p: Unicode.Scalar) -> Bool {
        if c == p { return true }
        if p.value >= 0x61, p.value <= 0x7A, c.value == p.value - 0x20 { return true }
        switch (p, c.value) {
        case ("s", 0x17F), ("k", 0x212A), ("i", 0x130), ("i", 0x131): return true
        default: return false
        }
    }

    /// `str.split()`.
    private static func splitPySpace(_ s: Scalars) -> [String] {
        var out: [String] = []
        var start = -1
        for i in 0..<s.count {
            if C.isPySpace(s[i]) {
                if start >= 0 { out.append(C.string(s[start..<i])); start = -1 }
            } else if start < 0 {
                start = i
            }
        }
        if start >= 0 { out.append(C.string(s[start..<s.count])) }
        return out
    }
}

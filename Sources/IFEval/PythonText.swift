import Foundation

/// Python `str` semantics that IFEval's checks rely on, over Unicode scalars (a Python string is
/// a sequence of code points, not of grapheme clusters): `isspace`, `strip`, `split()`,
/// `isupper`/`islower`, `lower` (with the final-sigma rule) and `\w`.
public enum PythonText {
    /// `str.isspace()` of one code point: bidirectional class WS/B/S or category Zs.
    public static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `\w` of Python's `re` on str: `str.isalnum()` (letters and characters with a numeric
    /// type) or `_`. Combining marks are not word characters.
    public static func isWord(_ s: Unicode.Scalar) -> Bool {
        if s == "_" { return true }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return s.properties.numericType != nil
        }
    }

    /// `str.strip()`.
    public static func strip(_ text: String) -> String {
        let u = Array(text.unicodeScalars)
        var lo = 0, hi = u.count
        while lo < hi, isSpace(u[lo]) { lo += 1 }
        while hi > lo, isSpace(u[hi - 1]) { hi -= 1 }
        return string(u[lo..<hi])
    }

    /// `str.strip(chars)`, `lstrip(chars)`, `rstrip(chars)` for a set of code points.
    public static func strip(_ text: String, _ chars: Set<Unicode.Scalar>, leading: Bool = true, trailing: Bool = true) -> String {
        let u = Array(text.unicodeScalars)
        var lo = 0, hi = u.count
        if leading { while lo < hi, chars.contains(u[lo]) { lo += 1 } }
        if trailing { while hi > lo, chars.contains(u[hi - 1]) { hi -= 1 } }
        return string(u[lo..<hi])
    }

    /// `str.split()` with no separator: runs of whitespace split, none at the ends.
    public static func splitWhitespace(_ text: String) -> [String] {
        var out: [String] = []
        var cur = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if isSpace(s) {
                if !cur.isEmpty { out.append(String(cur)); cur = String.UnicodeScalarView() }
            } else {
                cur.append(s)
            }
        }
        if !cur.isEmpty { out.append(String(cur)) }
        return out
    }

    /// `str.split(sep)` with a non-empty literal separator: non-overlapping, left to right.
    public static func split(_ text: String, separator: String) -> [String] {
        let u = Array(text.unicodeScalars), sep = Array(separator.unicodeScalars)
        precondition(!sep.isEmpty, "empty separator")
        var out: [String] = []
        var start = 0, i = 0
        while i + sep.count <= u.count {
            if u[i..<(i + sep.count)].elementsEqual(sep) {
                out.append(string(u[start..<i]))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        out.append(string(u[start..<u.count]))
        return out
    }

    /// `str.isupper()`: no lowercase or titlecase character and at least one uppercase one.
    public static func isUpper(_ text: String) -> Bool {
        var cased = false
        for s in text.unicodeScalars {
            let p = s.properties
            if p.isLowercase || p.generalCategory == .titlecaseLetter { return false }
            if p.isUppercase { cased = true }
        }
        return cased
    }

    /// `str.islower()`: no uppercase or titlecase character and at least one lowercase one.
    public static func isLower(_ text: String) -> Bool {
        var cased = false
        for s in text.unicodeScalars {
            let p = s.properties
            if p.isUppercase || p.generalCategory == .titlecaseLetter { return false }
            if p.isLowercase { cased = true }
        }
        return cased
    }

    /// `str.lower()`: the full lowercase mapping of each code point, and Greek capital sigma as
    /// final ς where it ends a word (Unicode's Final_Sigma condition, as CPython applies it).
    public static func lower(_ text: String) -> String {
        let u = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, s) in u.enumerated() {
            if s.value == 0x03A3 {
                out.append(finalSigma(u, i) ? "\u{03C2}" : "\u{03C3}")
            } else {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }

    private static func isCased(_ s: Unicode.Scalar) -> Bool { s.properties.isCased }
    private static func isCaseIgnorable(_ s: Unicode.Scalar) -> Bool { s.properties.isCaseIgnorable }

    private static func finalSigma(_ u: [Unicode.Scalar], _ i: Int) -> Bool {
        var j = i - 1
        while j >= 0, isCaseIgnorable(u[j]) { j -= 1 }
        guard j >= 0, isCased(u[j]) else { return false }
        var k = i + 1
        while k < u.count, isCaseIgnorable(u[k]) { k += 1 }
        return k == u.count || !isCased(u[k])
    }

    /// `\w` of the third-party `regex` engine, which NLTK compiles its tokenizers' patterns
    /// with (`nltk.redos`): Unicode's word class (UTS #18), alphabetic characters, marks,
    /// decimal digits, connector punctuation and the joiners U+200C/U+200D. Unlike `re`'s, it
    /// takes combining marks and not `²` or `½`.
    public static func isRegexWord(_ s: Unicode.Scalar) -> Bool {
        let p = s.properties
        if p.isAlphabetic || s.value == 0x200C || s.value == 0x200D { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// The number of `\w+` runs of IFEval's `count_words` (NLTK's `RegexpTokenizer(r"\w+")`,
    /// compiled with the `regex` engine: `isRegexWord`).
    public static func countWords(_ text: String) -> Int {
        var n = 0, inWord = false
        for s in text.unicodeScalars {
            let w = isRegexWord(s)
            if w && !inWord { n += 1 }
            inWord = w
        }
        return n
    }

    /// Code points, as Python indexes them.
    public static func scalars(_ text: String) -> [Unicode.Scalar] { Array(text.unicodeScalars) }

    static func string<C: Collection>(_ scalars: C) -> String where C.Element == Unicode.Scalar {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars)
        return String(v)
    }
}

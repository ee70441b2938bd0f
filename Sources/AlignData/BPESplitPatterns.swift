/// The pre-tokenisation regexes this library implements, each as a hand-written
/// matcher over Unicode scalars that reproduces Oniguruma's leftmost-first,
/// backtracking semantics for that one pattern (as used by Hugging Face
/// `tokenizers`). Patterns are recognised by their exact source text.
enum BPESplitPattern: String, Sendable, Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// LLaMA-3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// Qwen2: the LLaMA-3 pattern with `\p{N}` (single digits) instead of `\p{N}{1,3}`.
    case qwen2

    /// The pattern's canonical source text (as written in tokenizer.json files).
    var source: String {
        switch self {
        case .gpt2:
            return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .qwen2:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    /// Recognises a regex source. Besides the canonical texts this accepts
    /// llama.cpp's case-expanded contraction group `(?:'[sS]|'[tT]|…)`, and raw
    /// CR/LF characters in place of the `\r` `\n` escapes.
    init?(regex: String) {
        var s = regex.replacingOccurrences(of: "\r", with: #"\r"#).replacingOccurrences(of: "\n", with: #"\n"#)
        let expanded = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"#
        if s.hasPrefix(expanded) {
            s = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)"# + s.dropFirst(expanded.count)
        }
        for candidate in [BPESplitPattern.gpt2, .llama3, .qwen2] where candidate.source == s {
            self = candidate
            return
        }
        // llama.cpp's GPT-2 variant omits the final `|\s+`; it matches the same strings.
        if s == #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"# {
            self = .gpt2
            return
        }
        return nil
    }

    /// Appends the end index of every match in `start ..< end` to `ends`.
    /// Every one of these patterns matches at every position, so the matches
    /// tile the range exactly (there are no gaps).
    func split(_ s: UnsafePointer<UInt32>, _ c: UnsafePointer<UInt8>, _ start: Int, _ end: Int, into ends: inout [Int32]) {
        var i = start
        switch self {
        case .gpt2:
            while i < end {
                i = BPESplitPattern.matchGPT2(s, c, i, end)
                ends.append(Int32(i))
            }
        case .llama3:
            while i < end {
                i = BPESplitPattern.matchLlama3(s, c, i, end, maxDigits: 3)
                ends.append(Int32(i))
            }
        case .qwen2:
            while i < end {
                i = BPESplitPattern.matchLlama3(s, c, i, end, maxDigits: 1)
                ends.append(Int32(i))
            }
        }
    }

    // MARK: - Matchers

    private static let apostrophe: UInt32 = 0x27
    private static let space: UInt32 = 0x20
    private static let cr: UInt32 = 0x0D
    private static let lf: UInt32 = 0x0A

    @inline(__always)
    private static func isOther(_ k: UInt8) -> Bool {
        k & (ScalarClass.letter | ScalarClass.number | ScalarClass.whitespace) == 0
    }

    /// Length (2 or 3) of a contraction `'s 't 're 've 'm 'll 'd` at `i`, else 0.
    /// `caseInsensitive` follows Oniguruma's case folding (`(?i:…)`), which also
    /// folds U+017F LATIN SMALL LETTER LONG S to `s`.
    @inline(__always)
    private static func contraction(_ s: UnsafePointer<UInt32>, _ i: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard s[i] == apostrophe, i + 1 < end else { return 0 }
        @inline(__always) func lower(_ v: UInt32) -> UInt32 {
            guard caseInsensitive else { return v }
            if v >= 0x41 && v <= 0x5A { return v | 0x20 }
            if v == 0x17F { return 0x73 }
            return v
        }
        let a = lower(s[i + 1])
        switch a {
        case 0x73, 0x74, 0x6D, 0x64: return 2                      // s t m d
        case 0x72, 0x76:                                          // r v → re ve
            return i + 2 < end && lower(s[i + 2]) == 0x65 ? 3 : 0
        case 0x6C:                                                // l → ll
            return i + 2 < end && lower(s[i + 2]) == 0x6C ? 3 : 0
        default: return 0
        }
    }

    /// `\s+(?!\S)|\s+` at a whitespace scalar `i`.
    @inline(__always)
    private static func whitespaceRun(_ c: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var j = i + 1
        while j < end && c[j] & ScalarClass.whitespace != 0 { j += 1 }
        if j == end || j - i == 1 { return j }
        return j - 1   // leave the last space to prefix the following word
    }

    @inline(__always)
    private static func run(_ c: UnsafePointer<UInt8>, from i: Int, _ end: Int, while bit: UInt8) -> Int {
        var j = i
        while j < end && c[j] & bit != 0 { j += 1 }
        return j
    }

    @inline(__always)
    private static func otherRun(_ c: UnsafePointer<UInt8>, from i: Int, _ end: Int) -> Int {
        var j = i
        while j < end && isOther(c[j]) { j += 1 }
        return j
    }

    /// One match of the GPT-2 pattern starting at `i` (returns its end).
    static func matchGPT2(_ s: UnsafePointer<UInt32>, _ c: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        let n = contraction(s, i, end, caseInsensitive: false)
        if n > 0 { return i + n }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: the optional space is
        // taken only when the class run follows it.
        let first = (s[i] == space && i + 1 < end) ? i + 1 : i
        let k = c[first]
        if k & ScalarClass.letter != 0 { return run(c, from: first + 1, end, while: ScalarClass.letter) }
        if k & ScalarClass.number != 0 { return run(c, from: first + 1, end, while: ScalarClass.number) }
        if isOther(k) { return otherRun(c, from: first + 1, end) }
        // Here `c[i]` is whitespace (a space followed by whitespace, or other whitespace).
        return whitespaceRun(c, i, end)
    }

    /// One match of the LLaMA-3 / Qwen2 pattern starting at `i`.
    static func matchLlama3(_ s: UnsafePointer<UInt32>, _ c: UnsafePointer<UInt8>, _ i: Int, _ end: Int, maxDigits: Int) -> Int {
        let n = contraction(s, i, end, caseInsensitive: true)
        if n > 0 { return i + n }
        let v = s[i]
        let k = c[i]
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if k & ScalarClass.letter != 0 { return run(c, from: i + 1, end, while: ScalarClass.letter) }
        if v != cr && v != lf && k & ScalarClass.number == 0 && i + 1 < end && c[i + 1] & ScalarClass.letter != 0 {
            return run(c, from: i + 2, end, while: ScalarClass.letter)
        }
        // `\p{N}{1,maxDigits}`
        if k & ScalarClass.number != 0 {
            var j = i + 1
            while j < end && j - i < maxDigits && c[j] & ScalarClass.number != 0 { j += 1 }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let first = (v == space && i + 1 < end) ? i + 1 : i
        if isOther(c[first]) {
            var j = otherRun(c, from: first + 1, end)
            while j < end && (s[j] == cr || s[j] == lf) { j += 1 }
            return j
        }
        do {
            // Here `c[i]` is whitespace.
            // `\s*[\r\n]+`: the whitespace run up to and including its last CR/LF.
            var j = i
            var lastNewline = -1
            while j < end && c[j] & ScalarClass.whitespace != 0 {
                if s[j] == cr || s[j] == lf { lastNewline = j }
                j += 1
            }
            if lastNewline >= 0 { return lastNewline + 1 }
            // `\s+(?!\S)|\s+`
            if j == end || j - i == 1 { return j }
            return j - 1
        }
    }
}

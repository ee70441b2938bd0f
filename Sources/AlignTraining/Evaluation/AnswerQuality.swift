/// Whether generated answers are degenerate: empty, cut at the token limit, or looping (a
/// repeated word n-gram). The quality guard of a run that optimises a checkable reward: a
/// policy can game a check with empty or looping text, and these rates say whether it did.
public enum AnswerQuality {
    /// The words of `repeatedNgram`-grams: an answer loops when some n-gram of this many
    /// whitespace-separated words occurs `repeatedNgramCount` times or more.
    public static let repeatedNgram = 4
    public static let repeatedNgramCount = 4

    public struct Flags: Sendable, Equatable {
        public var empty: Bool
        public var truncated: Bool
        public var repetitive: Bool
        public var degenerate: Bool { empty || truncated || repetitive }
    }

    /// `truncated`: generation stopped at the token limit rather than on a stop token.
    public static func flags(_ text: String, truncated: Bool) -> Flags {
        let words = text.split(whereSeparator: { $0.isWhitespace }).map { $0.lowercased() }
        return Flags(empty: words.isEmpty, truncated: truncated, repetitive: loops(words))
    }

    static func loops(_ words: [String]) -> Bool {
        let n = repeatedNgram
        guard words.count >= n * repeatedNgramCount else { return false }
        var counts: [ArraySlice<String>: Int] = [:]
        for i in 0...(words.count - n) {
            let g = words[i..<(i + n)]
            counts[g, default: 0] += 1
            if counts[g]! >= repeatedNgramCount { return true }
        }
        return false
    }

    /// Rates over many answers.
    public struct Rates: Sendable, Equatable {
        public var answers = 0
        public var empty = 0
        public var truncated = 0
        public var repetitive = 0
        public var degenerate = 0
        public var tokens = 0

        public init() {}

        public mutating func add(_ f: Flags, tokens: Int) {
            answers += 1
            if f.empty { empty += 1 }
            if f.truncated { truncated += 1 }
            if f.repetitive { repetitive += 1 }
            if f.degenerate { degenerate += 1 }
            self.tokens += tokens
        }

        public var meanTokens: Double { answers == 0 ? 0 : Double(tokens) / Double(answers) }
        public func share(_ k: Int) -> Double { answers == 0 ? 0 : Double(k) / Double(answers) }
    }
}

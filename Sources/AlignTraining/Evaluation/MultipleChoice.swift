import AlignData
import AlignNN
import AlignTensor
import Foundation

/// Multiple-choice accuracy read from the logits of the option letters (seed 003's C-Eval
/// recipe, ALGORITHMS.md Evaluation): the question and its lettered options go into the prompt,
/// which ends with "Answer:"; the logits of the next token are read only at the option letters
/// (" A", " B", …: each letter with a leading space when that is one token, else the bare
/// letter), normalised with a softmax over those letters; the prediction is the most probable
/// letter. The probabilities also give the calibration (`Calibration`).
public enum MultipleChoice {
    public struct Question: Sendable, Equatable {
        public var question: String
        public var choices: [String]
        /// Index of the right choice.
        public var answer: Int

        public init(question: String, choices: [String], answer: Int) {
            self.question = question
            self.choices = choices
            self.answer = answer
        }
    }

    public struct Result: Sendable, Equatable {
        /// Softmax over the option letters' logits.
        public var probabilities: [Double]
        public var predicted: Int
        public var correct: Bool
        public var confidence: Double { probabilities[predicted] }
    }

    public static let letters = (0..<26).map { String(UnicodeScalar(UInt8(65 + $0))) }

    /// "question\nA. first\nB. second\n…\nAnswer:".
    public static func prompt(_ q: Question) -> String {
        ([q.question] + q.choices.enumerated().map { "\(letters[$0.offset]). \($0.element)" } + ["Answer:"]).joined(separator: "\n")
    }

    /// The token of each option letter: " X" when the tokenizer makes it one token, else "X".
    public static func letterTokens(_ count: Int, tokenizer: Tokenizer) throws -> [Int] {
        try (0..<count).map { i in
            let spaced = tokenizer.encode(" " + letters[i], addSpecialTokens: false)
            if spaced.count == 1 { return spaced[0] }
            let bare = tokenizer.encode(letters[i], addSpecialTokens: false)
            guard bare.count == 1 else {
                throw AlignDataError(.unsupported, path: tokenizer.source, "the option letter \(letters[i]) is not a single token")
            }
            return bare[0]
        }
    }

    /// Scores every question (batched, left-padded so the last column is each prompt's end).
    /// `template`: the prompt goes in as a user turn and the answer starts the assistant turn.
    public static func evaluate(_ questions: [Question], model: any CausalLM, tokenizer: Tokenizer, template: ChatTemplate?,
                                batchSize: Int) throws -> [Result] {
        var results: [Result] = []
        // the letters' tokens, once: the first k of them serve a question with k options
        let maxChoices = questions.map(\.choices.count).max() ?? 0
        let allLetters = try letterTokens(maxChoices, tokenizer: tokenizer)
        var i = 0
        while i < questions.count {
            let chunk = Array(questions[i..<min(i + batchSize, questions.count)])
            i += chunk.count
            let prompts = try chunk.map { q -> [Int] in
                guard let template else { return tokenizer.encode(prompt(q)) }
                let turn = try template.encode([.user(prompt(q))], with: tokenizer, addGenerationPrompt: true).ids
                return turn + tokenizer.encode("Answer:", addSpecialTokens: false)
            }
            let length = prompts.map(\.count).max() ?? 0
            let pad = tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0
            var ids: [Int] = [], mask: [Float] = []
            for p in prompts {
                ids += [Int](repeating: pad, count: length - p.count) + p
                mask += [Float](repeating: 0, count: length - p.count) + [Float](repeating: 1, count: p.count)
            }
            let keyMask = Tensor(mask, shape: [chunk.count, length])
            let hidden = withNoGrad {
                model.hiddenStates(ids: ids, batch: chunk.count, length: length, positions: positionIDs(fromKeyMask: keyMask),
                                   keyMask: keyMask, cache: nil)
            }
            let last = hidden.reshaped([chunk.count * length, hidden.shape[2]]).indexSelect(rows: (0..<chunk.count).map { $0 * length + length - 1 })
            let logits = withNoGrad { model.logits(fromHidden: last) }.scalars   // (B, V)
            let V = logits.count / chunk.count
            for (b, q) in chunk.enumerated() {
                guard q.choices.count >= 2, q.choices.count <= letters.count, q.choices.indices.contains(q.answer) else {
                    preconditionFailure("MultipleChoice: questions are validated by the reader")
                }
                let scores = allLetters.prefix(q.choices.count).map { Double(logits[b * V + $0]) }
                let top = scores.max()!
                let exps = scores.map { Foundation.exp($0 - top) }
                let total = exps.reduce(0, +)
                let p = exps.map { $0 / total }
                let predicted = p.indices.max { p[$0] < p[$1] }!
                results.append(Result(probabilities: p, predicted: predicted, correct: predicted == q.answer))
            }
        }
        return results
    }

    /// Reads `{"question", "choices": [...], "answer": "B" | 1}` lines; errors name file and line.
    public static func read(_ path: String) throws -> [Question] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AlignDataError(.notFound, path: path, "cannot read the file")
        }
        var out: [Question] = []
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            let at = "\(path):\(n + 1)"
            guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw AlignDataError(.malformed, path: at, "not a JSON object")
            }
            guard let question = o["question"] as? String else { throw AlignDataError(.malformed, path: at, "missing string \"question\"") }
            guard let choices = o["choices"] as? [String], (2...letters.count).contains(choices.count) else {
                throw AlignDataError(.malformed, path: at, "\"choices\" must be an array of 2 to 26 strings")
            }
            let answer: Int
            if let letter = o["answer"] as? String, let i = letters.firstIndex(of: letter.uppercased()), i < choices.count {
                answer = i
            } else if let i = o["answer"] as? Int, choices.indices.contains(i) {
                answer = i
            } else {
                throw AlignDataError(.malformed, path: at, "\"answer\" must be a letter A–\(letters[choices.count - 1]) or an index 0–\(choices.count - 1)")
            }
            out.append(Question(question: question, choices: choices, answer: answer))
        }
        guard !out.isEmpty else { throw AlignDataError(.invalidArgument, path: path, "no questions") }
        return out
    }
}

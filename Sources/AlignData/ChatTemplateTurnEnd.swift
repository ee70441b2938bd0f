/// Where a reply ends for a reward model.
///
/// Generation stops at the end-of-turn token (`<|im_end|>`, `<|eot_id|>`, EOS), but a template
/// may render more after that token when the conversation ends with the reply: chatml writes a
/// `\n`, so `apply_chat_template([user, assistant])` ends `<|im_end|>\n`. align's convention:
/// a reward model reads the last token of the conversation as the template renders it, which is
/// where a transformers user's `AutoModelForSequenceClassification` call on
/// `apply_chat_template` output reads it. Preference pairs are tokenised that way (the response
/// runs to the end of the rendered text), and an online trainer appends these ids to a
/// generated reply that ended with a stop token before a reward model scores it.
extension ChatTemplate {
    /// The ids the template renders after a final assistant turn's end-of-turn token: [`\n`]
    /// for chatml, [] for llama3, alpaca and plain. `stopTokens` are the ids generation stops
    /// at; a template whose assistant range ends before its end-of-turn token (a
    /// `{% generation %}` block around the content only) has that token dropped from the front,
    /// since a generated reply already ends with it.
    public func turnSuffixIDs(tokenizer: Tokenizer, stopTokens: [Int]) throws -> [Int] {
        let rendered = try render([.user("Hi"), .assistant("Hello")], tokenizer: tokenizer)
        guard let last = rendered.assistantRanges.last else { return [] }
        var text = String(decoding: Array(rendered.text.utf8)[last.upperBound...], as: UTF8.self)
        for stop in stopTokens {
            if let s = tokenizer.idToToken(stop), !s.isEmpty, text.hasPrefix(s) {
                text.removeFirst(s.count)
                break
            }
        }
        return text.isEmpty ? [] : tokenizer.encode(text, addSpecialTokens: false)
    }
}

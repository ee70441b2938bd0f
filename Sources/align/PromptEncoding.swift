import AlignData
import AlignNN

/// Prompts as every generating command sends them: through the model's chat template (an
/// optional system turn, the user turn, the generation prompt) when `chat`, else the raw text
/// with the tokenizer's special tokens.
func promptIDs(_ prompts: [String], tokenizer: Tokenizer, chat: Bool, system: String? = nil) throws -> [[Int]] {
    let template = chat ? ChatTemplate.detect(tokenizer) ?? .chatml : nil
    return try prompts.map { text in
        guard let template else { return tokenizer.encode(text, addSpecialTokens: true) }
        var messages: [ChatMessage] = []
        if let system { messages.append(.system(system)) }
        messages.append(.user(text))
        return try template.encode(messages, with: tokenizer, addGenerationPrompt: true).ids
    }
}

/// Where generation stops: the model config's EOS ids and the tokenizer's EOS.
func stopTokenIDs(_ model: any CausalLM, _ tokenizer: Tokenizer) -> [Int] {
    var stops = model.config.eosTokenIDs
    if let eos = tokenizer.eosTokenID, !stops.contains(eos) { stops.append(eos) }
    return stops
}

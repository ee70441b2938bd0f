import AlignData
import AlignNN
import Foundation

/// Prompts as every generating command sends them (`PromptEncoding`): through the model's chat
/// template (an optional system turn, the user turn, the generation prompt) when `chat`, else
/// the raw text with the tokenizer's special tokens.
func promptIDs(_ prompts: [String], tokenizer: Tokenizer, chat: Bool, system: String? = nil) throws -> [[Int]] {
    let template = chat ? try ChatTemplate.resolve(nil, tokenizer: tokenizer) : nil
    return try prompts.map { try PromptEncoding.ids(.text($0), tokenizer: tokenizer, template: template, system: system) }
}

/// The prompts of a prompt-only JSONL file (`PromptDataset`: file:line errors, other fields kept).
func readPrompts(_ path: String) throws -> [PromptRecord] {
    try PromptDataset.read(URL(fileURLWithPath: path))
}

/// Where generation stops: the model config's EOS ids and the tokenizer's EOS.
func stopTokenIDs(_ model: any CausalLM, _ tokenizer: Tokenizer) -> [Int] {
    var stops = model.config.eosTokenIDs
    if let eos = tokenizer.eosTokenID, !stops.contains(eos) { stops.append(eos) }
    return stops
}

import AlignData
import AlignNN
import AlignTensor
import Foundation

extension ModelStore {
    /// The model with its token embedding (and untied LM head) grown to `size` rows, as
    /// transformers' `resize_token_embeddings` does after tokens are added to a tokenizer. New
    /// rows are the mean of the existing rows, so new tokens start as an "average" token rather
    /// than noise; existing rows are unchanged.
    public static func resizeVocabulary(_ loaded: LoadedModel, to size: Int) throws -> LoadedModel {
        let old = loaded.model.config.vocabSize
        guard size >= old else {
            throw AlignDataError(.invalidArgument, path: loaded.source.path,
                                 "cannot shrink the vocabulary from \(old) to \(size) tokens")
        }
        if size == old { return loaded }
        var stateDict = loaded.model.stateDict()
        let embeddingKeys = ["model.embed_tokens.weight", "transformer.wte.weight", "lm_head.weight"]
        for key in embeddingKeys {
            guard let table = stateDict[key] else { continue }
            stateDict[key] = grow(table, to: size)
        }
        var config = try JSONSerialization.jsonObject(with: loaded.configJSON()) as! [String: Any]
        config["vocab_size"] = size
        let data = try JSONSerialization.data(withJSONObject: config)
        let model = try build(loaded.family, config: data, stateDict: stateDict, path: loaded.source.path)
        return LoadedModel(family: loaded.family, model: model, source: loaded.source)
    }

    /// (V, C) → (size, C): extra rows are the mean of the existing ones.
    static func grow(_ table: Tensor, to size: Int) -> Tensor {
        let (v, c) = (table.shape[0], table.shape[1])
        var values = table.scalars
        var mean = [Double](repeating: 0, count: c)
        for r in 0..<v { for j in 0..<c { mean[j] += Double(values[r * c + j]) } }
        let row = mean.map { Float($0 / Double(max(v, 1))) }
        for _ in v..<size { values += row }
        return Tensor(values, shape: [size, c])
    }
}

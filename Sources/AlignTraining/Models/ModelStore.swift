import AlignData
import AlignNN
import AlignTensor
import Foundation

/// The model families `align` runs.
public enum ModelFamily: String, Codable, Sendable {
    case gpt2
    case llama
}

/// A model loaded from disk, with what came with it.
public struct LoadedModel {
    public let family: ModelFamily
    public let model: any CausalLM
    /// Where it was loaded from (a model directory or a .gguf file).
    public let source: URL
    /// `score.weight` (num_labels, hidden) when the directory is a sequence classifier (a reward
    /// model): the backbone is the causal LM above, the head is kept here.
    public let scoreWeight: Tensor?

    public init(family: ModelFamily, model: any CausalLM, source: URL, scoreWeight: Tensor? = nil) {
        self.family = family
        self.model = model
        self.source = source
        self.scoreWeight = scoreWeight
    }

    /// Hugging Face `config.json` of the model as it is now.
    public func configJSON() throws -> Data {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(AnyEncodable(model.config))) as! [String: Any]
        object["architectures"] = [family == .llama ? "LlamaForCausalLM" : "GPT2LMHeadModel"]
        object["torch_dtype"] = "float32"
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}

/// Reads models from Hugging Face directories and GGUF files and writes Hugging Face directories.
public enum ModelStore {
    /// Loads `path`: a directory with `config.json` and safetensors weights, or a `.gguf` file.
    /// Errors name the file and the problem (missing weights, unknown architecture, keys that do
    /// not match the configuration).
    public static func load(_ path: String) throws -> LoadedModel {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw AlignDataError(.notFound, path: path, "no such file or directory")
        }
        if isDirectory.boolValue { return try loadDirectory(url) }
        if url.pathExtension.lowercased() == "gguf" { return try loadGGUF(url) }
        if url.lastPathComponent == "config.json" { return try loadDirectory(url.deletingLastPathComponent()) }
        throw AlignDataError(.invalidArgument, path: path, "expected a model directory (config.json + model.safetensors) or a .gguf file")
    }

    static func family(ofConfig data: Data, path: String) throws -> ModelFamily {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw AlignDataError(.malformed, path: path, "config.json is not a JSON object")
        }
        let type = (object["model_type"] as? String) ?? ""
        switch type {
        case "gpt2": return .gpt2
        case "llama", "mistral": return .llama
        default:
            let archs = (object["architectures"] as? [String])?.joined(separator: ", ") ?? "none"
            throw AlignDataError(.unsupported, path: path,
                                 "model_type '\(type)' (architectures: \(archs)) is not supported; align runs gpt2 and llama-family models")
        }
    }

    /// The model of `data` (config.json) with the weights of `stateDict`, strictly: every
    /// parameter present, nothing left over, shapes equal. `zeroMissingLMHead`: an untied
    /// `lm_head.weight` absent from the weights loads as zeros.
    static func build(_ family: ModelFamily, config data: Data, stateDict: [String: Tensor], path: String,
                      zeroMissingLMHead: Bool = false) throws -> any CausalLM {
        var rng = RandomGenerator(seed: 0)
        do {
            let config: any CausalLMConfig = switch family {
            case .gpt2: try GPT2Config.decode(json: data)
            case .llama: try LlamaConfig.decode(json: data)
            }
            // sizes against the weights present and the machine, before anything is allocated
            try ParameterBudget.check(config, source: URL(fileURLWithPath: path).pathExtension.lowercased() == "gguf" ? "its metadata" : "config.json",
                                      presentValues: presentValues(stateDict, family: family, zeroMissingLMHead: zeroMissingLMHead))
            // every parameter is overwritten by the strict load below: no random draws
            let model: any CausalLM = withDeferredInitialization {
                switch config {
                case let c as GPT2Config: return GPT2Model(c, rng: &rng)
                default: return LlamaModel(config as! LlamaConfig, rng: &rng)
                }
            }
            var stateDict = stateDict
            if zeroMissingLMHead, stateDict["lm_head.weight"] == nil,
               let head = model.namedParameters().first(where: { $0.0 == "lm_head.weight" })?.1 {
                stateDict["lm_head.weight"] = Tensor.zeros(head.shape)
            }
            try model.load(stateDict: stateDict)
            return model
        } catch let e as AlignDataError {
            throw e
        } catch {
            throw AlignDataError(.malformed, path: path, "\(error)")
        }
    }

    /// The values a checkpoint holds for its model: every tensor of `stateDict`, plus an LM head of
    /// the embedding's size when `zeroMissingLMHead` fills an absent one with zeros.
    static func presentValues(_ stateDict: [String: Tensor], family: ModelFamily, zeroMissingLMHead: Bool) -> Int {
        var total = stateDict.values.reduce(0) { $0 &+ $1.shape.reduce(1, &*) }
        if zeroMissingLMHead, stateDict["lm_head.weight"] == nil,
           let embedding = stateDict[family == .gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight"] {
            total &+= embedding.shape.reduce(1, &*)
        }
        return total
    }

    /// The name of a sequence classifier's head in Hugging Face checkpoints.
    public static let scoreKey = "score.weight"

    /// A directory of a causal LM, or of a sequence classifier (`…ForSequenceClassification`, a
    /// reward model): its backbone loads as the causal LM and `score.weight` is set aside in
    /// `scoreWeight`. transformers saves a classifier without the LM head of an untied backbone;
    /// that head then loads as zeros (a reward never reads it).
    static func loadDirectory(_ dir: URL) throws -> LoadedModel {
        let configURL = dir.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw AlignDataError(.notFound, path: dir.path, "no config.json in this model directory")
        }
        let data = try Data(contentsOf: configURL)
        let family = try family(ofConfig: data, path: configURL.path)
        var stateDict = try StateDictFiles.load(directory: dir)
        let architectures = ((try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["architectures"] as? [String]) ?? []
        var score: Tensor?
        if architectures.contains(where: { $0.hasSuffix("ForSequenceClassification") }) || stateDict[scoreKey] != nil {
            guard let weight = stateDict.removeValue(forKey: scoreKey) else {
                throw AlignDataError(.notFound, path: dir.path, "config.json names \(architectures.joined(separator: ", ")) but the weights have no \(scoreKey)")
            }
            score = weight
        }
        let model = try build(family, config: data, stateDict: stateDict, path: dir.path, zeroMissingLMHead: score != nil)
        if let score {
            let hidden = model.config.hiddenSize
            guard score.rank == 2, score.shape[1] == hidden, score.shape[0] >= 1 else {
                throw AlignDataError(.malformed, path: dir.path, "\(scoreKey) has shape \(score.shape); expected [num_labels, \(hidden)]")
            }
        }
        return LoadedModel(family: family, model: model, source: dir, scoreWeight: score)
    }

    static func loadGGUF(_ url: URL) throws -> LoadedModel {
        let checkpoint = try GGUFCheckpoint(url: url)
        let data = try JSONSerialization.data(withJSONObject: checkpoint.config)
        let family: ModelFamily = checkpoint.architecture == "gpt2" ? .gpt2 : .llama
        return LoadedModel(family: family, model: try build(family, config: data, stateDict: checkpoint.stateDict, path: url.path),
                           source: url)
    }

    /// The tokenizer that comes with a model: `tokenizer.json` (+ `tokenizer_config.json`) in a
    /// model directory, or the tokenizer metadata of a GGUF file.
    public static func loadTokenizer(_ path: String) throws -> Tokenizer {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw AlignDataError(.notFound, path: path, "no such file or directory")
        }
        if isDirectory.boolValue {
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("tokenizer.json").path) else {
                throw AlignDataError(.notFound, path: path, "no tokenizer.json in this model directory")
            }
            return try Tokenizer(directory: url)
        }
        if url.pathExtension.lowercased() == "gguf" { return try Tokenizer(ggufURL: url) }
        return try Tokenizer(tokenizerJSON: url)
    }

    /// Writes `model.safetensors` (F32), `config.json`, `generation_config.json` and, with a
    /// tokenizer, `tokenizer.json` and `tokenizer_config.json` into `dir` (created if needed),
    /// each atomically. Tied weights are saved once, as transformers does.
    ///
    /// `keepScoreHead` (conversions): a model loaded from a reward-model directory is written as
    /// one again — its `score.weight`, the `…ForSequenceClassification` architecture with
    /// `num_labels`, and the source's `reward_config.json` — so `align rm score` still reads it.
    /// Without it the causal LM alone is written (a run that trained the backbone).
    public static func save(_ loaded: LoadedModel, tokenizer: Tokenizer? = nil, to dir: URL, keepScoreHead: Bool = false) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var stateDict = loaded.model.stateDict()
        if tiedEmbeddings(loaded) { stateDict["lm_head.weight"] = nil }
        let score = keepScoreHead ? loaded.scoreWeight : nil
        if let score { stateDict[scoreKey] = score }
        try StateDictFiles.save(stateDict, to: dir)
        var configJSON = try loaded.configJSON()
        if let score {
            var object = try JSONSerialization.jsonObject(with: configJSON) as! [String: Any]
            let labels = score.shape[0]
            object["architectures"] = [loaded.family == .llama ? "LlamaForSequenceClassification" : "GPT2ForSequenceClassification"]
            object["num_labels"] = labels
            object["id2label"] = Dictionary(uniqueKeysWithValues: (0..<labels).map { ("\($0)", "LABEL_\($0)") })
            object["label2id"] = Dictionary(uniqueKeysWithValues: (0..<labels).map { ("LABEL_\($0)", $0) })
            configJSON = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            let rewardConfig = loaded.source.appendingPathComponent("reward_config.json")
            if let data = try? Data(contentsOf: rewardConfig) {
                try writeFileAtomically(data, to: dir.appendingPathComponent("reward_config.json"))
            }
        }
        try writeFileAtomically(configJSON, to: dir.appendingPathComponent("config.json"))
        var generation: [String: Any] = ["_from_model_config": true]
        let config = loaded.model.config
        if let bos = config.bosTokenID { generation["bos_token_id"] = bos }
        if !config.eosTokenIDs.isEmpty { generation["eos_token_id"] = config.eosTokenIDs.count == 1 ? config.eosTokenIDs[0] : config.eosTokenIDs }
        if let pad = config.padTokenID { generation["pad_token_id"] = pad }
        try writeFileAtomically(try JSONSerialization.data(withJSONObject: generation, options: [.prettyPrinted, .sortedKeys]),
                                   to: dir.appendingPathComponent("generation_config.json"))
        if let tokenizer { try tokenizer.save(to: dir) }
    }

    static func tiedEmbeddings(_ loaded: LoadedModel) -> Bool {
        switch loaded.model {
        case let m as LlamaModel: return m.config.tieWordEmbeddings
        case let m as GPT2Model: return m.config.tieWordEmbeddings
        default: return false
        }
    }
}

/// Encodes an existential `Encodable`.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}

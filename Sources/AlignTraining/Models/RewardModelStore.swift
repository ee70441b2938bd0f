import AlignData
import AlignNN
import AlignTensor
import Foundation

/// A reward model read from disk, with what came with it.
public struct LoadedRewardModel {
    public let model: RewardModel
    /// The backbone as a causal LM (family, source directory).
    public let backbone: LoadedModel
    /// The tokenizer saved next to the model, if any.
    public let tokenizer: Tokenizer?
    /// The chat template the model was trained with (from `reward_config.json`), if recorded.
    public let chatTemplate: ChatTemplate?
    /// The training run's `data.max_seq_len` (from `reward_config.json`), if recorded.
    public let maxSeqLen: Int?
}

/// Reads and writes reward models as Hugging Face sequence-classification directories:
/// `config.json` (`architectures: ["LlamaForSequenceClassification"]` or
/// `["GPT2ForSequenceClassification"]`, `num_labels` = K with `id2label`/`label2id`,
/// `pad_token_id`), `model.safetensors` (the backbone's tensors under their causal-LM names,
/// tied embeddings once, plus `score.weight` (K, hidden)), `generation_config.json`, the
/// tokenizer files, and `reward_config.json` (align's own: heads, chat template, max_seq_len).
/// `transformers.AutoModelForSequenceClassification.from_pretrained(dir)` loads it; an untied
/// model's `lm_head.weight` is kept (transformers reports it as unused) so the directory still
/// describes the whole backbone.
public enum RewardModelStore {
    public static let headKey = "\(ScalarHead.huggingFaceName).weight"
    public static let rewardConfigFile = "reward_config.json"

    /// `config.json` of a reward model: the backbone's configuration with the sequence
    /// classification architecture, `num_labels`, labels and `pad_token_id` = the model's pad id.
    public static func configJSON(_ model: RewardModel, family: ModelFamily) throws -> Data {
        let loaded = LoadedModel(family: family, model: model.backbone, source: URL(fileURLWithPath: "/"))
        var object = try JSONSerialization.jsonObject(with: loaded.configJSON()) as! [String: Any]
        object["architectures"] = [family == .llama ? "LlamaForSequenceClassification" : "GPT2ForSequenceClassification"]
        let K = model.numHeads
        object["num_labels"] = K
        object["id2label"] = Dictionary(uniqueKeysWithValues: (0..<K).map { ("\($0)", "LABEL_\($0)") })
        object["label2id"] = Dictionary(uniqueKeysWithValues: (0..<K).map { ("LABEL_\($0)", $0) })
        object["pad_token_id"] = model.padID.map { $0 as Any } ?? NSNull()
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// Writes the directory described above into `dir` (created if needed), each file atomically.
    public static func save(_ model: RewardModel, family: ModelFamily, tokenizer: Tokenizer?, chatTemplate: ChatTemplate? = nil,
                            maxSeqLen: Int? = nil, to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var stateDict = model.backbone.stateDict()
        precondition(stateDict[headKey] == nil, "RewardModelStore: the backbone already has a \(headKey)")
        stateDict[headKey] = model.head.score.weight.copy()
        try StateDictFiles.save(stateDict, to: dir)
        try writeFileAtomically(try configJSON(model, family: family), to: dir.appendingPathComponent("config.json"))
        let config = model.backbone.config
        var generation: [String: Any] = ["_from_model_config": true]
        if let bos = config.bosTokenID { generation["bos_token_id"] = bos }
        if !config.eosTokenIDs.isEmpty { generation["eos_token_id"] = config.eosTokenIDs.count == 1 ? config.eosTokenIDs[0] : config.eosTokenIDs }
        if let pad = model.padID { generation["pad_token_id"] = pad }
        try writeJSON(generation, to: dir.appendingPathComponent("generation_config.json"))
        var reward: [String: Any] = ["num_heads": model.numHeads, "reward_position": "last token that is not pad_token_id",
                                     "uncertainty": "population std over heads"]
        if let family = chatTemplate?.family { reward["chat_template"] = family.rawValue }
        if let maxSeqLen { reward["max_seq_len"] = maxSeqLen }
        try writeJSON(reward, to: dir.appendingPathComponent(rewardConfigFile))
        if let tokenizer { try tokenizer.save(to: dir) }
    }

    public static func writeJSON(_ object: [String: Any], to url: URL) throws {
        try writeFileAtomically(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
                                to: url)
    }

    /// Loads a reward model directory (or its `config.json`) through `ModelStore` (strict
    /// state-dict loading; `score.weight` set aside as the head), the pad id from
    /// `pad_token_id`, and the tokenizer when present. Directories written by transformers
    /// (`save_pretrained` of a `…ForSequenceClassification`) load too. Errors name the directory
    /// and the problem (no `score.weight`: not a reward model).
    public static func load(_ path: String) throws -> LoadedRewardModel {
        var url = URL(fileURLWithPath: path)
        if url.lastPathComponent == "config.json" { url.deleteLastPathComponent() }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw AlignDataError(.notFound, path: path, "no such file or directory")
        }
        guard isDirectory.boolValue else {
            throw AlignDataError(.invalidArgument, path: path, "expected a reward model directory (config.json + model.safetensors with score.weight)")
        }
        let configURL = url.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw AlignDataError(.notFound, path: path, "no config.json in this model directory")
        }
        let loaded = try ModelStore.load(url.path)
        guard let score = loaded.scoreWeight else {
            throw AlignDataError(.notFound, path: path, "no \(headKey) in the weights: not a reward model (train one with `align rm`)")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any]) ?? [:]
        let K = score.shape[0]
        if let labels = object["num_labels"] as? Int, labels != K {
            throw AlignDataError(.malformed, path: configURL.path, "num_labels is \(labels) but \(headKey) has \(K) rows")
        }
        let head = ScalarHead(weight: score)
        let padID = object["pad_token_id"] as? Int
        let model = RewardModel(backbone: loaded.model, head: head, padID: padID)
        let tokenizer = FileManager.default.fileExists(atPath: url.appendingPathComponent("tokenizer.json").path)
            ? try ModelStore.loadTokenizer(url.path) : nil
        var template: ChatTemplate?, maxSeqLen: Int?
        if let d = try? Data(contentsOf: url.appendingPathComponent(rewardConfigFile)),
           let r = try? JSONSerialization.jsonObject(with: d) as? [String: Any] {
            template = (r["chat_template"] as? String).flatMap(ChatTemplate.Family.init(rawValue:)).map { ChatTemplate($0) }
            maxSeqLen = r["max_seq_len"] as? Int
        }
        return LoadedRewardModel(model: model, backbone: LoadedModel(family: loaded.family, model: loaded.model, source: url),
                                 tokenizer: tokenizer, chatTemplate: template, maxSeqLen: maxSeqLen)
    }
}

import AlignData
import AlignNN
import AlignTensor
import Foundation
import XCTest

/// The model fixtures in Tests/AlignNNTests/Fixtures, written by scripts/gen_model_parity.py:
/// Hugging Face model directories (config.json + model.safetensors) and model_parity.json.
enum ModelFixtures {
    static var directory: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    static func modelDirectory(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Every tensor of a model directory's model.safetensors, as Float32 tensors.
    static func stateDict(_ name: String) throws -> [String: Tensor] {
        try readSafeTensors(modelDirectory(name).appendingPathComponent("model.safetensors"))
    }

    static func readSafeTensors(_ url: URL) throws -> [String: Tensor] {
        let file = try SafeTensorsFile(url: url)
        var out: [String: Tensor] = [:]
        for info in file.tensors { out[info.name] = Tensor(try file.floats(info.name), shape: info.shape) }
        return out
    }

    static func gpt2(_ name: String = "gpt2-tiny") throws -> GPT2Model {
        let config = try GPT2Config.load(contentsOf: modelDirectory(name))
        var rng = RandomGenerator(seed: 99)
        let model = GPT2Model(config, rng: &rng)
        try model.load(stateDict: stateDict(name))
        return model
    }

    static func llama(_ name: String = "llama-tiny") throws -> LlamaModel {
        let config = try LlamaConfig.load(contentsOf: modelDirectory(name))
        var rng = RandomGenerator(seed: 98)
        let model = LlamaModel(config, rng: &rng)
        try model.load(stateDict: stateDict(name))
        return model
    }

    static let parity: [String: Any] = {
        let url = directory.appendingPathComponent("model_parity.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()
}

/// One input case of model_parity.json with transformers' outputs.
struct ParityCase {
    let name: String
    let ids: [[Int]]
    let mask: [[Int]]?
    let positions: [[Int]]?
    let logitsFull: [Float]?
    let lastLogits: [[Float]]
    let realSum: Double
    let realSumSq: Double

    init(_ d: [String: Any]) {
        name = d["name"] as! String
        ids = (d["ids"] as! [[NSNumber]]).map { $0.map(\.intValue) }
        mask = (d["attention_mask"] as? [[NSNumber]])?.map { $0.map(\.intValue) }
        positions = (d["position_ids"] as? [[NSNumber]])?.map { $0.map(\.intValue) }
        logitsFull = (d["logits_full"] as? [NSNumber])?.map(\.floatValue)
        lastLogits = (d["last_logits"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
        realSum = (d["real_sum"] as! NSNumber).doubleValue
        realSumSq = (d["real_sumsq"] as! NSNumber).doubleValue
    }

    var batch: Int { ids.count }
    var length: Int { ids[0].count }
    var flatIDs: [Int] { ids.flatMap { $0 } }
    var keyMask: Tensor? { mask.map { Tensor($0.flatMap { $0.map(Float.init) }, shape: [batch, length]) } }
    var flatPositions: [Int]? { positions?.flatMap { $0 } }
    func isReal(_ b: Int, _ t: Int) -> Bool { mask.map { $0[b][t] != 0 } ?? true }
    func lastReal(_ b: Int) -> Int { (0..<length).last { isReal(b, $0) }! }
}

func parityCases(_ model: String) -> [ParityCase] {
    let models = ModelFixtures.parity["models"] as! [String: Any]
    return ((models[model] as! [String: Any])["cases"] as! [[String: Any]]).map(ParityCase.init)
}

/// Largest |a − b| (NaN counts as infinite).
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "maxAbsDiff: \(a.count) vs \(b.count) values")
    var worst: Float = 0
    for i in a.indices {
        let d = abs(a[i] - b[i])
        if !(d <= worst) { worst = d.isNaN ? .infinity : d }
    }
    return worst
}

/// A small random model family instance for tests that need no fixture.
func tinyLlamaConfig(tied: Bool = false) -> LlamaConfig {
    LlamaConfig(vocabSize: 23, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2, numAttentionHeads: 4,
                numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 32,
                tieWordEmbeddings: tied)
}

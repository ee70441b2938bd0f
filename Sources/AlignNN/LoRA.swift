import AlignTensor
import Foundation

/// A low-rank adapter on a `Linear` layer (Hu et al., PEFT's `LoraLayer`):
///   y = W·x + b + (α/r) · B·A·dropout(x)
/// with A (r, in) ~ Kaiming-uniform as PEFT, B (out, r) = 0, so training starts at the base
/// model. Only A and B train; `merge()` folds (α/r)·B·A into the base weight.
public final class LoRA: Module {
    /// (rank, in)
    public let a: Tensor
    /// (out, rank)
    public let b: Tensor
    public let rank: Int
    public let alpha: Float
    public let dropout: Float
    public var scale: Float { alpha / Float(rank) }
    /// The stream adapter dropout draws from while training; nil (no dropout) for evaluation.
    public var dropoutRNG: RandomGenerator?
    /// False while the adapter is switched off (the base model computes alone: PPO's reference
    /// with LoRA, as PEFT's `disable_adapter()`).
    public var enabled = true

    public init(inFeatures: Int, outFeatures: Int, rank: Int, alpha: Float, dropout: Float = 0, rng: inout RandomGenerator) {
        precondition(rank > 0, "LoRA: rank \(rank) must be positive")
        precondition(dropout >= 0 && dropout < 1, "LoRA: dropout \(dropout) must be in [0, 1)")
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        // kaiming_uniform_(a=√5) on (r, in): bound = 1/√in
        let bound = 1 / Float(inFeatures).squareRoot()
        a = Tensor.uniform([rank, inFeatures], low: -bound, high: bound, rng: &rng, requiresGrad: true)
        b = Tensor.zeros([outFeatures, rank], requiresGrad: true)
    }

    /// (α/r)·B·A·dropout(x) for x (..., in) → (..., out). Dropout draws from `rng` when given
    /// and gradients are being recorded (training); under `withNoGrad` (evaluation, generation)
    /// or without a generator the adapter is deterministic.
    public func delta(_ x: Tensor, rng: inout RandomGenerator?) -> Tensor {
        var input = x
        if dropout > 0, GradMode.isEnabled, var r = rng {
            input = x.dropout(dropout, rng: &r)
            rng = r
        }
        return Tensor.linear(Tensor.linear(input, weight: a), weight: b) * scale
    }

    /// The weight update (α/r)·B·A as a (out, in) matrix.
    public func deltaWeight() -> Tensor {
        withNoGrad { Tensor.matmul(b, a) * scale }
    }

    /// PEFT's names: `lora_A.weight`, `lora_B.weight`.
    public func namedParameters() -> [(String, Tensor)] { [("lora_A.weight", a), ("lora_B.weight", b)] }
}

extension Linear {
    /// Folds the adapter into the base weight (in place) and removes it.
    public func mergeLoRA() {
        guard let lora else { return }
        let d = lora.deltaWeight()  // (out, in)
        let w = weight.pointer
        let (outF, inF) = (outFeatures, inFeatures)
        for o in 0..<outF {
            for i in 0..<inF {
                let v = d.pointer[o * inF + i]
                if layout == .outIn { w[o * inF + i] += v } else { w[i * outF + o] += v }
            }
        }
        self.lora = nil
    }
}

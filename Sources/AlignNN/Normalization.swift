import AlignTensor

/// LayerNorm over the last axis with learned gain and bias (GPT-2).
public final class LayerNorm: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-5) {
        weight = Tensor.ones([dim], requiresGrad: true)
        bias = Tensor.zeros([dim], requiresGrad: true)
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, eps: eps) }

    public func namedParameters() -> [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
}

/// RMSNorm over the last axis with a learned gain (LLaMA).
public final class RMSNorm: Module {
    public let weight: Tensor
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-6) {
        weight = Tensor.ones([dim], requiresGrad: true)
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.rmsNorm(weight: weight, eps: eps) }

    public func namedParameters() -> [(String, Tensor)] { [("weight", weight)] }
}

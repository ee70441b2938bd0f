import AlignTensor

/// A lookup table of `count` vectors of width `dim`.
public final class Embedding: Module {
    public let weight: Tensor

    public init(_ count: Int, _ dim: Int, std: Float = 0.02, rng: inout RandomGenerator) {
        weight = Tensor.randn([count, dim], std: std, rng: &rng, requiresGrad: true)
    }

    /// ids: `shape` positions, flattened row-major. Returns shape + [dim].
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        weight.indexSelect(rows: ids, indexShape: shape)
    }

    public func namedParameters() -> [(String, Tensor)] { [("weight", weight)] }
}

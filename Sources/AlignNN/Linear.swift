import AlignTensor

/// A fully connected layer y = x·Wᵀ + b with `nn.Linear`'s (out, in) weight, or Hugging Face
/// GPT-2's `Conv1D` (in, out) weight when `layout` is `.inOut`.
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let layout: Tensor.WeightLayout
    public let inFeatures: Int
    public let outFeatures: Int
    /// A low-rank adapter added to the output while attached (see `LoRA`).
    public var lora: LoRA?

    /// Normal(0, std) weights, zero bias (GPT-2 initialisation uses std 0.02).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, layout: Tensor.WeightLayout = .outIn,
                std: Float = 0.02, rng: inout RandomGenerator) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.layout = layout
        let shape = layout == .outIn ? [outFeatures, inFeatures] : [inFeatures, outFeatures]
        weight = Tensor.randn(shape, std: std, rng: &rng, requiresGrad: true)
        self.bias = bias ? Tensor.zeros([outFeatures], requiresGrad: true) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = Tensor.linear(x, weight: weight, bias: bias, layout: layout)
        guard let lora, lora.enabled else { return y }
        return y + lora.delta(x, rng: &lora.dropoutRNG)
    }

    /// `layers` applied to one input, as `layers.map { $0(x) }` gives them: under no-grad, with
    /// no adapter switched on, (out, in) weights as one job of the few-row kernel
    /// (`Tensor.linears`: a decode step's q/k/v or gate/up; the same bits).
    public static func applied(_ layers: [Linear], to x: Tensor) -> [Tensor] {
        guard !GradMode.isEnabled, layers.allSatisfy({ $0.layout == .outIn && !($0.lora?.enabled ?? false) }) else {
            return layers.map { $0(x) }
        }
        return Tensor.linears(x, layers.map { ($0.weight, $0.bias) })
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = [("weight", weight)]
        if let bias { p.append(("bias", bias)) }
        return p
    }
}

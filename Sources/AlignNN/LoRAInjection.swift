import AlignTensor

/// Where LoRA goes and how big it is.
public struct LoRAOptions: Codable, Equatable, Sendable {
    public var rank: Int = 8
    public var alpha: Float = 16
    public var dropout: Float = 0
    /// Last path components of the Linear layers to adapt (`q_proj`, `v_proj`, `c_attn`, …).
    public var targetModules: [String]

    public init(rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targetModules: [String]) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targetModules = targetModules
    }

    /// PEFT's defaults for the families align runs.
    public static func defaultTargets(forModelType type: String) -> [String] {
        type == "gpt2" ? ["c_attn"] : ["q_proj", "v_proj"]
    }
}

extension Module {
    /// Every Linear layer below this module with its dotted path.
    public func namedLinears() -> [(String, Linear)] {
        namedModules().compactMap { name, m in (m as? Linear).map { (name, $0) } }
    }

    /// Attaches a fresh adapter to every Linear whose last path component (or whole path) is in
    /// `config.targetModules`, freezes every other parameter, and returns the adapters'
    /// parameters under PEFT's names (`<path>.lora_A.weight`). Throws when a target matches
    /// nothing, naming the Linear layers that exist.
    @discardableResult
    public func applyLoRA(_ config: LoRAOptions, rng: inout RandomGenerator) throws -> [(String, Tensor)] {
        let linears = namedLinears()
        func isTarget(_ name: String) -> Bool {
            let last = name.split(separator: ".").last.map(String.init) ?? name
            return config.targetModules.contains { $0 == last || $0 == name }
        }
        guard config.rank >= 1 else { throw ModelConfigError("lora.rank = \(config.rank), expected a positive integer") }
        try ParameterBudget.checkLoRA(rank: config.rank, layers: linears.filter { isTarget($0.0) }.map { ($0.1.inFeatures, $0.1.outFeatures) })
        var matched = Set<String>()
        var out: [(String, Tensor)] = []
        for (name, linear) in linears {
            let last = name.split(separator: ".").last.map(String.init) ?? name
            guard let target = config.targetModules.first(where: { $0 == last || $0 == name }) else { continue }
            matched.insert(target)
            let adapter = LoRA(inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, rank: config.rank,
                               alpha: config.alpha, dropout: config.dropout, rng: &rng)
            linear.lora = adapter
            out += adapter.namedParameters().map { ("\(name).\($0.0)", $0.1) }
        }
        let missing = config.targetModules.filter { !matched.contains($0) }
        guard missing.isEmpty else {
            for (_, linear) in linears { linear.lora = nil }
            let names = Set(linears.map { $0.0.split(separator: ".").last.map(String.init) ?? $0.0 }).sorted()
            throw ModelConfigError("lora.target_modules: \(missing.joined(separator: ", ")) match no Linear layer; this model has \(names.joined(separator: ", "))")
        }
        for (_, p) in namedParameters() { p.setRequiresGrad(false) }
        return out
    }

    /// The attached adapters' parameters under PEFT's names.
    public func loraParameters() -> [(String, Tensor)] {
        namedLinears().flatMap { name, linear in
            (linear.lora?.namedParameters() ?? []).map { ("\(name).\($0.0)", $0.1) }
        }
    }

    /// Folds every adapter into its base weight, removes the adapters and unfreezes the model.
    public func mergeLoRA() {
        for (_, linear) in namedLinears() { linear.mergeLoRA() }
        for (_, p) in namedParameters() { p.setRequiresGrad(true) }
    }

    /// Runs `body` with every LoRA adapter switched off (the base model alone), then switches
    /// them back on. Used for the reference model of a LoRA run: no second copy is needed.
    public func withLoRADisabled<R>(_ body: () throws -> R) rethrows -> R {
        let adapters = namedLinears().compactMap { $0.1.lora }.filter(\.enabled)
        for a in adapters { a.enabled = false }
        defer { for a in adapters { a.enabled = true } }
        return try body()
    }
}

import AlignTensor

/// A layer or model that owns parameters under stable dotted names.
///
/// Names follow Hugging Face's state-dict keys (`transformer.h.0.attn.c_attn.weight`), so a
/// checkpoint maps onto a model by name alone. Modules list their own parameters and their
/// children's, prefixed; no reflection is involved.
public protocol Module: AnyObject {
    /// (name, parameter) pairs, in a fixed order, relative to this module.
    func namedParameters() -> [(String, Tensor)]

    /// Direct sub-modules by name (the same names as in `namedParameters`), for walking the
    /// model (LoRA injection, freezing). Leaves return none.
    func children() -> [(String, Module)]
}

extension Module {
    public func children() -> [(String, Module)] { [] }

    public var parameters: [Tensor] { namedParameters().map(\.1) }

    /// Total number of scalar parameters.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.count } }

    /// Parameters of a child module under `prefix.`.
    public func prefixed(_ prefix: String, _ child: Module) -> [(String, Tensor)] {
        child.namedParameters().map { ("\(prefix).\($0.0)", $0.1) }
    }

    /// Every module below this one (depth first, parents before children) with its dotted path.
    public func namedModules() -> [(String, Module)] {
        var out: [(String, Module)] = []
        for (name, child) in children() {
            out.append((name, child))
            out += child.namedModules().map { ("\(name).\($0.0)", $0.1) }
        }
        return out
    }
}

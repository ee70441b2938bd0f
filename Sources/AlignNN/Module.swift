import AlignTensor

/// A layer or model that owns parameters under stable dotted names.
///
/// Names follow Hugging Face's state-dict keys (`transformer.h.0.attn.c_attn.weight`), so a
/// checkpoint maps onto a model by name alone. Modules list their own parameters and their
/// children's, prefixed; no reflection is involved.
public protocol Module: AnyObject {
    /// (name, parameter) pairs, in a fixed order, relative to this module.
    func namedParameters() -> [(String, Tensor)]
}

extension Module {
    public var parameters: [Tensor] { namedParameters().map(\.1) }

    /// Total number of scalar parameters.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.count } }

    /// Parameters of a child module under `prefix.`.
    public func prefixed(_ prefix: String, _ child: Module) -> [(String, Tensor)] {
        child.namedParameters().map { ("\(prefix).\($0.0)", $0.1) }
    }
}

/// Skipping random initialisation for models whose weights are loaded right after they are
/// built: inside `withDeferredInitialization`, `Tensor.randn` and `Tensor.uniform` return zeros
/// without drawing (and without advancing the generator). Loading a 135M-parameter checkpoint
/// otherwise spent most of its time drawing normals it then overwrote. Scoped per task, like
/// `withNoGrad`; there is no global switch.
public enum ParameterInitialization {
    @TaskLocal public static var isDeferred: Bool = false
}

/// Runs `body` (typically: build a model, then load every parameter strictly) with random
/// initialisation skipped.
public func withDeferredInitialization<T>(_ body: () throws -> T) rethrows -> T {
    try ParameterInitialization.$isDeferred.withValue(true, operation: body)
}

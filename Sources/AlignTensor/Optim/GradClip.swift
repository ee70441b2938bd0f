/// Global-norm gradient clipping, as `torch.nn.utils.clip_grad_norm_`: when the norm over all
/// gradients exceeds `maxNorm`, every gradient is scaled by maxNorm / (norm + 1e-6).
/// Returns the norm before clipping (the `grad_norm` metric).
@discardableResult
public func clipGradNorm(_ grads: inout Gradients, maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipGradNorm: maxNorm \(maxNorm) must be positive")
    let norm = grads.globalNorm()
    let coef = maxNorm / (norm + 1e-6)
    if coef < 1 { grads.scale(by: coef) }
    return norm
}

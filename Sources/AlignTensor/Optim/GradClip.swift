/// Global-norm gradient clipping, as `torch.nn.utils.clip_grad_norm_`: when the norm over all
/// gradients exceeds `maxNorm`, every gradient is scaled by maxNorm / (norm + 1e-6).
/// Returns the norm before clipping (the `grad_norm` metric).
///
/// This scales (and so first copies) every gradient; the training loop instead passes
/// `gradientClipScale(norm:maxNorm:)` to the optimizer's step, with the same result.
@discardableResult
public func clipGradNorm(_ grads: inout Gradients, maxNorm: Float) -> Float {
    let norm = grads.globalNorm()
    let coef = gradientClipScale(norm: norm, maxNorm: maxNorm)
    if coef != 1 { grads.scale(by: coef) }
    return norm
}

/// The factor `clipGradNorm` scales the gradients by for a global norm `norm`:
/// maxNorm / (norm + 1e-6) when that is below 1, else exactly 1 (no clipping).
public func gradientClipScale(norm: Float, maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipGradNorm: maxNorm \(maxNorm) must be positive")
    let coef = maxNorm / (norm + 1e-6)
    return coef < 1 ? coef : 1
}

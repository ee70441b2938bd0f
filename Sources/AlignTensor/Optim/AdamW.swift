import Foundation

/// AdamW (Loshchilov & Hutter): Adam moments with bias correction and decoupled weight decay,
/// matching `torch.optim.AdamW`:
///   p ← p − lr·wd·p;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
///   p ← p − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
/// Parameters that fail `decays` (by default: rank < 2, i.e. biases and norm gains) get no
/// weight decay.
public struct AdamWConfig: Codable, Equatable, Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float = 0.0

    enum CodingKeys: String, CodingKey {
        case beta1, beta2, eps
        case weightDecay = "weight_decay"
    }

    public init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.0) {
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    }
}

public final class AdamW {
    public let parameters: [Tensor]
    public var config: AdamWConfig
    /// Whether each parameter receives weight decay.
    public let decays: [Bool]
    /// Steps taken so far (t in the bias correction).
    public private(set) var stepCount: Int = 0
    private var m: [Storage]
    private var v: [Storage]

    public init(parameters: [Tensor], config: AdamWConfig = AdamWConfig(),
                decays: ((Tensor) -> Bool)? = nil) {
        for (i, p) in parameters.enumerated() {
            precondition(p.requiresGrad && p.opName == nil, "AdamW: parameter \(i) of shape \(p.shape) is not a leaf that requires gradients")
        }
        self.parameters = parameters
        self.config = config
        let rule = decays ?? { $0.rank >= 2 }
        self.decays = parameters.map(rule)
        m = parameters.map { Storage(count: $0.count, repeating: 0) }
        v = parameters.map { Storage(count: $0.count, repeating: 0) }
    }

    /// One update with learning rate `lr`. Parameters without a gradient are left unchanged
    /// (their moments too), as PyTorch skips parameters whose `.grad` is None.
    ///
    /// Every gradient value is used multiplied by `gradientScale` (in Float, once per value):
    /// the same numbers, bit for bit, as scaling the gradients first (`Gradients.scale(by:)`)
    /// and stepping with scale 1, without a copy of the gradients. Gradient clipping passes its
    /// coefficient here (`gradientClipScale`).
    public func step(_ grads: Gradients, lr: Float, gradientScale: Float = 1) {
        stepCount += 1
        let c = config
        let bc1 = 1 - Foundation.pow(Double(c.beta1), Double(stepCount))
        let bc2 = 1 - Foundation.pow(Double(c.beta2), Double(stepCount))
        let stepSize = Float(Double(lr) / bc1)
        let bc2Sqrt = Float(bc2.squareRoot())
        for (i, p) in parameters.enumerated() {
            guard let g = grads[p] else { continue }
            let decay: Float = decays[i] ? 1 - lr * c.weightDecay : 1
            let pp = p.pointer, gp = g.pointer, mp = m[i].pointer, vp = v[i].pointer
            let (b1, b2, eps) = (c.beta1, c.beta2, c.eps)
            let scale = gradientScale
            parallelChunks(p.count, costPerItem: 12) { r in
                // 16 lanes at a time: the same IEEE operations in the same order as the scalar
                // tail (no fused multiply-add), so the same bits, vectorised
                typealias V = SIMD16<Float>
                let (b1v, b2v, c1v, c2v) = (V(repeating: b1), V(repeating: b2), V(repeating: 1 - b1), V(repeating: 1 - b2))
                let (scalev, decayv, stepv, bcv, epsv) = (V(repeating: scale), V(repeating: decay), V(repeating: stepSize),
                                                          V(repeating: bc2Sqrt), V(repeating: eps))
                var j = r.lowerBound
                while j + 16 <= r.upperBound {
                    let gj = UnsafeRawPointer(gp + j).loadUnaligned(as: V.self) * scalev
                    let mj = b1v * UnsafeRawPointer(mp + j).loadUnaligned(as: V.self) + c1v * gj
                    let vj = b2v * UnsafeRawPointer(vp + j).loadUnaligned(as: V.self) + c2v * gj * gj
                    UnsafeMutableRawPointer(mp + j).storeBytes(of: mj, as: V.self)
                    UnsafeMutableRawPointer(vp + j).storeBytes(of: vj, as: V.self)
                    let pj = UnsafeRawPointer(pp + j).loadUnaligned(as: V.self)
                    UnsafeMutableRawPointer(pp + j).storeBytes(of: pj * decayv - stepv * mj / (vj.squareRoot() / bcv + epsv), as: V.self)
                    j += 16
                }
                while j < r.upperBound {
                    let gj = gp[j] * scale
                    let mj = b1 * mp[j] + (1 - b1) * gj
                    let vj = b2 * vp[j] + (1 - b2) * gj * gj
                    mp[j] = mj
                    vp[j] = vj
                    pp[j] = pp[j] * decay - stepSize * mj / (vj.squareRoot() / bc2Sqrt + eps)
                    j += 1
                }
            }
        }
    }

    /// The optimizer state as flat arrays (for checkpoints): step count, then m and v per parameter.
    public var state: OptimizerState {
        OptimizerState(step: stepCount, slots: ["m": m.map { Array($0.buffer) }, "v": v.map { Array($0.buffer) }])
    }

    /// Restores a state saved from an optimizer over parameters of the same shapes.
    public func load(_ state: OptimizerState) throws {
        guard let ms = state.slots["m"], let vs = state.slots["v"], ms.count == m.count, vs.count == v.count else {
            throw OptimizerStateError.mismatch("AdamW state has \(state.slots["m"]?.count ?? 0) moment buffers, optimizer has \(m.count) parameters")
        }
        for i in 0..<m.count {
            guard ms[i].count == m[i].count, vs[i].count == v[i].count else {
                throw OptimizerStateError.mismatch("AdamW state buffer \(i) has \(ms[i].count) values, parameter has \(m[i].count)")
            }
            ms[i].withUnsafeBufferPointer { m[i].pointer.update(from: $0.baseAddress!, count: $0.count) }
            vs[i].withUnsafeBufferPointer { v[i].pointer.update(from: $0.baseAddress!, count: $0.count) }
        }
        stepCount = state.step
    }
}

/// Serializable optimizer state: a step counter and named per-parameter buffers.
public struct OptimizerState: Codable, Equatable, Sendable {
    public var step: Int
    public var slots: [String: [[Float]]]
    public init(step: Int, slots: [String: [[Float]]]) { self.step = step; self.slots = slots }
}

public enum OptimizerStateError: Error, CustomStringConvertible {
    case mismatch(String)
    public var description: String {
        switch self { case .mismatch(let s): return s }
    }
}

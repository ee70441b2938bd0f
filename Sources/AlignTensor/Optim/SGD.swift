/// SGD with momentum and optional (coupled) weight decay, matching `torch.optim.SGD`
/// (dampening 0, no Nesterov): g ← g + wd·p;  b ← μb + g (b = g at the first step);  p ← p − lr·b.
public final class SGD {
    public let parameters: [Tensor]
    public var momentum: Float
    public var weightDecay: Float
    private var buffers: [Storage?]

    public init(parameters: [Tensor], momentum: Float = 0, weightDecay: Float = 0) {
        for (i, p) in parameters.enumerated() {
            precondition(p.requiresGrad && p.opName == nil, "SGD: parameter \(i) of shape \(p.shape) is not a leaf that requires gradients")
        }
        self.parameters = parameters
        self.momentum = momentum
        self.weightDecay = weightDecay
        buffers = Array(repeating: nil, count: parameters.count)
    }

    /// One update with learning rate `lr`; every gradient value is used multiplied by
    /// `gradientScale`, bit for bit as if the gradients had been scaled first (see `AdamW.step`).
    public func step(_ grads: Gradients, lr: Float, gradientScale: Float = 1) {
        let scale = gradientScale
        for (i, p) in parameters.enumerated() {
            guard let g = grads[p] else { continue }
            let n = p.count
            let pp = p.pointer, gp = g.pointer
            let wd = weightDecay
            if momentum == 0 {
                for j in 0..<n { pp[j] -= lr * (gp[j] * scale + wd * pp[j]) }
                continue
            }
            if let buf = buffers[i] {
                let bp = buf.pointer
                for j in 0..<n { bp[j] = momentum * bp[j] + gp[j] * scale + wd * pp[j]; pp[j] -= lr * bp[j] }
            } else {
                let buf = Storage(uninitializedCount: n)
                let bp = buf.pointer
                for j in 0..<n { bp[j] = gp[j] * scale + wd * pp[j]; pp[j] -= lr * bp[j] }
                buffers[i] = buf
            }
        }
    }
}

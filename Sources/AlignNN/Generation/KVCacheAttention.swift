import AlignTensor
import Dispatch
import Foundation

extension KVCache {
    /// Appends the new tokens' keys and values (B, T, kvHeads·D) to `layer` and returns the
    /// causal attention (B, T, heads·D) of `queries` (B, T, heads·D), the last T of the
    /// S = cached + T positions, to all S cached keys: the same result as
    /// `Tensor.attention(q:k:v:heads:kvHeads:keyMask:scale:)` on the full keys and values.
    /// keyMask: (B, S), non-zero for real tokens. No gradient flows (use under `withNoGrad`).
    ///
    /// T = 1 (a decode step) reads the cache buffers in place; a first pass (prefill) attends
    /// over the new K/V directly; other multi-token passes use a compacted copy.
    public func attention(layer: Int, queries q: Tensor, keys k: Tensor, values v: Tensor, heads: Int,
                          kvHeads: Int? = nil, keyMask: Tensor? = nil, scale: Float? = nil) -> Tensor {
        let past = lengths[layer]
        write(layer: layer, keys: k, values: v)
        let T = k.shape[1]
        if past == 0 {
            return Tensor.attention(q: q, k: k, v: v, heads: heads, kvHeads: kvHeads, keyMask: keyMask, scale: scale)
        }
        if T == 1 {
            return decodeAttention(layer: layer, queries: q, heads: heads, kvHeads: kvHeads ?? heads,
                                   keyMask: keyMask, scale: scale)
        }
        return Tensor.attention(q: q, k: compacted(keyBuffers[layer]!, layer: layer),
                                v: compacted(valueBuffers[layer]!, layer: layer),
                                heads: heads, kvHeads: kvHeads, keyMask: keyMask, scale: scale)
    }

    /// One query per row (B, 1, heads·D) against the layer's S cached keys, read in place from
    /// the (B, capacity, w) buffers. Per (row, head): scores = scale·q·kⱼ for unmasked j,
    /// softmax, out = Σ pⱼ vⱼ. A row whose keys are all masked outputs 0 (as `Tensor.attention`).
    /// Parallel over (row, head) pairs (`PairSplit`), each summed in a fixed order (deterministic).
    func decodeAttention(layer: Int, queries q: Tensor, heads: Int, kvHeads: Int, keyMask: Tensor?,
                         scale: Float?) -> Tensor {
        let B = batch, S = lengths[layer], w = widths[layer], cap = capacity
        precondition(q.rank == 3 && q.shape[0] == B && q.shape[1] == 1,
                     "KVCache.attention: queries \(q.shape) must be [\(B), 1, heads·D]")
        let hd = q.shape[2]
        precondition(heads > 0 && kvHeads > 0 && heads % kvHeads == 0 && hd % heads == 0 && hd / heads * kvHeads == w,
                     "KVCache.attention: queries \(q.shape) with \(heads)/\(kvHeads) heads do not match cached width \(w)")
        if let keyMask {
            precondition(keyMask.shape == [B, S], "KVCache.attention: keyMask \(keyMask.shape) must be [\(B), \(S)]")
        }
        let D = hd / heads, group = heads / kvHeads
        let scale = scale ?? 1 / Float(D).squareRoot()
        let out = Storage(uninitializedCount: B * hd)
        let kb = UnsafePointer(keyBuffers[layer]!.pointer), vb = UnsafePointer(valueBuffers[layer]!.pointer)
        let qp = UnsafePointer(q.pointer), op = out.pointer
        let mp = keyMask.map { UnsafePointer($0.pointer) }
        if (scratch?.count ?? 0) < B * heads * cap { scratch = Storage(uninitializedCount: B * heads * cap) }
        let scores = scratch!.pointer

        func body(_ task: Int) {
            let b = task / heads, h = task % heads, kvh = h / group
            let qh = qp + b * hd + h * D
            let keys = kb + b * cap * w + kvh * D
            let vals = vb + b * cap * w + kvh * D
            let o = op + b * hd + h * D
            let mask = mp.map { $0 + b * S }
            let p = scores + task * cap
            o.initialize(repeating: 0, count: D)
            var mx = -Float.infinity
            for j in 0..<S {
                if let mask, mask[j] == 0 { p[j] = -.infinity; continue }
                let s = scale * dot(qh, keys + j * w, D)
                p[j] = s
                if s > mx { mx = s }
            }
            if mx == -.infinity { return }
            var sum: Float = 0
            for j in 0..<S {
                let e = Foundation.exp(p[j] - mx)
                p[j] = e
                sum += e
            }
            let inv = 1 / sum
            for j in 0..<S where p[j] != 0 { axpy(o, p[j] * inv, vals + j * w, D) }
        }
        let tasks = B * heads
        if tasks == 1 || tasks * S * D < 1 << 15 {
            for t in 0..<tasks { body(t) }
        } else {
            // the (row, head) pairs halved between this thread and the helper that the step's
            // products keep awake: a pool hand-off per layer cost more than the heads' work
            PairSplit.run(0..<tasks) { r in for t in r { body(t) } }
        }
        return Tensor(shape: [B, 1, hd], storage: out)
    }
}

/// Σ a[i]·b[i] over n floats, eight lanes at a time.
@inline(__always)
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
        let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        acc += x * y
        i += 8
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

/// y[i] += alpha·x[i] over n floats.
@inline(__always)
private func axpy(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    let a = SIMD8<Float>(repeating: alpha)
    var i = 0
    while i + 8 <= n {
        let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        var yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        yv += a * xv
        UnsafeMutableRawPointer(y + i).storeBytes(of: yv, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { y[i] += alpha * x[i]; i += 1 }
}

import Dispatch

/// Fused scaled-dot-product attention with a causal mask, a key padding mask and grouped-query
/// heads. Per (batch, head) the score and value products are OpenBLAS GEMMs read straight out
/// of the (B, T, heads·D) activations through their row stride, so no head split/merge copies
/// are made; the masked softmax runs in between. Work is parallel over (batch, kv-head) groups.
///
/// Query i (0-based among the T queries) sits at absolute position i + (S − T) among the S keys
/// (queries are the last T positions, as with a KV cache); causally it sees keys j ≤ i + S − T.
/// A query that sees no key at all (fully masked row) outputs 0 and passes no gradient.

struct AttentionGeometry {
    let batch: Int, queries: Int, keys: Int
    let heads: Int, kvHeads: Int, headDim: Int
    let ldq: Int, ldk: Int, ldv: Int, ldo: Int   // row strides of q, k, v, out
    let causal: Bool
    let scale: Float

    var group: Int { heads / kvHeads }
}

// forward: q (B,T,ldq) k (B,S,ldk) v (B,S,ldv) mask (B,S)? -> out (B,T,ldo), probs (B,H,T,S)
// Parallel over (batch, kv head) groups; each task runs its heads' GEMMs single-threaded.
func attentionForward(_ out: UnsafeMutablePointer<Float>, _ probs: UnsafeMutablePointer<Float>,
                      _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
                      _ keyMask: UnsafePointer<Float>?, _ g: AttentionGeometry) {
    let T = g.queries, S = g.keys, D = g.headDim
    BLASThreads.ensureLibraryMode()
    forEachKVGroup(g) { b, kvh in
        let kh = k + b * S * g.ldk + kvh * D
        let vh = v + b * S * g.ldv + kvh * D
        for h in kvh * g.group..<(kvh + 1) * g.group {
            let qh = q + b * T * g.ldq + h * D
            let p = probs + (b * g.heads + h) * T * S
            // p (T,S) = scale · qh (T,D) · khᵀ (D,S)
            sgemmSingle(false, true, T, S, D, g.scale, qh, g.ldq, kh, g.ldk, 0, p, S)
            let mask = keyMask.map { $0 + b * S }
            for i in 0..<T { maskedSoftmaxRow(p + i * S, cols: S, visible: g.visibleKeys(query: i), keyMask: mask) }
            // out_h (T,D) = p (T,S) · vh (S,D)
            sgemmSingle(false, false, T, D, S, 1, p, S, vh, g.ldv, 0, out + b * T * g.ldo + h * D, g.ldo)
        }
    }
}

/// Runs body(batch, kvHead) for every group in parallel. Heads that share a kv head run in
/// one task, so their dk/dv accumulations never race.
func forEachKVGroup(_ g: AttentionGeometry, _ body: (Int, Int) -> Void) {
    let groups = g.batch * g.kvHeads
    let work = g.queries * g.keys * g.headDim * g.group
    if groups == 1 || work * groups < 1 << 16 {
        for t in 0..<groups { body(t / g.kvHeads, t % g.kvHeads) }
    } else {
        DispatchQueue.concurrentPerform(iterations: groups) { t in body(t / g.kvHeads, t % g.kvHeads) }
    }
}

extension AttentionGeometry {
    /// Keys query i may see before the key mask: all, or causally those at j ≤ i + S − T.
    @inline(__always)
    func visibleKeys(query i: Int) -> Int { causal ? Swift.max(0, Swift.min(keys, i + keys - queries + 1)) : keys }
}

/// In-place softmax of one score row: keys at or past `visible` and keys whose mask is 0 get
/// probability 0; a row with no visible key becomes all zeros.
@inline(__always)
func maskedSoftmaxRow(_ row: UnsafeMutablePointer<Float>, cols: Int, visible: Int, keyMask: UnsafePointer<Float>?) {
    if let keyMask {
        for j in 0..<visible where keyMask[j] == 0 { row[j] = -.infinity }
    }
    for j in visible..<cols { row[j] = 0 }
    let mx = rowMax(row, visible)
    if mx == -.infinity {
        for j in 0..<visible { row[j] = 0 }
        return
    }
    let inv = 1 / expShifted(row, row, visible, shift: mx)
    for j in 0..<visible { row[j] *= inv }
}

// backward: dout (B,T,ldo), probs (B,H,T,S), q k v as in forward
//   -> dq (B,T,ldq), dk (B,S,ldk), dv (B,S,ldv); dk and dv must start zeroed (GQA heads add up)
func attentionBackward(_ dq: UnsafeMutablePointer<Float>, _ dk: UnsafeMutablePointer<Float>, _ dv: UnsafeMutablePointer<Float>,
                       _ dout: UnsafePointer<Float>, _ probs: UnsafePointer<Float>,
                       _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
                       _ g: AttentionGeometry) {
    let T = g.queries, S = g.keys, D = g.headDim
    BLASThreads.ensureLibraryMode()
    forEachKVGroup(g) { b, kvh in
        let kh = k + b * S * g.ldk + kvh * D
        let vh = v + b * S * g.ldv + kvh * D
        let dkh = dk + b * S * g.ldk + kvh * D
        let dvh = dv + b * S * g.ldv + kvh * D
        let dp = UnsafeMutablePointer<Float>.allocate(capacity: T * S)
        defer { dp.deallocate() }
        for h in kvh * g.group..<(kvh + 1) * g.group {
            let qh = q + b * T * g.ldq + h * D
            let doh = dout + b * T * g.ldo + h * D
            let p = probs + (b * g.heads + h) * T * S
            // dp (T,S) = dout_h (T,D) · vhᵀ
            sgemmSingle(false, true, T, S, D, 1, doh, g.ldo, vh, g.ldv, 0, dp, S)
            // dv_h (S,D) += pᵀ (S,T) · dout_h (T,D)
            sgemmSingle(true, false, S, D, T, 1, p, S, doh, g.ldo, 1, dvh, g.ldv)
            // ds = p ⊙ (dp − Σ dp⊙p), in place in dp (masked entries have p = 0, so ds = 0)
            for i in 0..<T {
                let pr = p + i * S, dr = dp + i * S
                let n = g.visibleKeys(query: i)
                var dot: Float = 0
                for j in 0..<n { dot += pr[j] * dr[j] }
                for j in 0..<n { dr[j] = pr[j] * (dr[j] - dot) }
                for j in n..<S { dr[j] = 0 }
            }
            // dq_h (T,D) = scale · ds (T,S) · kh (S,D)
            sgemmSingle(false, false, T, D, S, g.scale, dp, S, kh, g.ldk, 0, dq + b * T * g.ldq + h * D, g.ldq)
            // dk_h (S,D) += scale · dsᵀ (S,T) · qh (T,D)
            sgemmSingle(true, false, S, D, T, g.scale, dp, S, qh, g.ldq, 1, dkh, g.ldk)
        }
    }
}

extension Tensor {
    /// Scaled-dot-product attention over (B, T, heads·D) activations.
    ///
    /// q: (B, T, heads·D); k, v: (B, S, kvHeads·D) with S ≥ T (the queries are the last T
    /// positions); keyMask: (B, S), non-zero for real tokens, zero for padding; scale defaults
    /// to 1/√D. Returns (B, T, heads·D).
    public static func attention(q: Tensor, k: Tensor, v: Tensor, heads: Int, kvHeads: Int? = nil,
                                 causal: Bool = true, keyMask: Tensor? = nil, scale: Float? = nil) -> Tensor {
        let kvh = kvHeads ?? heads
        precondition(q.rank == 3 && k.rank == 3 && v.rank == 3,
                     "attention: q, k, v must be (B, T, heads·D), got \(q.shape), \(k.shape), \(v.shape)")
        precondition(heads > 0 && kvh > 0 && heads % kvh == 0,
                     "attention: heads \(heads) must be a positive multiple of kvHeads \(kvh)")
        let (B, T, hd) = (q.shape[0], q.shape[1], q.shape[2])
        precondition(hd % heads == 0, "attention: q width \(hd) of shape \(q.shape) is not divisible by \(heads) heads")
        let D = hd / heads
        let S = k.shape[1]
        precondition(k.shape == [B, S, kvh * D] && v.shape == k.shape,
                     "attention: k \(k.shape) and v \(v.shape) must be [\(B), S, \(kvh * D)] for q \(q.shape) with \(heads)/\(kvh) heads")
        precondition(S >= T, "attention: \(S) keys for \(T) queries (shapes q \(q.shape), k \(k.shape)); need S ≥ T")
        if let keyMask { precondition(keyMask.shape == [B, S], "attention: keyMask \(keyMask.shape) must be [\(B), \(S)] for k \(k.shape)") }
        let geo = AttentionGeometry(batch: B, queries: T, keys: S, heads: heads, kvHeads: kvh, headDim: D,
                                    ldq: hd, ldk: kvh * D, ldv: kvh * D, ldo: hd, causal: causal,
                                    scale: scale ?? 1 / Float(D).squareRoot())
        let out = Storage(uninitializedCount: B * T * hd)
        let probs = Storage(uninitializedCount: B * heads * T * S)
        attentionForward(out.pointer, probs.pointer, q.pointer, k.pointer, v.pointer, keyMask.map { UnsafePointer($0.pointer) }, geo)
        return result("attention", shape: q.shape, storage: out, inputs: [q, k, v]) { y, g in
            let q = y.node!.inputs[0], k = y.node!.inputs[1], v = y.node!.inputs[2]
            let dq = Storage(uninitializedCount: q.count)
            let dk = Storage(count: k.count, repeating: 0), dv = Storage(count: v.count, repeating: 0)
            attentionBackward(dq.pointer, dk.pointer, dv.pointer, g.pointer, probs.pointer,
                              q.pointer, k.pointer, v.pointer, geo)
            return [Tensor(shape: q.shape, storage: dq), Tensor(shape: k.shape, storage: dk), Tensor(shape: v.shape, storage: dv)]
        }
    }

    /// Causal self-attention on a packed (B, T, 3·C) q‖k‖v projection (GPT-2's `c_attn` output).
    /// Returns (B, T, C).
    public static func attention(packedQKV qkv: Tensor, heads: Int, keyMask: Tensor? = nil, causal: Bool = true) -> Tensor {
        precondition(qkv.rank == 3 && qkv.shape[2] % 3 == 0,
                     "attention: packed qkv must be (B, T, 3·C), got \(qkv.shape)")
        let (B, T, C3) = (qkv.shape[0], qkv.shape[1], qkv.shape[2])
        let C = C3 / 3
        precondition(C % heads == 0, "attention: width \(C) of packed qkv \(qkv.shape) is not divisible by \(heads) heads")
        if let keyMask { precondition(keyMask.shape == [B, T], "attention: keyMask \(keyMask.shape) must be [\(B), \(T)] for qkv \(qkv.shape)") }
        let D = C / heads
        let geo = AttentionGeometry(batch: B, queries: T, keys: T, heads: heads, kvHeads: heads, headDim: D,
                                    ldq: C3, ldk: C3, ldv: C3, ldo: C, causal: causal, scale: 1 / Float(D).squareRoot())
        let out = Storage(uninitializedCount: B * T * C)
        let probs = Storage(uninitializedCount: B * heads * T * T)
        let base = qkv.pointer
        attentionForward(out.pointer, probs.pointer, base, base + C, base + 2 * C, keyMask.map { UnsafePointer($0.pointer) }, geo)
        return result("attention", shape: [B, T, C], storage: out, inputs: [qkv]) { y, g in
            let qkv = y.node!.inputs[0]
            let d = Storage(count: qkv.count, repeating: 0)
            let p = qkv.pointer
            attentionBackward(d.pointer, d.pointer + C, d.pointer + 2 * C, g.pointer, probs.pointer, p, p + C, p + 2 * C, geo)
            return [Tensor(shape: qkv.shape, storage: d)]
        }
    }
}

import Foundation
import XCTest
@testable import AlignTensor

/// Finite-difference checks of the fused kernels: softmax, log-softmax, target log-probs and
/// cross-entropy, layer norm, RMS norm and attention (causal, padded, grouped-query, KV-offset,
/// packed).
final class KernelGradientTests: XCTestCase {
    func testSoftmaxAndLogSoftmax() {
        let x = param([3, 7], seed: 41, std: 2)
        checkGradients([x]) { $0[0].softmax() }
        checkGradients([x]) { $0[0].logSoftmax() }
        let rows = x.softmax().sum(axis: 1).scalars
        assertClose(rows, [1, 1, 1], atol: 1e-6)
        // 17 columns exercise the vector body and the scalar tail of the exp kernel
        let wide = param([2, 17], seed: 42, std: 3)
        checkGradients([wide]) { $0[0].logSoftmax() }
    }

    func testSoftmaxEntropyValueAndGradient() {
        // uniform rows have entropy log V; a one-hot-like row has entropy near 0
        let uniform = Tensor(Array(repeating: 0.5, count: 8), shape: [2, 4])
        assertClose(uniform.softmaxEntropy().scalars, [Float(Foundation.log(4.0)), Float(Foundation.log(4.0))], atol: 1e-6)
        // by hand: p = softmax([0, 1, 2]); H = −Σ p log p
        let x: [Float] = [0, 1, 2]
        let z = x.map { Foundation.exp(Double($0)) }.reduce(0, +)
        let h = -x.map { v -> Double in let p = Foundation.exp(Double(v)) / z; return p * Foundation.log(p) }.reduce(0, +)
        XCTAssertEqual(Tensor(x, shape: [1, 3]).softmaxEntropy().item, Float(h), accuracy: 1e-6)
        let logits = param([3, 11], seed: 44, std: 2)
        checkGradients([logits]) { $0[0].softmaxEntropy() }
    }

    func testTargetLogProbsAndCrossEntropyWithIgnoredRows() {
        let logits = param([4, 9], seed: 43, std: 2)
        let targets = [3, -100, 0, 8]
        checkGradients([logits]) { $0[0].logProbs(ofTargets: targets) }
        checkGradients([logits]) { $0[0].crossEntropy(targets: targets) }
        checkGradients([logits]) { $0[0].crossEntropy(targets: targets, reduction: .sum) }
        let lp = logits.logProbs(ofTargets: targets).scalars
        let ls = logits.logSoftmax().scalars
        XCTAssertEqual(lp[0], ls[3], accuracy: 1e-5)
        XCTAssertEqual(lp[1], 0)
        XCTAssertEqual(lp[3], ls[27 + 8], accuracy: 1e-5)
        let ce = logits.crossEntropy(targets: targets).item
        XCTAssertEqual(ce, -(lp[0] + lp[2] + lp[3]) / 3, accuracy: 1e-5)
        // rank 3 logits (B, T, V)
        let l3 = param([2, 2, 5], seed: 44)
        checkGradients([l3]) { $0[0].crossEntropy(targets: [1, 4, -100, 0]) }
        // all targets ignored: loss 0, zero gradient, no NaN
        let none = logits.crossEntropy(targets: [-100, -100, -100, -100])
        XCTAssertEqual(none.item, 0)
        XCTAssertTrue(none.backward()[logits]!.scalars.allSatisfy { $0 == 0 })
    }

    func testLayerNormAndRMSNorm() {
        let x = param([4, 6], seed: 45)
        let w = param([6], seed: 46, std: 0.5, shift: 1), b = param([6], seed: 47)
        checkGradients([x, w, b]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
        checkGradients([x, w]) { $0[0].rmsNorm(weight: $0[1]) }
        // 3-D input normalises over the last axis only
        let x3 = param([2, 3, 6], seed: 48)
        checkGradients([x3, w, b]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
        let y = x.layerNorm(weight: Tensor.ones([6]), bias: Tensor.zeros([6]))
        assertClose(y.mean(axis: 1).scalars, [0, 0, 0, 0], atol: 1e-6)
        assertClose(y.variance(axes: [1]).scalars, [1, 1, 1, 1], atol: 1e-3)
    }

    /// Attention computed from primitive ops, the reference for the fused kernel.
    func referenceAttention(q: Tensor, k: Tensor, v: Tensor, heads: Int, kvHeads: Int, causal: Bool,
                            keyMask: [Float]?) -> Tensor {
        let (B, T, S) = (q.shape[0], q.shape[1], k.shape[1])
        let D = q.shape[2] / heads
        let qh = q.reshaped([B, T, heads, D]).permuted([0, 2, 1, 3])
        var kh = k.reshaped([B, S, kvHeads, D]).permuted([0, 2, 1, 3])
        var vh = v.reshaped([B, S, kvHeads, D]).permuted([0, 2, 1, 3])
        if kvHeads != heads {
            let g = heads / kvHeads
            kh = Tensor.concat((0..<kvHeads).flatMap { h in Array(repeating: kh.slice(axis: 1, h..<h + 1), count: g) }, axis: 1)
            vh = Tensor.concat((0..<kvHeads).flatMap { h in Array(repeating: vh.slice(axis: 1, h..<h + 1), count: g) }, axis: 1)
        }
        var scores = Tensor.matmul(qh, kh, transposeB: true) * (1 / Float(D).squareRoot())
        var mask = [Float](repeating: 0, count: B * T * S)
        for b in 0..<B { for i in 0..<T { for j in 0..<S {
            let hidden = (causal && j > i + S - T) || (keyMask.map { $0[b * S + j] == 0 } ?? false)
            mask[(b * T + i) * S + j] = hidden ? 1 : 0
        } } }
        scores = scores.maskedFill(Tensor(mask, shape: [B, 1, T, S]), -.infinity)
        let out = Tensor.matmul(scores.softmax(), vh)
        return out.permuted([0, 2, 1, 3]).reshaped([B, T, heads * D])
    }

    func testAttentionMatchesReferenceAndGradients() {
        // (heads, kvHeads, T, S, causal, mask): MHA, GQA, KV-cache offset (S > T), non-causal
        let cases: [(Int, Int, Int, Int, Bool, [Float]?)] = [
            (2, 2, 4, 4, true, nil),
            (4, 2, 3, 3, true, [1, 1, 1, 1, 1, 0]),
            (2, 1, 2, 5, true, nil),
            (2, 2, 3, 3, false, [1, 1, 0, 1, 1, 1]),
        ]
        for (n, (h, kvh, T, S, causal, maskValues)) in cases.enumerated() {
            let D = 3, B = 2
            let q = param([B, T, h * D], seed: UInt64(50 + n)), k = param([B, S, kvh * D], seed: UInt64(60 + n))
            let v = param([B, S, kvh * D], seed: UInt64(70 + n))
            let mask = maskValues.map { Tensor($0, shape: [B, S]) }
            let fused = Tensor.attention(q: q, k: k, v: v, heads: h, kvHeads: kvh, causal: causal, keyMask: mask)
            let ref = referenceAttention(q: q, k: k, v: v, heads: h, kvHeads: kvh, causal: causal, keyMask: maskValues)
            assertClose(fused.scalars, ref.scalars, atol: 1e-5, "case \(n)")
            checkGradients([q, k, v]) {
                Tensor.attention(q: $0[0], k: $0[1], v: $0[2], heads: h, kvHeads: kvh, causal: causal, keyMask: mask)
            }
        }
    }

    func testPackedQKVEqualsSeparateProjections() {
        let (B, T, C, H) = (2, 4, 6, 2)
        let qkv = param([B, T, 3 * C], seed: 80)
        let mask = Tensor([1, 1, 1, 1, 1, 1, 0, 0], shape: [B, T])
        let packed = Tensor.attention(packedQKV: qkv, heads: H, keyMask: mask)
        let sep = Tensor.attention(q: qkv.slice(axis: 2, 0..<C), k: qkv.slice(axis: 2, C..<2 * C),
                                   v: qkv.slice(axis: 2, 2 * C..<3 * C), heads: H, keyMask: mask)
        assertClose(packed.scalars, sep.scalars, atol: 1e-6)
        checkGradients([qkv]) { Tensor.attention(packedQKV: $0[0], heads: H, keyMask: mask) }
    }

    func testFullyMaskedQueryRowsGiveZeroAndNoNaN() {
        // left padding: query 0 of batch 1 is padding and, being causal, sees only padded key 0
        let (B, T, C, H) = (2, 3, 4, 2)
        let qkv = param([B, T, 3 * C], seed: 81)
        let mask = Tensor([1, 1, 1, 0, 1, 1], shape: [B, T])
        let out = Tensor.attention(packedQKV: qkv, heads: H, keyMask: mask)
        let row = Array(out.scalars[(T * C)..<(T * C + C)])
        XCTAssertEqual(row, [0, 0, 0, 0])
        let g = out.sum().backward()[qkv]!.scalars
        XCTAssertTrue(g.allSatisfy { $0.isFinite })
        XCTAssertTrue(out.scalars.allSatisfy { $0.isFinite })
    }
}

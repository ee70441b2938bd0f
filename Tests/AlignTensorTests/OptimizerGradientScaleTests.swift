import XCTest
@testable import AlignTensor

/// An optimizer step with `gradientScale` gives the same bits as scaling the gradients first
/// (what clipping did before) and stepping with scale 1: parameters, moments and momentum.
final class OptimizerGradientScaleTests: XCTestCase {
    /// Values over many binades (tiny, subnormal, large), both signs, and some exact zeros.
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Float(state >> 40) / Float(1 << 24)              // [0, 1)
            let exponent = Float((state >> 20) & 0xFF) / 255 * 60 - 45   // 2^-45 … 2^15
            let sign: Float = (state >> 8) & 1 == 0 ? 1 : -1
            return i % 97 == 0 ? 0 : sign * (0.5 + unit) * Foundation.pow(2, exponent)
        }
    }

    /// Parameters of several shapes; the large one is updated in several parallel chunks.
    func parameters(seed: UInt64) -> [Tensor] {
        [[300, 257], [257], [3, 5]].enumerated().map { i, shape in
            Tensor(values(shapeCount(shape), seed: seed + UInt64(i)).map { $0 / 1000 }, shape: shape, requiresGrad: true)
        }
    }

    func gradients(for params: [Tensor], step: Int) -> Gradients {
        var grads = Gradients()
        for (i, p) in params.enumerated() {
            grads.set(p, Tensor(values(p.count, seed: UInt64(1000 * step + i)), shape: p.shape))
        }
        return grads
    }

    func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }
    func bits(_ s: OptimizerState) -> [String: [[UInt32]]] { s.slots.mapValues { $0.map { $0.map(\.bitPattern) } } }

    func testAdamWScaleIsBitIdenticalToScalingTheGradientsFirst() {
        for coef: Float in [0.37, 1e-3, 0.999_999_9, 1] {
            let old = parameters(seed: 7), new = parameters(seed: 7)
            let config = AdamWConfig(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1)
            let a = AdamW(parameters: old, config: config), b = AdamW(parameters: new, config: config)
            for step in 1...4 {
                var scaled = gradients(for: old, step: step)
                scaled.scale(by: coef)
                a.step(scaled, lr: 1e-3)
                b.step(gradients(for: new, step: step), lr: 1e-3, gradientScale: coef)
                for (p, q) in zip(old, new) { XCTAssertEqual(bits(p), bits(q), "coef \(coef), step \(step), shape \(p.shape)") }
                XCTAssertEqual(bits(a.state), bits(b.state), "moments, coef \(coef), step \(step)")
                XCTAssertEqual(a.stepCount, b.stepCount)
            }
        }
    }

    func testSGDScaleIsBitIdenticalToScalingTheGradientsFirst() {
        for (momentum, decay) in [(Float(0), Float(0)), (0, 0.01), (0.9, 0.01)] {
            let old = parameters(seed: 11), new = parameters(seed: 11)
            let a = SGD(parameters: old, momentum: momentum, weightDecay: decay)
            let b = SGD(parameters: new, momentum: momentum, weightDecay: decay)
            for step in 1...3 {
                var scaled = gradients(for: old, step: step)
                scaled.scale(by: 0.37)
                a.step(scaled, lr: 1e-2)
                b.step(gradients(for: new, step: step), lr: 1e-2, gradientScale: 0.37)
                for (p, q) in zip(old, new) { XCTAssertEqual(bits(p), bits(q), "momentum \(momentum), step \(step)") }
            }
        }
    }

    /// `gradientClipScale` is the factor `clipGradNorm` scales by: 1 below the threshold.
    func testGradientClipScaleMatchesClipGradNorm() {
        let params = parameters(seed: 3)
        for maxNorm: Float in [1e-3, 1, 1e12] {
            var clipped = gradients(for: params, step: 1)
            let norm = clipGradNorm(&clipped, maxNorm: maxNorm)
            let plain = gradients(for: params, step: 1)
            XCTAssertEqual(norm, plain.globalNorm())
            let coef = gradientClipScale(norm: norm, maxNorm: maxNorm)
            XCTAssertEqual(coef == 1, maxNorm == 1e12)
            for p in params {
                XCTAssertEqual(bits(clipped[p]!), plain[p]!.scalars.map { ($0 * coef).bitPattern })
            }
        }
        XCTAssertEqual(gradientClipScale(norm: .nan, maxNorm: 1), 1)
    }
}

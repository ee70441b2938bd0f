import Foundation
import XCTest
@testable import AlignTensor

/// AdamW's update runs 16 lanes at a time with a scalar tail; it must give the bits of the
/// element-by-element formula (the same IEEE operations in the same order, nothing fused), over
/// values of many magnitudes, for sizes that leave tails and split into parallel chunks.
final class AdamWVectorisationTests: XCTestCase {
    func values(_ n: Int, seed: UInt64, scale: Float) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Float(state >> 40) / Float(1 << 24)
            let exponent = Float((state >> 20) & 0xFF) / 255 * 50 - 40   // 2^-40 … 2^10
            let sign: Float = (state >> 8) & 1 == 0 ? 1 : -1
            return i % 89 == 88 ? 0 : sign * (0.5 + unit) * Foundation.pow(2, exponent) * scale
        }
    }

    func testVectorisedStepsEqualTheScalarFormulaBitForBit() {
        let config = AdamWConfig(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)
        for count in [1, 15, 16, 17, 333, 100_003] {
            let start = values(count, seed: UInt64(count), scale: 0.01)
            let p = Tensor(start, shape: [count], requiresGrad: true)
            let opt = AdamW(parameters: [p], config: config, decays: { _ in true })
            var ref = start, m = [Float](repeating: 0, count: count), v = m
            for step in 1...3 {
                let g = values(count, seed: UInt64(7 * step + count), scale: 1)
                let (lr, scale): (Float, Float) = (1e-3 * Float(step), step == 2 ? 0.37 : 1)
                var grads = Gradients()
                grads.set(p, Tensor(g, shape: [count]))
                opt.step(grads, lr: lr, gradientScale: scale)
                // the formula, element by element
                let bc1 = 1 - Foundation.pow(Double(config.beta1), Double(step))
                let bc2 = 1 - Foundation.pow(Double(config.beta2), Double(step))
                let stepSize = Float(Double(lr) / bc1), bc2Sqrt = Float(bc2.squareRoot())
                let decay = 1 - lr * config.weightDecay
                for j in 0..<count {
                    let gj = g[j] * scale
                    m[j] = config.beta1 * m[j] + (1 - config.beta1) * gj
                    v[j] = config.beta2 * v[j] + (1 - config.beta2) * gj * gj
                    ref[j] = ref[j] * decay - stepSize * m[j] / (v[j].squareRoot() / bc2Sqrt + config.eps)
                }
                XCTAssertEqual(p.scalars.map(\.bitPattern), ref.map(\.bitPattern), "parameters, \(count) values, step \(step)")
                XCTAssertEqual(opt.state.slots["m"]?.first?.map(\.bitPattern), m.map(\.bitPattern), "m, \(count) values, step \(step)")
                XCTAssertEqual(opt.state.slots["v"]?.first?.map(\.bitPattern), v.map(\.bitPattern), "v, \(count) values, step \(step)")
            }
            XCTAssertNotEqual(p.scalars, start, "the parameters moved")
        }
    }
}

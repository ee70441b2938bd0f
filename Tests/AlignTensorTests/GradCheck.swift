import XCTest
@testable import AlignTensor

/// Finite-difference gradient check.
///
/// The checked scalar is L = Σ f(inputs)ᵢ·wᵢ with fixed random weights w, summed in Double.
/// Each input element is nudged by ±eps (central difference, float32 forward) and the
/// numeric slope compared with the autograd gradient: |analytic − numeric| ≤ atol + rtol·|numeric|.
/// Defaults (eps 1e-2, atol 2e-3, rtol 2e-2) suit float32 forwards of smooth ops on O(1) inputs;
/// truncation error is O(eps²) and rounding O(1e-7/eps).
func checkGradients(_ inputs: [Tensor], eps: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                    file: StaticString = #filePath, line: UInt = #line,
                    _ f: ([Tensor]) -> Tensor) {
    var rng = RandomGenerator(seed: 1234)
    let probe = withNoGrad { f(inputs) }
    let w = (0..<probe.count).map { _ in Double(rng.normal()) }
    func loss() -> Double {
        let out = withNoGrad { f(inputs) }
        var s = 0.0
        for i in 0..<out.count { s += Double(out.pointer[i]) * w[i] }
        return s
    }
    let out = f(inputs)
    let seed = Tensor(w.map { Float($0) }, shape: out.shape)
    let grads = out.backward(seed: seed)
    for (k, x) in inputs.enumerated() where x.requiresGrad {
        guard let g = grads[x] else {
            XCTFail("input \(k) of shape \(x.shape) received no gradient", file: file, line: line)
            continue
        }
        XCTAssertEqual(g.shape, x.shape, file: file, line: line)
        var worst: (Float, Int, Float, Float) = (0, -1, 0, 0)
        for i in 0..<x.count {
            let orig = x.pointer[i]
            x.pointer[i] = orig + eps
            let up = loss()
            x.pointer[i] = orig - eps
            let down = loss()
            x.pointer[i] = orig
            let numeric = Float((up - down) / (2 * Double(eps)))
            let analytic = g.pointer[i]
            let err = abs(analytic - numeric) - (atol + rtol * abs(numeric))
            if err > worst.0 || worst.1 < 0 { worst = (err, i, analytic, numeric) }
        }
        XCTAssertLessThanOrEqual(worst.0, 0,
            "input \(k) \(x.shape): element \(worst.1) analytic \(worst.2) vs numeric \(worst.3)", file: file, line: line)
    }
}

/// A parameter of `shape` with N(0, std) entries (+ shift), seeded.
func param(_ shape: [Int], seed: UInt64, std: Float = 1, shift: Float = 0) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let t = Tensor.randn(shape, mean: shift, std: std, rng: &rng)
    return t.asParameter()
}

func assertClose(_ a: [Float], _ b: [Float], atol: Float, rtol: Float = 0, _ what: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
    var worst: (Float, Int) = (0, -1)
    for i in 0..<min(a.count, b.count) {
        let excess = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
        if !(excess <= 0) && (worst.1 < 0 || excess > worst.0 || excess.isNaN) { worst = (excess, i) }
    }
    if worst.1 >= 0 {
        XCTFail("\(what): element \(worst.1): \(a[worst.1]) vs expected \(b[worst.1]) (atol \(atol), rtol \(rtol))",
                file: file, line: line)
    }
}

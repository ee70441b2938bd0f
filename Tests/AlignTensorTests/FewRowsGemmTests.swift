import Foundation
import XCTest
@testable import AlignTensor
import CKernels

/// The few-row product kernel (decoding's x·Wᵀ): its values against a double-precision
/// reference, the same bits whatever the batch around a row or the column split, every vector
/// implementation this CPU runs (AVX-512, AVX2, NEON) giving the portable C implementation's
/// bits, the path chosen from the environment, bfloat16 rounding by hand, and `linear` routing
/// decode-shaped products to it.
final class FewRowsGemmTests: XCTestCase {
    override func tearDown() {
        FewRowsGemm.setKernel(nil)
        super.tearDown()
    }

    func values(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)   // about -1 … 1
        }
    }

    /// y (m, n) = alpha·x·wᵀ + beta·y0 through the kernel, with row strides wider than the rows.
    func product(m: Int, n: Int, k: Int, x: [Float], w: [Float], y0: [Float], alpha: Float, beta: Float,
                 bf16: [UInt16]? = nil, workers: Int = 1, columns: Range<Int>? = nil) -> [Float] {
        let ldx = k + 3, ldw = k + 5, ldy = n + 2
        var xs = [Float](repeating: .nan, count: m * ldx), ws = [Float](repeating: .nan, count: n * ldw)
        var ys = [Float](repeating: -7, count: m * ldy)
        for r in 0..<m { for i in 0..<k { xs[r * ldx + i] = x[r * k + i] } }
        for j in 0..<n { for i in 0..<k { ws[j * ldw + i] = w[j * k + i] } }
        for r in 0..<m { for j in 0..<n { ys[r * ldy + j] = y0[r * n + j] } }
        var hs = [UInt16](repeating: 0x7FC0, count: n * ldw)
        if let bf16 { for j in 0..<n { for i in 0..<k { hs[j * ldw + i] = bf16[j * k + i] } } }
        xs.withUnsafeBufferPointer { xp in
            ws.withUnsafeBufferPointer { wp in
                hs.withUnsafeBufferPointer { hp in
                    ys.withUnsafeMutableBufferPointer { yp in
                        let weights: FewRowsGemm.Weights = bf16 == nil ? .float32(wp.baseAddress!) : .bfloat16(hp.baseAddress!)
                        if let columns {
                            // only these output columns, the rest untouched
                            let xOffset = xp.baseAddress!, yOffset = yp.baseAddress! + columns.lowerBound
                            let wOffset: FewRowsGemm.Weights
                            switch weights {
                            case .float32(let p): wOffset = .float32(p + columns.lowerBound * ldw)
                            case .bfloat16(let p): wOffset = .bfloat16(p + columns.lowerBound * ldw)
                            }
                            FewRowsGemm.nt(m: m, n: columns.count, k: k, alpha: alpha, x: xOffset, ldx: ldx, w: wOffset,
                                           ldw: ldw, beta: beta, y: yOffset, ldy: ldy, workers: workers)
                        } else {
                            FewRowsGemm.nt(m: m, n: n, k: k, alpha: alpha, x: xp.baseAddress!, ldx: ldx, w: weights,
                                           ldw: ldw, beta: beta, y: yp.baseAddress!, ldy: ldy, workers: workers)
                        }
                    }
                }
            }
        }
        return (0..<m).flatMap { r in ys[(r * ldy)..<(r * ldy + n)] }
    }

    func testProductsMatchADoublePrecisionReference() {
        for (m, n, k) in [(1, 1, 1), (1, 37, 15), (2, 9, 16), (3, 20, 17), (4, 11, 31), (5, 7, 32), (6, 13, 33),
                          (7, 5, 47), (8, 23, 100), (8, 64, 576)] {
            let x = values(m * k, seed: UInt64(m * 1000 + k)), w = values(n * k, seed: UInt64(n * 31 + k))
            let y0 = values(m * n, seed: 99)
            for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-2, 0.25)] {
                let y = product(m: m, n: n, k: k, x: x, w: w, y0: y0, alpha: alpha, beta: beta)
                for r in 0..<m {
                    for j in 0..<n {
                        var dot = 0.0, magnitude = 0.0
                        for i in 0..<k {
                            dot += Double(x[r * k + i]) * Double(w[j * k + i])
                            magnitude += abs(Double(x[r * k + i]) * Double(w[j * k + i]))
                        }
                        let want = Double(alpha) * dot + Double(beta) * Double(y0[r * n + j])
                        // float32 accumulation: error a few ulps of the magnitude summed
                        let tolerance = 1e-6 * (abs(Double(alpha)) * magnitude + abs(Double(beta * y0[r * n + j]))) + 1e-7
                        XCTAssertEqual(Double(y[r * n + j]), want, accuracy: tolerance,
                                       "m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta) at (\(r), \(j))")
                    }
                }
            }
        }
    }

    func testARowGivesTheSameBitsInAnyBatchAndAnyColumnSplit() {
        let n = 150, k = 77
        let w = values(n * k, seed: 5), x8 = values(8 * k, seed: 6), zeros = [Float](repeating: 0, count: 8 * n)
        let alone = (0..<8).map { r in
            product(m: 1, n: n, k: k, x: Array(x8[(r * k)..<((r + 1) * k)]), w: w, y0: zeros, alpha: 1, beta: 0)
        }
        for m in 1...8 {
            let batch = product(m: m, n: n, k: k, x: Array(x8[0..<(m * k)]), w: w, y0: zeros, alpha: 1, beta: 0, workers: 2)
            for r in 0..<m {
                XCTAssertEqual(Array(batch[(r * n)..<((r + 1) * n)]).map(\.bitPattern), alone[r].map(\.bitPattern),
                               "row \(r) in a batch of \(m)")
            }
        }
        // columns 40..<113 computed alone give those columns' bits; the others stay as they were
        let part = product(m: 3, n: n, k: k, x: Array(x8[0..<(3 * k)]), w: w, y0: zeros, alpha: 1, beta: 0,
                           columns: 40..<113)
        for r in 0..<3 {
            for j in 0..<n {
                XCTAssertEqual(part[r * n + j].bitPattern, (40..<113).contains(j) ? alone[r][j].bitPattern : 0,
                               "row \(r) column \(j)")
            }
        }
    }

    func testTwoThreadsGiveOneThreadsBitsAndConcurrentCallersDoNotBlock() {
        // large enough for the two-thread path (the caller and the helper thread)
        let m = 3, n = 2_001, k = 100
        let x = values(m * k, seed: 51), w = values(n * k, seed: 52), y0 = values(m * n, seed: 53)
        let half = toBFloat16(w)
        let one = product(m: m, n: n, k: k, x: x, w: w, y0: y0, alpha: 1, beta: 1, workers: 1)
        let oneHalf = product(m: m, n: n, k: k, x: x, w: w, y0: y0, alpha: 1, beta: 0, bf16: half, workers: 1)
        for _ in 0..<3 {
            XCTAssertEqual(product(m: m, n: n, k: k, x: x, w: w, y0: y0, alpha: 1, beta: 1, workers: 2).map(\.bitPattern),
                           one.map(\.bitPattern))
            XCTAssertEqual(product(m: m, n: n, k: k, x: x, w: w, y0: y0, alpha: 1, beta: 0, bf16: half, workers: 2).map(\.bitPattern),
                           oneHalf.map(\.bitPattern))
        }
        // four threads at once, each asking for two: one gets the helper, the others compute alone
        let results = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: 4 * 25)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for i in 0..<25 { results[t * 25 + i] = self.product(m: m, n: n, k: k, x: x, w: w, y0: y0, alpha: 1, beta: 1, workers: 2) }
        }
        for r in results { XCTAssertEqual(r.map(\.bitPattern), one.map(\.bitPattern)) }
    }

    func testEveryVectorImplementationGivesThePortableBits() throws {
        let vector = FewRowsGemm.Kernel.allCases.filter { $0 != .portable && $0.isSupported }
        try XCTSkipIf(vector.isEmpty, "this CPU runs no vector implementation: only the portable one")
        // every row count (the AVX2 and NEON kernels take rows in passes of at most three) and
        // every kind of tail: k below one chunk, one chunk, between one and two, whole steps, 576
        var shapes: [(Int, Int, Int)] = [(1, 33, 1), (3, 17, 15), (5, 16, 16), (8, 40, 17), (2, 9, 33), (7, 21, 576)]
        for m in 1...8 { for k in [1, 7, 16, 17, 31, 32, 33, 48, 63, 64, 65, 100] { shapes.append((m, 5 + m, k)) } }
        for (m, n, k) in shapes {
            let x = values(m * k, seed: UInt64(11 + k)), w = values(n * k, seed: UInt64(12 + m)), y0 = values(m * n, seed: 13)
            let bf16 = toBFloat16(w)
            XCTAssertTrue(FewRowsGemm.setKernel(.portable))
            let portable = product(m: m, n: n, k: k, x: x, w: w, y0: y0, alpha: 0.75, beta: 0.5)
            let portableHalf = product(m: m, n: n, k: k, x: x, w: w, y0: y0, alpha: 1, beta: 0, bf16: bf16)
            for kernel in vector {
                XCTAssertTrue(FewRowsGemm.setKernel(kernel))
                XCTAssertEqual(FewRowsGemm.kernel, kernel)
                let fast = product(m: m, n: n, k: k, x: x, w: w, y0: y0, alpha: 0.75, beta: 0.5)
                let fastHalf = product(m: m, n: n, k: k, x: x, w: w, y0: y0, alpha: 1, beta: 0, bf16: bf16)
                XCTAssertEqual(fast.map(\.bitPattern), portable.map(\.bitPattern), "\(kernel) float32 m \(m) n \(n) k \(k)")
                XCTAssertEqual(fastHalf.map(\.bitPattern), portableHalf.map(\.bitPattern), "\(kernel) bfloat16 m \(m) n \(n) k \(k)")
            }
        }
    }

    func testNegativeZeroSumsKeepTheirSignInEveryImplementation() {
        // every product -0: the sign of the zero depends on which additions run, so an
        // implementation that added a chunk past k (or skipped one) would give +0
        let m = 3, n = 4
        for k in [5, 16, 20, 40] {
            let x = [Float](repeating: -0.0, count: m * k), w = [Float](repeating: 1, count: n * k)
            var results: [FewRowsGemm.Kernel: [UInt32]] = [:]
            for kernel in FewRowsGemm.Kernel.allCases where kernel.isSupported {
                FewRowsGemm.setKernel(kernel)
                results[kernel] = product(m: m, n: n, k: k, x: x, w: w, y0: [Float](repeating: 0, count: m * n),
                                          alpha: 1, beta: 0).map(\.bitPattern)
            }
            XCTAssertEqual(Set(results.values).count, 1, "k \(k): \(results)")
        }
    }

    func testThePathFollowsTheEnvironmentAndRefusesKernelsThisCPUCannotRun() {
        defer { FewRowsGemm.setKernel(nil) }
        let automatic = FewRowsGemm.choosePath([:])
        XCTAssertNil(automatic.problem)
        // never the portable kernel by default where its fmaf is a library call (slower than OpenBLAS)
        if FewRowsGemm.bestKernel == .portable {
            XCTAssertEqual(automatic.path, align_few_rows_portable_is_fast() != 0 ? .kernel(.portable) : .openBLAS)
        } else {
            XCTAssertEqual(automatic.path, .kernel(FewRowsGemm.bestKernel))
        }
        XCTAssertEqual(FewRowsGemm.choosePath(["ALIGN_FEW_ROWS_KERNEL": "auto"]).path, automatic.path)
        XCTAssertEqual(FewRowsGemm.choosePath(["ALIGN_FEW_ROWS_KERNEL": "openblas"]).path, .openBLAS)
        XCTAssertEqual(FewRowsGemm.choosePath(["ALIGN_FEW_ROWS_GEMM": "0"]).path, .openBLAS)
        let portable = FewRowsGemm.choosePath(["ALIGN_FEW_ROWS_KERNEL": "Portable"])
        XCTAssertEqual(portable.path, .kernel(.portable))
        XCTAssertEqual(FewRowsGemm.kernel, .portable)
        let typo = FewRowsGemm.choosePath(["ALIGN_FEW_ROWS_KERNEL": "avx3"])
        XCTAssertEqual(typo.path, automatic.path)
        XCTAssertEqual(typo.problem, "ALIGN_FEW_ROWS_KERNEL='avx3' is not one of auto, avx512, avx2, neon, portable, openblas")
        for kernel in FewRowsGemm.Kernel.allCases where !kernel.isSupported {
            let refused = FewRowsGemm.choosePath(["ALIGN_FEW_ROWS_KERNEL": kernel.rawValue])
            XCTAssertEqual(refused.path, automatic.path)
            XCTAssertTrue(refused.problem?.hasPrefix("ALIGN_FEW_ROWS_KERNEL=\(kernel.rawValue): this CPU or build cannot run it") == true,
                          "\(refused.problem ?? "no problem")")
            XCTAssertFalse(FewRowsGemm.setKernel(kernel))
        }
    }

    func toBFloat16(_ v: [Float]) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: v.count)
        v.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in BFloat16.convert(src.baseAddress!, to: dst.baseAddress!, count: v.count) }
        }
        return out
    }

    func testBFloat16RoundsToNearestEvenByHand() {
        let cases: [(Float, UInt16)] = [
            (1, 0x3F80), (-2, 0xC000), (0, 0x0000), (-0.0, 0x8000),
            (Float(bitPattern: 0x3F80_8000), 0x3F80),   // 1 + 2⁻⁸: halfway, the even neighbour 1
            (Float(bitPattern: 0x3F81_8000), 0x3F82),   // 1 + 3·2⁻⁸: halfway, the even neighbour up
            (Float(bitPattern: 0x3F80_8001), 0x3F81),   // just above halfway: up
            (Float(bitPattern: 0x3F80_7FFF), 0x3F80),   // just below: down
            (.infinity, 0x7F80), (-.infinity, 0xFF80),
            (Float.greatestFiniteMagnitude, 0x7F80),    // rounds up past the largest bfloat16: infinity
            (Float(bitPattern: 0x0000_0001), 0x0000),   // the smallest subnormal rounds to zero
        ]
        let bits = toBFloat16(cases.map(\.0))
        for (i, c) in cases.enumerated() {
            XCTAssertEqual(bits[i], c.1, "\(c.0) (0x\(String(c.0.bitPattern, radix: 16)))")
        }
        let nan = toBFloat16([Float(bitPattern: 0x7F80_0001), -.nan])
        XCTAssertTrue(nan.allSatisfy { $0 & 0x7F80 == 0x7F80 && $0 & 0x007F != 0 }, "NaN stays NaN: \(nan)")
    }

    func testBFloat16WeightsGiveTheProductOfTheWidenedWeights() {
        let m = 4, n = 29, k = 45
        let x = values(m * k, seed: 21), w = values(n * k, seed: 22), zeros = [Float](repeating: 0, count: m * n)
        let half = toBFloat16(w)
        let widened = half.map { Float(bitPattern: UInt32($0) << 16) }
        XCTAssertEqual(product(m: m, n: n, k: k, x: x, w: w, y0: zeros, alpha: 1, beta: 0, bf16: half).map(\.bitPattern),
                       product(m: m, n: n, k: k, x: x, w: widened, y0: zeros, alpha: 1, beta: 0).map(\.bitPattern))
        XCTAssertNotEqual(widened, w, "the rounding must be visible for the comparison to mean something")
    }

    func testLinearReadsBFloat16CopiesInsideTheirScopeOnlyEightRowsAtATime() {
        let inF = 40, outF = 70
        let w = values(outF * inF, seed: 41), b = Tensor(values(outF, seed: 42), shape: [outF])
        let rounded = toBFloat16(w)
        let widened = rounded.map { Float(bitPattern: UInt32($0) << 16) }
        XCTAssertNotEqual(widened, w)
        // (OUT,IN) and (IN,OUT) layouts of the same weight: the (IN,OUT) one is copied transposed
        let transposed = (0..<(inF * outF)).map { i in w[(i % outF) * inF + i / outF] }
        let layouts: [(Tensor, Tensor.WeightLayout)] = [(Tensor(w, shape: [outF, inF]), .outIn),
                                                        (Tensor(transposed, shape: [inF, outF]), .inOut)]
        for rows in [3, 13] {
            let x = Tensor(values(rows * inF, seed: UInt64(43 + rows)), shape: [rows, inF])
            // the kernel on the widened weights, 8 rows at a time, plus the bias
            var want: [Float] = []
            for r0 in stride(from: 0, to: rows, by: 8) {
                let m = min(8, rows - r0)
                want += product(m: m, n: outF, k: inF, x: Array(x.scalars[(r0 * inF)..<((r0 + m) * inF)]), w: widened,
                                y0: (0..<m).flatMap { _ in b.scalars }, alpha: 1, beta: 1)
            }
            for (weight, layout) in layouts {
                let plain = withNoGrad { Tensor.linear(x, weight: weight, bias: b, layout: layout) }
                let copies = BFloat16WeightCopies()
                let half = copies.reading { withNoGrad { Tensor.linear(x, weight: weight, bias: b, layout: layout) } }
                XCTAssertEqual(half.scalars.map(\.bitPattern), want.map(\.bitPattern), "\(rows) rows, \(layout)")
                XCTAssertEqual(copies.bytes, 2 * outF * inF)
                // recording gradients: the float32 weights, as outside the scope
                let recorded = copies.reading { Tensor.linear(x, weight: weight, bias: b, layout: layout) }
                XCTAssertEqual(recorded.scalars.map(\.bitPattern), plain.scalars.map(\.bitPattern), "\(rows) rows, \(layout)")
            }
        }
    }

    func testLinearSendsDecodeShapedProductsToTheKernel() {
        // (3, 1, 40) · W(70, 40)ᵀ + b: the kernel's bits; 9 rows go to sgemm and still agree closely
        let w = Tensor(values(70 * 40, seed: 31), shape: [70, 40]), b = Tensor(values(70, seed: 32), shape: [70])
        let x = Tensor(values(3 * 40, seed: 33), shape: [3, 1, 40])
        let y = Tensor.linear(x, weight: w, bias: b)
        let direct = product(m: 3, n: 70, k: 40, x: x.scalars, w: w.scalars,
                             y0: (0..<3).flatMap { _ in b.scalars }, alpha: 1, beta: 1)
        XCTAssertEqual(y.shape, [3, 1, 70])
        XCTAssertEqual(y.scalars.map(\.bitPattern), direct.map(\.bitPattern))
        let x9 = Tensor(values(9 * 40, seed: 34), shape: [9, 40])
        let y9 = Tensor.linear(x9, weight: w, bias: b)
        for r in 0..<9 {
            for j in 0..<70 {
                var dot = Double(b.scalars[j])
                for i in 0..<40 { dot += Double(x9.scalars[r * 40 + i]) * Double(w.scalars[j * 40 + i]) }
                XCTAssertEqual(Double(y9.scalars[r * 70 + j]), dot, accuracy: 1e-4)
            }
        }
    }
}

/// Matrix products through `cblas_sgemm`: matmul with optional transposes, batched over leading
/// dimensions, and the fused linear layer y = x·Wᵀ + b.

extension Tensor {
    /// op(a) · op(b) over the last two axes.
    ///
    /// a: (..., M, K), or (..., K, M) with `transposeA`.
    /// b: (K, N) shared by every batch, or (..., K, N) with the same leading dimensions as a;
    ///    (N, K) / (..., N, K) with `transposeB`.
    /// Result: (..., M, N).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        if let e = matmulShapeError(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB) {
            preconditionFailure(e.message)
        }
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let ka = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        let batchA = Array(a.shape.dropLast(2))
        let sharedB = b.rank == 2
        let batches = shapeCount(batchA)
        let k = ka
        let outShape = batchA + [m, n]
        let out = Storage(uninitializedCount: batches * m * n)
        gemmBatched(a.pointer, transA: transposeA, rowsA: transposeA ? k : m, colsA: transposeA ? m : k, strideA: m * k,
                    b.pointer, transB: transposeB, rowsB: transposeB ? n : k, colsB: transposeB ? k : n,
                    strideB: sharedB ? 0 : k * n,
                    out.pointer, m: m, n: n, k: k, strideC: m * n, batches: batches,
                    foldBatches: sharedB && !transposeA)
        return result("matmul", shape: outShape, storage: out, inputs: [a, b]) { y, g in
            let a = y.node!.inputs[0], b = y.node!.inputs[1]
            var ga: Tensor?, gb: Tensor?
            if a.requiresGrad {
                // C = op(A)op(B): dop(A) = dC · op(B)ᵀ, and dA is its transpose when A was transposed
                let s = Storage(uninitializedCount: a.count)
                if !transposeA {
                    // dA (M,K) = dC (M,N) · op(B)ᵀ
                    gemmBatched(g.pointer, transA: false, rowsA: m, colsA: n, strideA: m * n,
                                b.pointer, transB: !transposeB, rowsB: transposeB ? n : k, colsB: transposeB ? k : n,
                                strideB: sharedB ? 0 : k * n,
                                s.pointer, m: m, n: k, k: n, strideC: m * k, batches: batches, foldBatches: sharedB)
                } else {
                    // dA (K,M) = op(B) · dCᵀ
                    gemmBatched(b.pointer, transA: transposeB, rowsA: transposeB ? n : k, colsA: transposeB ? k : n,
                                strideA: sharedB ? 0 : k * n,
                                g.pointer, transB: true, rowsB: m, colsB: n, strideB: m * n,
                                s.pointer, m: k, n: m, k: n, strideC: m * k, batches: batches, foldBatches: false)
                }
                ga = Tensor(shape: a.shape, storage: s)
            }
            if b.requiresGrad {
                let s = Storage(count: b.count, repeating: 0)
                // dop(B) (K,N) = op(A)ᵀ · dC; with transposeB we need dB (N,K) = dCᵀ · op(A)
                if sharedB && !transposeA {
                    // fold batches: A as (batches·M, K), dC as (batches·M, N)
                    let rows = batches * m
                    if !transposeB {
                        sgemm(transA: true, transB: false, m: k, n: n, k: rows, a: a.pointer, lda: k,
                              b: g.pointer, ldb: n, c: s.pointer, ldc: n)
                    } else {
                        sgemm(transA: true, transB: false, m: n, n: k, k: rows, a: g.pointer, lda: n,
                              b: a.pointer, ldb: k, c: s.pointer, ldc: k)
                    }
                } else {
                    for bi in 0..<batches {
                        let ap = a.pointer + bi * m * k, gp = g.pointer + bi * m * n
                        let dst = s.pointer + (sharedB ? 0 : bi * k * n)
                        if !transposeB {
                            // (K,N) += op(A)ᵀ (K,M) · dC (M,N)
                            sgemm(transA: !transposeA, transB: false, m: k, n: n, k: m, a: ap, lda: transposeA ? m : k,
                                  b: gp, ldb: n, beta: sharedB ? 1 : 0, c: dst, ldc: n)
                        } else {
                            // (N,K) += dCᵀ (N,M) · op(A) (M,K)
                            sgemm(transA: true, transB: transposeA, m: n, n: k, k: m, a: gp, lda: n,
                                  b: ap, ldb: transposeA ? m : k, beta: sharedB ? 1 : 0, c: dst, ldc: k)
                        }
                    }
                }
                gb = Tensor(shape: b.shape, storage: s)
            }
            return [ga, gb]
        }
    }

    /// How a linear layer's weight matrix is stored.
    public enum WeightLayout: Sendable {
        /// (OUT, IN): PyTorch `nn.Linear`, y = x·Wᵀ + b
        case outIn
        /// (IN, OUT): Hugging Face GPT-2 `Conv1D`, y = x·W + b
        case inOut
    }

    /// Several linear layers of one input x (..., IN), each weight (OUT_i, IN): a decode step's
    /// q, k and v projections, or gate and up. Outside no-grad, or with more rows than the few-row
    /// kernel takes, each is `linear`; otherwise all products are one job over their joined output
    /// columns, split between the caller and the helper thread (`PairSplit`) instead of one
    /// hand-off per product. The same bits as `linear` on each: every output column is computed
    /// by the same instructions whichever job or thread it falls in.
    public static func linears(_ x: Tensor, _ layers: [(weight: Tensor, bias: Tensor?)]) -> [Tensor] {
        let inF = x.shape[x.rank - 1]
        let rows = x.count / Swift.max(inF, 1)
        let copies = FewRowsGemm.readsBFloat16 ? BFloat16WeightCopies.current : nil
        guard !GradMode.isEnabled, rows >= 1, rows <= FewRowsGemm.maxRows, copies != nil || FewRowsGemm.enabled,
              layers.allSatisfy({ $0.weight.rank == 2 && $0.weight.shape[1] == inF })
        else {
            return layers.map { linear(x, weight: $0.weight, bias: $0.bias) }
        }
        // per product: its weights (a bfloat16 copy inside the copies' scope), output, bias
        var products: [(w: FewRowsGemm.Weights, n: Int, out: Storage, beta: Float)] = []
        for (weight, bias) in layers {
            let outF = weight.shape[0]
            precondition(bias == nil || bias!.shape == [outF], "linears: bias \(bias!.shape) for weight \(weight.shape)")
            let out = Storage(uninitializedCount: rows * outF)
            if let bias { for r in 0..<rows { (out.pointer + r * outF).update(from: bias.pointer, count: outF) } }
            let w: FewRowsGemm.Weights = copies.map { .bfloat16($0.copy(of: weight, transposed: false)) } ?? .float32(weight.pointer)
            products.append((w, outF, out, bias == nil ? 0 : 1))
        }
        let total = products.reduce(0) { $0 + $1.n }
        // x (rows, IN); product i's columns are [base_i, base_i + n_i) of the joined range
        func run(_ joined: Range<Int>) {
            var base = 0
            for p in products {
                let lo = Swift.max(joined.lowerBound, base), hi = Swift.min(joined.upperBound, base + p.n)
                if lo < hi {
                    FewRowsGemm.columns((lo - base)..<(hi - base), m: rows, k: inF, alpha: 1, x: x.pointer, ldx: inF,
                                        w: p.w, ldw: inF, beta: p.beta, y: p.out.pointer, ldy: p.n)
                }
                base += p.n
            }
        }
        if rows * total * inF < 1 << 18 { run(0..<total) } else { PairSplit.run(0..<total, run) }
        let prefix = Array(x.shape.dropLast())
        return products.map { Tensor(shape: prefix + [$0.n], storage: $0.out) }   // no-grad: no node
    }

    /// y = x · W (+ bias) for a weight stored in `layout`, with the bias folded into the GEMM.
    /// x: (..., IN), weight: (OUT, IN) or (IN, OUT), bias: (OUT). Result: (..., OUT).
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, layout: WeightLayout = .outIn) -> Tensor {
        precondition(weight.rank == 2, "linear: weight must be rank 2, got shape \(weight.shape)")
        let outF = layout == .outIn ? weight.shape[0] : weight.shape[1]
        let inF = layout == .outIn ? weight.shape[1] : weight.shape[0]
        precondition(x.rank >= 1 && x.shape[x.rank - 1] == inF,
                     "linear: input shape \(x.shape) does not end in in_features \(inF) of weight \(weight.shape)")
        if let bias { precondition(bias.shape == [outF], "linear: bias shape \(bias.shape) must be [\(outF)] for weight \(weight.shape)") }
        let rows = x.count / Swift.max(inF, 1)
        let outShape = Array(x.shape.dropLast()) + [outF]
        let out = Storage(uninitializedCount: rows * outF)
        let wT = layout == .outIn
        // x (rows,IN) weight (OUT,IN)|(IN,OUT) out (rows,OUT)
        if let bias {
            for r in 0..<rows { (out.pointer + r * outF).update(from: bias.pointer, count: outF) }
        }
        if rows >= 1 && !GradMode.isEnabled, let copies = BFloat16WeightCopies.current {
            // a decode step reading bfloat16 copies: the weight's (OUT,IN) copy, 8 rows at a time
            let w = copies.copy(of: weight, transposed: !wT)
            for r0 in stride(from: 0, to: rows, by: FewRowsGemm.maxRows) {
                FewRowsGemm.nt(m: Swift.min(FewRowsGemm.maxRows, rows - r0), n: outF, k: inF, x: x.pointer + r0 * inF, ldx: inF,
                               w: .bfloat16(w), ldw: inF, beta: bias == nil ? 0 : 1, y: out.pointer + r0 * outF, ldy: outF)
            }
        } else {
            sgemm(transA: false, transB: wT, m: rows, n: outF, k: inF, a: x.pointer, lda: inF,
                  b: weight.pointer, ldb: wT ? inF : outF, beta: bias == nil ? 0 : 1, c: out.pointer, ldc: outF)
        }
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return result("linear", shape: outShape, storage: out, inputs: inputs) { y, g in
            let x = y.node!.inputs[0], w = y.node!.inputs[1]
            var grads: [Tensor?] = [nil, nil]
            // g (rows,OUT)
            if x.requiresGrad {
                // dx (rows,IN) = g (rows,OUT) · W (OUT,IN)  [or · Wᵀ for (IN,OUT)]
                let s = Storage(uninitializedCount: rows * inF)
                sgemm(transA: false, transB: !wT, m: rows, n: inF, k: outF, a: g.pointer, lda: outF,
                      b: w.pointer, ldb: wT ? inF : outF, c: s.pointer, ldc: inF)
                grads[0] = Tensor(shape: x.shape, storage: s)
            }
            if w.requiresGrad {
                let s = Storage(uninitializedCount: outF * inF)
                if wT {
                    // dW (OUT,IN) = gᵀ (OUT,rows) · x (rows,IN)
                    sgemm(transA: true, transB: false, m: outF, n: inF, k: rows, a: g.pointer, lda: outF,
                          b: x.pointer, ldb: inF, c: s.pointer, ldc: inF)
                } else {
                    // dW (IN,OUT) = xᵀ (IN,rows) · g (rows,OUT)
                    sgemm(transA: true, transB: false, m: inF, n: outF, k: rows, a: x.pointer, lda: inF,
                          b: g.pointer, ldb: outF, c: s.pointer, ldc: outF)
                }
                grads[1] = Tensor(shape: w.shape, storage: s)
            }
            if y.node!.inputs.count == 3 {
                let b = y.node!.inputs[2]
                if b.requiresGrad {
                    // db (OUT) = Σ_rows g
                    let s = parallelPartials(rows, width: outF, costPerItem: outF) { r, acc in
                        for row in r { addInPlace(acc, g.pointer + row * outF, count: outF) }
                    }
                    grads.append(Tensor(shape: [outF], storage: s))
                } else {
                    grads.append(nil)
                }
            }
            return grads
        }
    }
}

/// Why `matmul` cannot multiply these shapes, or nil when it can.
public func matmulShapeError(_ a: [Int], _ b: [Int], transposeA: Bool = false, transposeB: Bool = false) -> ShapeError? {
    let desc = "\(a)\(transposeA ? "ᵀ" : "") and \(b)\(transposeB ? "ᵀ" : "")"
    guard a.count >= 2 && b.count >= 2 else {
        return ShapeError(message: "matmul: needs rank ≥ 2, got shapes \(desc)")
    }
    let ka = transposeA ? a[a.count - 2] : a[a.count - 1]
    let kb = transposeB ? b[b.count - 1] : b[b.count - 2]
    guard ka == kb else {
        return ShapeError(message: "matmul: inner dimensions \(ka) and \(kb) differ for shapes \(desc)")
    }
    guard b.count == 2 || Array(a.dropLast(2)) == Array(b.dropLast(2)) else {
        return ShapeError(message: "matmul: batch dimensions differ for shapes \(desc)")
    }
    return nil
}

/// Batched row-major GEMM: C_b (M,N) = op(A_b) · op(B_b) for b in 0..<batches, where the
/// stored (untransposed) A_b is (rowsA, colsA) at a + b·strideA, and likewise B (stride 0 = shared).
/// With `foldBatches` (A not transposed, B shared) all batches run as one (batches·M, K) GEMM.
func gemmBatched(_ a: UnsafePointer<Float>, transA: Bool, rowsA: Int, colsA: Int, strideA: Int,
                 _ b: UnsafePointer<Float>, transB: Bool, rowsB: Int, colsB: Int, strideB: Int,
                 _ c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, strideC: Int, batches: Int,
                 foldBatches: Bool) {
    if foldBatches && !transA && strideB == 0 {
        sgemm(transA: false, transB: transB, m: batches * m, n: n, k: k, a: a, lda: colsA,
              b: b, ldb: colsB, c: c, ldc: n)
        return
    }
    for bi in 0..<batches {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a + bi * strideA, lda: colsA,
              b: b + bi * strideB, ldb: colsB, c: c + bi * strideC, ldc: n)
    }
}

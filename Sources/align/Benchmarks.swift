import AlignNN
import AlignTensor
import Dispatch
import Foundation

/// The measurements behind `align bench`. FLOP counts are the GEMM work of each job (the
/// convention of llm.c and PyTorch's MFU reports); attention counts the full T×T products the
/// kernel computes.
struct Benchmarks {
    let batch: Int, seq: Int, width: Int, heads: Int, vocab: Int, repeats: Int

    struct Report {
        var text: String
        var json: [String: Any]
    }

    /// Median wall time of `body` over `repeats` runs after one warm-up run.
    func median(_ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    func run() -> Report {
        var rng = RandomGenerator(seed: 0)
        let rows = batch * seq, c = width
        var lines: [String] = []
        var json: [String: Any] = [:]
        lines.append("CPU \(MachineInfo.cpuModel); OpenBLAS core \(BLASInfo.coreName); \(ProcessInfo.processInfo.activeProcessorCount) cores; "
                     + "decode products: \(FewRowsGemm.path)")
        lines.append("shapes: B=\(batch) T=\(seq) C=\(width) heads=\(heads) vocab=\(vocab); median of \(repeats)")
        json["blas_core"] = BLASInfo.coreName
        json["cpu"] = MachineInfo.cpuModel
        json["decode_path"] = FewRowsGemm.path.description

        // 1. sgemm at the block's shapes, (rows, K)·(K, N): OpenBLAS with its own thread pool is
        //    the reference; the library's split (OpenBLAS single-threaded, one call per core) is
        //    what the ops use
        let gemmShapes: [(String, Int, Int, Int)] = [
            ("attn.c_attn  x(BT,C)·W(C,3C) ", rows, c, 3 * c),
            ("attn.c_proj  x(BT,C)·W(C,C)  ", rows, c, c),
            ("mlp.c_fc     x(BT,C)·W(C,4C) ", rows, c, 4 * c),
            ("mlp.c_proj   x(BT,4C)·W(4C,C)", rows, 4 * c, c),
        ]
        var totalFlops = 0.0, refTime = 0.0, libTime = 0.0
        var gemmJSON: [[String: Any]] = []
        for (name, m, k, n) in gemmShapes {
            let a = Tensor.randn([m, k], rng: &rng), b = Tensor.randn([k, n], rng: &rng)
            let out = Storage(uninitializedCount: m * n)
            let tRef = BLASInfo.withOpenBLASThreads {
                median { BLASInfo.openBLASGemm(transA: false, transB: false, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: out.pointer) }
            }
            let tLib = median { BLASInfo.gemm(transA: false, transB: false, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: out.pointer) }
            let flops = 2.0 * Double(m * n * k)
            totalFlops += flops
            refTime += tRef
            libTime += tLib
            lines.append(String(format: "sgemm %@ %4dx%4dx%5d  OpenBLAS %6.1f GFLOP/s  library split %6.1f GFLOP/s",
                                name, m, k, n, flops / tRef / 1e9, flops / tLib / 1e9))
            gemmJSON.append(["name": name.trimmingCharacters(in: .whitespaces), "m": m, "k": k, "n": n,
                             "openblas_gflops": flops / tRef / 1e9, "library_gflops": flops / tLib / 1e9])
        }
        let sgemmRef = totalFlops / refTime / 1e9
        lines.append(String(format: "sgemm reference: OpenBLAS, %d threads, all four shapes FLOP-weighted   %6.1f GFLOP/s  (library split %.1f)",
                            ProcessInfo.processInfo.activeProcessorCount, sgemmRef, totalFlops / libTime / 1e9))
        json["sgemm"] = gemmJSON
        json["sgemm_reference_gflops"] = sgemmRef
        json["sgemm_library_gflops"] = totalFlops / libTime / 1e9

        // 2. one GPT-2 block, forward + backward (weights and input gradients)
        let block = GPT2Block(width: c, heads: heads, layers: 12, rng: &rng)
        let x = Tensor.randn([batch, seq, c], rng: &rng).asParameter()
        let seed = Tensor.randn([batch, seq, c], rng: &rng)
        var fwdTime = 0.0
        let blockTime = median {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let y = block(x)
            fwdTime = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            _ = y.backward(seed: seed)
        }
        let linearFlops = 2.0 * Double(rows) * 12 * Double(c * c)          // forward
        let attnFlops = 4.0 * Double(batch) * Double(seq * seq) * Double(c) // forward QKᵀ and PV
        let blockFlops = 3 * (linearFlops + attnFlops)                      // backward is twice the forward
        let blockRate = blockFlops / blockTime / 1e9
        lines.append(String(format: "GPT-2 block fwd+bwd  %.1f ms (fwd %.1f ms)  %7.1f GFLOP/s  ratio to sgemm %.2f",
                            blockTime * 1e3, fwdTime * 1e3, blockRate, blockRate / sgemmRef))
        json["block"] = ["seconds": blockTime, "gflops": blockRate, "ratio_to_sgemm": blockRate / sgemmRef,
                         "tokens_per_second": Double(rows) / blockTime]

        // 3. softmax-cross-entropy over the vocabulary, forward + backward, vs the LM head's GEMMs
        let logits = Tensor.randn([rows, vocab], rng: &rng).asParameter()
        let targets = (0..<rows).map { _ in rng.int(below: vocab) }
        let ceTime = median { _ = logits.crossEntropy(targets: targets).backward() }
        let ceFlops = 7.0 * Double(rows * vocab) // fwd: max, sub, exp, add; bwd: sub, exp, mul per logit
        let ceRate = ceFlops / ceTime / 1e9
        let lmHeadFlops = 6.0 * Double(rows) * Double(c) * Double(vocab)
        let lmHeadTime = lmHeadFlops / (sgemmRef * 1e9)
        lines.append(String(format: "cross-entropy V=%d fwd+bwd  %.1f ms  %7.1f GFLOP/s (7 FLOP/logit)  ratio to sgemm %.3f",
                            vocab, ceTime * 1e3, ceRate, ceRate / sgemmRef))
        lines.append(String(format: "  = %.1f%% of the LM head's GEMM time at the sgemm reference (%.0f ms)",
                            100 * ceTime / lmHeadTime, lmHeadTime * 1e3))
        json["cross_entropy"] = ["seconds": ceTime, "gflops": ceRate, "ratio_to_sgemm": ceRate / sgemmRef,
                                 "fraction_of_lm_head_gemm": ceTime / lmHeadTime]
        return Report(text: lines.joined(separator: "\n"), json: json)
    }

    /// A full GPT-2 training step (width/heads/vocab of this benchmark, 12 layers, 1024
    /// positions, no dropout): forward, mean cross-entropy over all B·T tokens, backward, global
    /// clipping at 1.0 and AdamW (weight decay 0.1). The same job as
    /// `scripts/bench_train_step_torch.py`.
    func trainStep() -> Report {
        var rng = RandomGenerator(seed: 0)
        let config = GPT2Config(vocabSize: vocab, contextLength: Swift.max(1024, seq), width: width, layers: 12, heads: heads)
        let model = GPT2Model(config, rng: &rng)
        let optimizer = AdamW(parameters: model.parameters, config: AdamWConfig(weightDecay: 0.1))
        let ids = (0..<batch * seq).map { _ in rng.int(below: vocab) }
        let targets = (0..<batch * seq).map { _ in rng.int(below: vocab) }
        var lastLoss: Float = 0
        let t = median {
            let loss = model(ids, batch: batch, length: seq).crossEntropy(targets: targets)
            let grads = loss.backward()
            // clipping as the training loop does it: the coefficient goes to the optimizer
            optimizer.step(grads, lr: 1e-4, gradientScale: gradientClipScale(norm: grads.globalNorm(), maxNorm: 1))
            lastLoss = loss.item
        }
        let tokens = Double(batch * seq) / t
        let rss = peakResidentBytes()
        let text = String(format: "GPT-2 %.0fM train step B=%d T=%d: %.3f s/step, %.0f tokens/s, peak RSS %.0f MiB (loss %.3f)",
                          Double(model.parameterCount) / 1e6, batch, seq, t, tokens, Double(rss) / 1048576, lastLoss)
        return Report(text: text, json: ["job": "train-step", "impl": "align", "seconds_per_step": t, "tokens_per_second": tokens,
                                         "peak_rss_bytes": rss, "parameters": model.parameterCount, "batch": batch, "seq": seq])
    }
}

/// Peak resident set size of this process in bytes (getrusage; Linux reports KiB).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}

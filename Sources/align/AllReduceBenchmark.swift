import AlignTraining
import Foundation

/// `align bench --job allreduce` under `mpirun -np N`: the latency of a one-element all-reduce
/// and the bandwidth of float all-reduces from 4 KB to `maxBytes`, through the communicator the
/// training loop uses. Bandwidth is the algorithm bandwidth, bytes reduced per second (what a
/// step's gradient all-reduce of that size takes), and the bus bandwidth, ×2(N−1)/N (what each
/// link carries in a ring all-reduce).
struct AllReduceBenchmark {
    var repeats: Int
    var maxBytes: Int

    /// Median seconds of `body` over `repeats` runs after a warm-up, the ranks aligned by a
    /// barrier before each run; rank 0's clock.
    func median(_ comm: Communicator, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<repeats {
            comm.barrier()
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    func run(_ comm: Communicator) -> Benchmarks.Report {
        let n = comm.size
        var lines = ["all-reduce (sum of float32) over \(n) rank\(n == 1 ? "" : "s"); median of \(repeats)"]
        var json: [String: Any] = ["ranks": n]
        var one: [Float] = [1]
        let latency = median(comm) { one.withUnsafeMutableBufferPointer { comm.allReduceSum($0) } }
        lines.append(String(format: "latency (4 bytes): %.1f µs", latency * 1e6))
        json["latency_seconds"] = latency
        var rows: [[String: Any]] = []
        var bytes = 4096
        while bytes <= maxBytes {
            var buffer = [Float](repeating: 1, count: bytes / 4)
            let t = median(comm) { buffer.withUnsafeMutableBufferPointer { comm.allReduceSum($0) } }
            let algo = Double(bytes) / t
            let bus = algo * 2 * Double(n - 1) / Double(max(n, 1))
            lines.append(String(format: "%10d bytes: %9.3f ms  %8.3f GB/s algorithm  %8.3f GB/s bus", bytes, t * 1e3, algo / 1e9, bus / 1e9))
            rows.append(["bytes": bytes, "seconds": t, "algorithm_bytes_per_second": algo, "bus_bytes_per_second": bus])
            bytes *= 4
        }
        json["sizes"] = rows
        return Benchmarks.Report(text: lines.joined(separator: "\n"), json: json)
    }
}

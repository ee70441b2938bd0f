/// What one rank contributes to a step besides gradients: its share of the step's loss and of
/// each metric (already multiplied by the batches' weights over the global weight), the tokens
/// it processed, and the first failure it met. `combined` merges every rank's in rank order, so
/// all ranks log, test and decide on the same global numbers.
struct StepTotals {
    var loss = 0.0
    var metrics: [String: Double] = [:]
    var tokens = 0
    var failure: String?
    var failedValue: Float = .nan

    /// Every rank's totals summed (metrics by name); the failure of the lowest failing rank.
    func combined(over communicator: Communicator) -> StepTotals {
        guard communicator.size > 1 else { return self }
        var all = StepTotals()
        for part in communicator.allGather(encoded()).map(StepTotals.init(decoding:)) {
            all.loss += part.loss
            all.tokens += part.tokens
            for (k, v) in part.metrics { all.metrics[k, default: 0] += v }
            if all.failure == nil, let f = part.failure { all.failure = f; all.failedValue = part.failedValue }
        }
        return all
    }

    // MARK: wire format: little-endian fields, strings as a length and UTF-8

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        func put(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func put(_ s: String) { let u = Array(s.utf8); put(UInt64(u.count)); out.append(contentsOf: u) }
        put(loss.bitPattern)
        put(UInt64(bitPattern: Int64(tokens)))
        put(UInt64(failedValue.bitPattern))
        put(failure == nil ? 0 : 1)
        if let failure { put(failure) }
        put(UInt64(metrics.count))
        for k in metrics.keys.sorted() { put(k); put(metrics[k]!.bitPattern) }
        return out
    }

    init() {}

    init(decoding bytes: [UInt8]) {
        var at = 0
        func u64() -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
            at += 8
            return v
        }
        func string() -> String {
            let n = Int(u64())
            defer { at += n }
            return String(decoding: bytes[at..<(at + n)], as: UTF8.self)
        }
        loss = Double(bitPattern: u64())
        tokens = Int(Int64(bitPattern: u64()))
        failedValue = Float(bitPattern: UInt32(truncatingIfNeeded: u64()))
        if u64() != 0 { failure = string() }
        for _ in 0..<Int(u64()) {
            let k = string()
            metrics[k] = Double(bitPattern: u64())
        }
    }
}

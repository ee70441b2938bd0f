import AlignTensor

/// Sums a step's gradients over all ranks, parameter by parameter in buckets of about
/// `bucketElements` floats, so every rank ends with the same `Gradients`. A parameter has an
/// entry afterwards exactly when some rank produced a gradient for it (AdamW skips parameters
/// without one, as a single process would).
/// (The communicator splits each bucket into the message size it reduces fastest.)
enum GradientAllReduce {
    static let bucketElements = 1 << 22

    static func sum(_ grads: inout Gradients, parameters: [Tensor], communicator: Communicator) {
        guard communicator.size > 1 else { return }
        var present = parameters.map { grads[$0] == nil ? Int64(0) : 1 }
        present.withUnsafeMutableBufferPointer { communicator.allReduceMax($0) }
        let reduced = parameters.indices.filter { present[$0] != 0 }.map { parameters[$0] }
        var start = 0
        while start < reduced.count {
            var end = start, elements = 0
            while end < reduced.count && (end == start || elements + reduced[end].count <= bucketElements) {
                elements += reduced[end].count
                end += 1
            }
            var bucket = [Float](repeating: 0, count: elements)
            var offset = 0
            bucket.withUnsafeMutableBufferPointer { b in
                for p in reduced[start..<end] {
                    if let g = grads[p] { (b.baseAddress! + offset).update(from: g.pointer, count: g.count) }
                    offset += p.count
                }
                communicator.allReduceSum(b)
            }
            offset = 0
            for p in reduced[start..<end] {
                grads.set(p, Tensor(Array(bucket[offset..<(offset + p.count)]), shape: p.shape))
                offset += p.count
            }
            start = end
        }
    }
}

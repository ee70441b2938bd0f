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
            // each gradient copied in once (zeros for a parameter this rank has none for) and
            // the sums copied out once, into the parameter's new gradient buffer
            let parts = reduced[start..<end]
            var bucket = [Float](unsafeUninitializedCapacity: elements) { b, initialized in
                var offset = 0
                for p in parts {
                    if let g = grads[p] {
                        (b.baseAddress! + offset).initialize(from: g.pointer, count: p.count)
                    } else {
                        (b.baseAddress! + offset).initialize(repeating: 0, count: p.count)
                    }
                    offset += p.count
                }
                initialized = elements
            }
            bucket.withUnsafeMutableBufferPointer { b in
                communicator.allReduceSum(b)
                var offset = 0
                for p in parts {
                    let sum = Storage(uninitializedCount: p.count)
                    sum.pointer.initialize(from: b.baseAddress! + offset, count: p.count)
                    grads.set(p, Tensor(shape: p.shape, storage: sum))
                    offset += p.count
                }
            }
            start = end
        }
    }
}

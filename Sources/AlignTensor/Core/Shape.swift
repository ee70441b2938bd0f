/// Shape arithmetic shared by the ops: element counts, strides, axis normalisation and
/// broadcasting. Every failure names the op and the shapes involved.

@inlinable
func shapeCount(_ shape: [Int]) -> Int {
    var n = 1
    for d in shape { n *= d }
    return n
}

/// Row-major strides of a contiguous tensor of `shape`.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = acc
        acc *= shape[i]
    }
    return strides
}

/// Maps a possibly negative axis to `0..<rank`, failing with the op name and shape.
func normalizeAxis(_ axis: Int, rank: Int, op: String, shape: [Int]) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "\(op): axis \(axis) out of range for shape \(shape)")
    return a
}

/// A shape mismatch, with a message naming the op and the shapes.
public struct ShapeError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The numpy/PyTorch broadcast of two shapes, or the error naming both.
public func broadcastResult(_ a: [Int], _ b: [Int], op: String) -> Result<[Int], ShapeError> {
    let rank = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        guard da == db || da == 1 || db == 1 else {
            return .failure(ShapeError(message: "\(op): shapes \(a) and \(b) cannot be broadcast together (dimension \(i): \(da) vs \(db))"))
        }
        out[i] = da == 1 ? db : da
    }
    return .success(out)
}

/// The broadcast of two shapes; a mismatch stops with the message of `broadcastResult`.
func broadcastShapes(_ a: [Int], _ b: [Int], op: String) -> [Int] {
    switch broadcastResult(a, b, op: op) {
    case .success(let s): return s
    case .failure(let e): preconditionFailure(e.message)
    }
}

/// Strides for reading an input of `shape` as if it had been broadcast to `outShape`
/// (stride 0 along broadcast dimensions).
func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let rank = outShape.count
    let offset = rank - shape.count
    let own = contiguousStrides(shape)
    var strides = [Int](repeating: 0, count: rank)
    for i in 0..<shape.count where shape[i] != 1 {
        strides[i + offset] = own[i]
    }
    return strides
}

/// Calls `body(outIndex, inOffsets...)` for every element of `outShape`, with the flat offsets
/// of each input read through its broadcast strides. The general (slow) path of broadcasting.
func forEachBroadcast(_ outShape: [Int], _ strides: [[Int]], _ body: (Int, UnsafeMutablePointer<Int>) -> Void) {
    let total = shapeCount(outShape)
    if total == 0 { return }
    let rank = outShape.count
    let nIn = strides.count
    var index = [Int](repeating: 0, count: rank)
    let offsets = UnsafeMutablePointer<Int>.allocate(capacity: Swift.max(nIn, 1))
    defer { offsets.deallocate() }
    offsets.initialize(repeating: 0, count: Swift.max(nIn, 1))
    for flat in 0..<total {
        body(flat, offsets)
        // advance the multi-index, updating offsets incrementally
        var d = rank - 1
        while d >= 0 {
            index[d] += 1
            for k in 0..<nIn { offsets[k] += strides[k][d] }
            if index[d] < outShape[d] { break }
            for k in 0..<nIn { offsets[k] -= strides[k][d] * outShape[d] }
            index[d] = 0
            d -= 1
        }
    }
}

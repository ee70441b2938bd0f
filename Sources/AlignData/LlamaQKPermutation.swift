/// The row permutation llama.cpp's `convert_hf_to_gguf.py` applies to llama
/// attention Q and K projection weights (and biases), and its exact inverse.
///
/// The converter does, for a `[rows, cols]` weight and `n_head` heads:
/// `w.reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2).reshape(rows, cols)`
/// i.e. within each head it interleaves the two halves of the rotary dimensions.
/// Use `headCount = attention.head_count` for Q and `attention.head_count_kv`
/// for K (the converter passes `n_head_kv` for K when it differs).
public enum LlamaQKPermutation {
    /// HF → GGUF row order (what the converter does). `weights` is row-major `[rows, columns]`.
    public static func permute(_ weights: [Float], rows: Int, columns: Int, headCount: Int) throws -> [Float] {
        try apply(weights, rows: rows, columns: columns, headCount: headCount, inverse: false)
    }

    /// GGUF → HF row order: the exact inverse of `permute`. Use it on Q/K weights
    /// loaded from a llama GGUF file to get Hugging Face's layout back.
    public static func unpermute(_ weights: [Float], rows: Int, columns: Int, headCount: Int) throws -> [Float] {
        try apply(weights, rows: rows, columns: columns, headCount: headCount, inverse: true)
    }

    private static func apply(_ weights: [Float], rows: Int, columns: Int, headCount: Int, inverse: Bool) throws -> [Float] {
        func invalid(_ message: String) -> AlignDataError {
            AlignDataError(.invalidArgument, path: "", "llama Q/K permutation: \(message)")
        }
        guard rows >= 0, columns >= 0, headCount > 0 else {
            throw invalid("rows \(rows), columns \(columns) and head count \(headCount) must be non-negative (head count positive)")
        }
        guard rows % (2 * headCount) == 0 else {
            throw invalid("rows \(rows) is not a multiple of 2 × head count \(headCount)")
        }
        guard let count = Checked.multiply(rows, columns), count == weights.count else {
            throw invalid("\(weights.count) values do not form a \(rows) × \(columns) matrix")
        }
        if count == 0 { return weights }
        let half = rows / headCount / 2
        let headRows = 2 * half
        var out = [Float](repeating: 0, count: count)
        weights.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for h in 0 ..< headCount {
                    for t in 0 ..< 2 {
                        for j in 0 ..< half {
                            let hfRow = h * headRows + t * half + j      // [h, t, j] in HF layout
                            let ggufRow = h * headRows + j * 2 + t       // [h, j, t] after swapaxes
                            let (from, to) = inverse ? (ggufRow, hfRow) : (hfRow, ggufRow)
                            let s = UnsafeBufferPointer(rebasing: src[from * columns ..< (from + 1) * columns])
                            let d = UnsafeMutableBufferPointer(rebasing: dst[to * columns ..< (to + 1) * columns])
                            _ = d.initialize(from: s)
                        }
                    }
                }
            }
        }
        return out
    }
}

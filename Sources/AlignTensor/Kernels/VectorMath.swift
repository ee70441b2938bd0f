/// The vectorised softmax pieces of the kernels, for code outside AlignTensor (the sampler).
public enum VectorMath {
    /// log Σ exp(x[i]) over n values (−inf for an empty or all −inf row).
    public static func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let (mx, logSum) = shiftedLogSumExp(x, n)
        return mx + logSum
    }

    /// y[i] = exp(x[i] − shift) for i in 0..<n; returns the sum. `y` may equal `x`.
    @discardableResult
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        expShifted(x, y, n, shift: shift)
    }
}

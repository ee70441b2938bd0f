import Foundation

/// A seeded, explicitly passed random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same stream on every machine and run. It is a value type: pass it
/// `inout`; its state is `Codable` so checkpoints can store and restore it exactly.
public struct RandomGenerator: Codable, Equatable, Sendable {
    public private(set) var state: [UInt64]

    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [splitmix(), splitmix(), splitmix(), splitmix()]
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Uniform integer in 0..<n (unbiased).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "RandomGenerator.int(below:): bound \(n) must be positive")
        let bound = UInt64(n)
        let threshold = (0 &- bound) % bound
        while true {
            let r = next()
            if r >= threshold { return Int(r % bound) }
        }
    }

    /// A standard normal draw (Box–Muller in Double).
    public mutating func normal() -> Float {
        var u1 = uniformDouble()
        while u1 <= 0 { u1 = uniformDouble() }
        let u2 = uniformDouble()
        return Float((-2 * Foundation.log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, mean: Float = 0, std: Float = 1) {
        var i = 0
        let n = buffer.count
        while i < n {
            var u1 = uniformDouble()
            while u1 <= 0 { u1 = uniformDouble() }
            let u2 = uniformDouble()
            let r = (-2 * Foundation.log(u1)).squareRoot()
            buffer[i] = mean + std * Float(r * cos(2 * Double.pi * u2))
            if i + 1 < n { buffer[i + 1] = mean + std * Float(r * sin(2 * Double.pi * u2)) }
            i += 2
        }
    }

    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, low: Float = 0, high: Float = 1) {
        for i in 0..<buffer.count { buffer[i] = low + (high - low) * uniform() }
    }

    /// An index drawn with probability proportional to `weights` (non-negative, not all zero).
    public mutating func categorical(_ weights: UnsafeBufferPointer<Float>) -> Int {
        var total = 0.0
        for w in weights { total += Double(w) }
        precondition(total > 0 && total.isFinite, "categorical: weights must be non-negative with a positive finite sum")
        let target = uniformDouble() * total
        var acc = 0.0
        var last = 0
        for (i, w) in weights.enumerated() where w > 0 {
            acc += Double(w)
            last = i
            if target < acc { return i }
        }
        return last
    }

    public mutating func categorical(_ weights: [Float]) -> Int {
        weights.withUnsafeBufferPointer { categorical($0) }
    }

    /// A uniformly random permutation of 0..<n (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = int(below: i + 1)
            p.swapAt(i, j)
        }
        return p
    }

    /// An independent generator derived from this one (for splitting streams by purpose).
    public mutating func fork() -> RandomGenerator { RandomGenerator(seed: next()) }
}

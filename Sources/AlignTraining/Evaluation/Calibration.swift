import Foundation

/// Expected calibration error (seed 004: RLHF makes models over-confident): predictions grouped
/// into `bins` equal-width confidence bins over [0, 1]; ECE = Σ_b (n_b / n)·|accuracy_b −
/// mean confidence_b|. A confidence of exactly 1 falls in the last bin.
public enum Calibration {
    public struct Bin: Sendable, Equatable {
        public var count: Int
        public var accuracy: Double
        public var confidence: Double
    }

    public static func bins(confidences: [Double], correct: [Bool], bins: Int = 10) -> [Bin] {
        precondition(confidences.count == correct.count && bins > 0, "Calibration: mismatched inputs")
        var count = [Int](repeating: 0, count: bins), hits = [Int](repeating: 0, count: bins)
        var conf = [Double](repeating: 0, count: bins)
        for (c, ok) in zip(confidences, correct) {
            let b = Swift.min(bins - 1, Swift.max(0, Int(c * Double(bins))))
            count[b] += 1
            conf[b] += c
            if ok { hits[b] += 1 }
        }
        return (0..<bins).map { b in
            Bin(count: count[b], accuracy: count[b] > 0 ? Double(hits[b]) / Double(count[b]) : 0,
                confidence: count[b] > 0 ? conf[b] / Double(count[b]) : 0)
        }
    }

    public static func expectedCalibrationError(confidences: [Double], correct: [Bool], bins: Int = 10) -> Double {
        let n = Double(confidences.count)
        guard n > 0 else { return 0 }
        return Self.bins(confidences: confidences, correct: correct, bins: bins)
            .reduce(0) { $0 + Double($1.count) / n * abs($1.accuracy - $1.confidence) }
    }
}

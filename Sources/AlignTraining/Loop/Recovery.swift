/// Crash recovery (`recovery` in run configs; seed 000): a step whose loss or gradient norm is
/// not finite rolls the run back to its last checkpoint, multiplies the learning rate by
/// `learningRateFactor`, and drops that step's batches when the run reaches it again, at most
/// `maxRecoveries` times; then the run stops as without recovery. The count is reported.
public struct Recovery: Sendable, Equatable {
    public var maxRecoveries: Int
    public var learningRateFactor: Float

    public init(maxRecoveries: Int = 3, learningRateFactor: Float = 0.5) {
        self.maxRecoveries = maxRecoveries
        self.learningRateFactor = learningRateFactor
    }

    /// What survives a checkpoint, so that a resumed run skips the same batches.
    public struct State: Codable, Equatable, Sendable {
        public var count = 0
        public var learningRateScale: Float = 1
        /// Step (1-based) → how many steps' worth of batches to drop before that step.
        public var skips: [Int: Int] = [:]

        enum CodingKeys: String, CodingKey {
            case count
            case learningRateScale = "learning_rate_scale"
            case skips
        }

        public init() {}
    }
}

/// Synthetic preference pairs (seed 000's `SyntheticPreferenceGenerator`, ALGORITHMS.md HPA:
/// `align synth`): a strong and a weak model each answer a prompt several times; every
/// (strong, weak) answer pair whose rewards differ by more than `minMargin` (1.0) in the
/// strong answer's favour becomes a pair, strong chosen.
public enum SyntheticPreferences {
    /// Indices (strong, weak) of the pairs kept, strong-major order.
    public static func pairs(strongRewards: [Double], weakRewards: [Double], minMargin: Double) -> [(strong: Int, weak: Int)] {
        var out: [(Int, Int)] = []
        for (i, s) in strongRewards.enumerated() {
            for (j, w) in weakRewards.enumerated() where s > w + minMargin { out.append((i, j)) }
        }
        return out
    }
}

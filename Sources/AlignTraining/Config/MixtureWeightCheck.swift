import Foundation

/// A config check: a `data.train` mixture whose weights are all 0 at some point of training
/// (nothing to sample) is refused at the line of `data.train`, naming the progress, before the
/// data is read.
enum MixtureWeightCheck {
    static let check: @Sendable (ConfigCheckContext) -> Void = { ctx in
        guard case .list(let items)? = ctx.value("data.train"), !ctx.invalid.contains(where: { $0.hasPrefix("data.train") }) else { return }
        var sources: [DataSource] = []
        for (i, item) in items.enumerated() {
            guard case .section(let members) = item, members["weight"] != nil else { return }
            sources.append(DataSource(ConfigSectionValue(path: "data.train[\(i)]", values: members)))
        }
        guard !sources.isEmpty else { return }
        // the total weight is piecewise linear in the progress: its minimum is at 0, 1 or a point
        var points: Set<Double> = [0, 1]
        for s in sources { for p in s.weightSchedule ?? [] { points.insert(p.progress) } }
        // (and either side of a point, where a schedule may step)
        let probes = points.flatMap { [$0.nextDown, $0, $0.nextUp] }.filter { $0 >= 0 && $0 <= 1 }
        for p in Set(probes).sorted() where sources.map({ $0.weight(atProgress: p) }).reduce(0, +) <= 0 {
            let when = p == 0 ? "at the start of training" : p == 1 ? "at the end of training" : "at progress \(formatNumber((p * 1e6).rounded() / 1e6))"
            ctx.fail("data.train", "the mixture weights are all 0 \(when), so there is nothing to sample; give some dataset a weight > 0 there")
            return
        }
    }
}

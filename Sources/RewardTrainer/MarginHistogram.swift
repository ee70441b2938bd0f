import AlignTraining
import Foundation

/// A histogram of reward margins as a standalone SVG (no dependencies): equal-width bins over
/// [min, max] of the margins (widened to include 0 when that at most doubles the range, so the
/// decision boundary, a dashed line, is shown unless the margins sit far from it), bars coloured
/// by side (red ≤ 0 < green) with their counts, x-axis tick labels at the bin edges, a y axis
/// with count ticks, axis titles, a title and a footer with the accuracy.
public enum MarginHistogram {
    /// Bin edges (bins + 1 values) and counts. A value equal to the upper edge falls in the last
    /// bin. All margins equal: one unit-wide range around them.
    public static func bins(_ margins: [Float], count bins: Int = 20) -> (edges: [Double], counts: [Int]) {
        precondition(bins > 0, "MarginHistogram: bins must be positive")
        let values = margins.map(Double.init).filter(\.isFinite)
        var lo = values.min() ?? -1, hi = values.max() ?? 1
        if lo > 0 && lo <= hi - lo { lo = 0 }
        if hi < 0 && -hi <= hi - lo { hi = 0 }
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let width = (hi - lo) / Double(bins)
        let edges = (0...bins).map { lo + Double($0) * width }
        var counts = [Int](repeating: 0, count: bins)
        for v in values { counts[min(bins - 1, max(0, Int((v - lo) / width)))] += 1 }
        return (edges, counts)
    }

    /// The SVG document.
    public static func svg(margins: [Float], bins binCount: Int = 20, title: String = "Eval margins") -> String {
        let (edges, counts) = bins(margins, count: binCount)
        let W = 720.0, H = 420.0, left = 64.0, right = 24.0, top = 48.0, bottom = 72.0
        let plotW = W - left - right, plotH = H - top - bottom
        let maxCount = max(counts.max() ?? 1, 1)
        let yTop = Double(niceCeiling(maxCount))
        let lo = edges.first!, hi = edges.last!
        func x(_ v: Double) -> Double { left + (v - lo) / (hi - lo) * plotW }
        func y(_ c: Double) -> Double { top + plotH - c / yTop * plotH }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(W))" height="\(Int(H))" viewBox="0 0 \(Int(W)) \(Int(H))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(W / 2))" y="24" text-anchor="middle" font-size="14">\(LineChart.escape(title))</text>

        """
        // bars with their counts
        for (i, c) in counts.enumerated() where c > 0 {
            let x0 = x(edges[i]), x1 = x(edges[i + 1])
            let color = edges[i + 1] <= 0 ? "#d62728" : (edges[i] >= 0 ? "#2ca02c" : "#7f7f7f")
            s += "<rect class=\"bar\" x=\"\(f(x0 + 0.5))\" y=\"\(f(y(Double(c))))\" width=\"\(f(max(x1 - x0 - 1, 0.5)))\" height=\"\(f(y(0) - y(Double(c))))\" fill=\"\(color)\" fill-opacity=\"0.8\"><title>[\(f(edges[i])), \(f(edges[i + 1]))): \(c)</title></rect>\n"
            s += "<text class=\"count\" x=\"\(f((x0 + x1) / 2))\" y=\"\(f(y(Double(c)) - 3))\" text-anchor=\"middle\" font-size=\"9\">\(c)</text>\n"
        }
        // axes
        s += "<line x1=\"\(f(left))\" y1=\"\(f(y(0)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(0)))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(y(0)))\" stroke=\"black\"/>\n"
        // x ticks: every bin edge, labelled every other edge when crowded
        let labelEvery = edges.count > 12 ? 2 : 1
        let digits = max(0, min(6, 1 - Int(Foundation.floor(Foundation.log10(Double(labelEvery) * (hi - lo) / Double(binCount))))))
        for (i, e) in edges.enumerated() {
            s += "<line x1=\"\(f(x(e)))\" y1=\"\(f(y(0)))\" x2=\"\(f(x(e)))\" y2=\"\(f(y(0) + 4))\" stroke=\"black\"/>\n"
            if i % labelEvery == 0 {
                s += "<text class=\"xtick\" x=\"\(f(x(e)))\" y=\"\(f(y(0) + 16))\" text-anchor=\"middle\">\(String(format: "%.\(digits)f", e))</text>\n"
            }
        }
        // y ticks: 0 … yTop in 5 steps (integers)
        let step = max(1, Int(yTop) / 5)
        var t = 0
        while t <= Int(yTop) {
            s += "<line x1=\"\(f(left - 4))\" y1=\"\(f(y(Double(t))))\" x2=\"\(f(left))\" y2=\"\(f(y(Double(t))))\" stroke=\"black\"/>\n"
            s += "<text class=\"ytick\" x=\"\(f(left - 7))\" y=\"\(f(y(Double(t)) + 4))\" text-anchor=\"end\">\(t)</text>\n"
            t += step
        }
        // the decision boundary
        if lo < 0 && hi > 0 {
            s += "<line x1=\"\(f(x(0)))\" y1=\"\(f(top))\" x2=\"\(f(x(0)))\" y2=\"\(f(y(0)))\" stroke=\"black\" stroke-dasharray=\"4 3\"/>\n"
        }
        let n = margins.count, wins = margins.filter { $0 > 0 }.count
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(H - 30))\" text-anchor=\"middle\" font-size=\"12\">margin r(chosen) − r(rejected)</text>\n"
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(H - 12))\" text-anchor=\"middle\" font-size=\"10\">\(n) pairs, \(wins) with margin &gt; 0 (accuracy \(String(format: "%.3f", n > 0 ? Double(wins) / Double(n) : 0)))</text>\n"
        s += "<text x=\"16\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(f(top + plotH / 2)))\">pairs</text>\n"
        s += "</svg>\n"
        return s
    }

    /// The smallest of 1, 2, 5 × 10ⁿ at least `n` (a round top for the count axis).
    static func niceCeiling(_ n: Int) -> Int {
        var scale = 1
        while true {
            for m in [1, 2, 5] where m * scale >= n { return m * scale }
            scale *= 10
        }
    }
}

import Foundation

/// Line charts of training curves as one standalone SVG (no dependencies): one panel per metric,
/// stacked, each with its own y axis; one coloured line per run, the same colour in every panel,
/// named in a legend under the title. Round tick values (1, 2, 5 × 10ⁿ), a dashed line at y = 0
/// whenever the range crosses it, and a tooltip with the step and value on every point.
public enum LineChart {
    public struct Series {
        public var label: String
        public var points: [(x: Double, y: Double)]
        public init(label: String, points: [(x: Double, y: Double)]) {
            self.label = label
            self.points = points.filter { $0.x.isFinite && $0.y.isFinite }
        }
    }

    public struct Panel {
        public var title: String
        public var series: [Series]
        public init(title: String, series: [Series]) { self.title = title; self.series = series }
    }

    /// Colours of the runs, in order (Tableau 10), reused cyclically.
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// Values are clipped to ±`limit` before ticks and positions are computed, so spans, steps
    /// and the ticks around them stay finite (a metric at ±1e308 draws at the edge of its panel).
    static let limit = Double.greatestFiniteMagnitude / 64

    /// Round tick positions covering [lo, hi] (clipped to ±`limit`) with about `target`
    /// intervals; the first tick is ≤ lo and the last ≥ hi. A degenerate range is widened around
    /// its value (by one unit, or 10% of a large value); non-finite bounds count as 0 and 1.
    public static func ticks(lo: Double, hi: Double, target: Int = 5) -> [Double] {
        var lo = lo.isFinite ? Swift.min(Swift.max(lo, -limit), limit) : 0
        var hi = hi.isFinite ? Swift.min(Swift.max(hi, -limit), limit) : 1
        if lo > hi { swap(&lo, &hi) }
        if !(hi - lo > 1e-12 * max(abs(lo), abs(hi), 1)) {
            let pad = max(0.5, abs(lo) * 0.1)
            lo -= pad
            hi += pad
        }
        let target = max(target, 1)
        let raw = (hi - lo) / Double(target)
        let scale = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let step = [1.0, 2.0, 2.5, 5.0, 10.0].map { $0 * scale }.first { $0 >= raw * (1 - 1e-9) } ?? 10 * scale
        let first = Foundation.floor(lo / step + 1e-9) * step
        var values: [Double] = []
        var v = first
        // at most target + 2 ticks cover the range; the bound guarantees the loop ends
        while values.count <= target + 3 {
            values.append(abs(v) < step * 1e-9 ? 0 : v)
            if !(v < hi - step * 1e-9) { break }
            v = first + Double(values.count) * step
        }
        return values
    }

    /// Decimal places that print every tick of `ticks` distinctly.
    static func decimals(_ ticks: [Double]) -> Int {
        guard ticks.count > 1 else { return 0 }
        let step = ticks[1] - ticks[0]
        for d in 0...6 {
            let scale = Foundation.pow(10, Double(d))
            if ticks.allSatisfy({ abs(($0 * scale).rounded() / scale - $0) < step * 1e-6 }) { return d }
        }
        return 6
    }

    /// The SVG document. Panels without any point say so instead of drawing axes.
    public static func svg(panels: [Panel], title: String, xLabel: String = "step") -> String {
        let labels = orderedLabels(panels)
        let W = 760.0, left = 72.0, right = 24.0, panelH = 240.0, gap = 56.0
        let legendRows = (labels.count + 3) / 4
        let top = 40.0 + Double(legendRows) * 18 + 16
        let plotW = W - left - right, plotH = panelH - 30
        let H = top + Double(panels.count) * (panelH + gap)
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(W))" height="\(Int(H))" viewBox="0 0 \(Int(W)) \(Int(H))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(W / 2))" y="24" text-anchor="middle" font-size="14">\(escape(title))</text>

        """
        for (i, label) in labels.enumerated() {
            let x = left + Double(i % 4) * (plotW / 4), y = 44.0 + Double(i / 4) * 18
            let color = palette[i % palette.count]
            s += "<line class=\"legend\" x1=\"\(f(x))\" y1=\"\(f(y - 4))\" x2=\"\(f(x + 22))\" y2=\"\(f(y - 4))\" stroke=\"\(color)\" stroke-width=\"2.5\"/>"
            s += "<text x=\"\(f(x + 28))\" y=\"\(f(y))\">\(escape(label))</text>\n"
        }
        let allX = panels.flatMap { $0.series.flatMap { $0.points.map(\.x) } }
        let xTicks = ticks(lo: allX.min() ?? 0, hi: allX.max() ?? 1, target: 8)
        let x0 = xTicks.first!, x1 = xTicks.last!
        func x(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * plotW }
        for (p, panel) in panels.enumerated() {
            let pTop = top + Double(p) * (panelH + gap)
            s += "<text class=\"panel-title\" x=\"\(f(left))\" y=\"\(f(pTop - 8))\" font-size=\"12\" font-weight=\"bold\">\(escape(panel.title))</text>\n"
            let ys = panel.series.flatMap { $0.points.map(\.y) }
            guard let yMin = ys.min(), let yMax = ys.max() else {
                s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(pTop + plotH / 2))\" text-anchor=\"middle\">no values</text>\n"
                continue
            }
            let yTicks = ticks(lo: yMin, hi: yMax, target: 5)
            let y0 = yTicks.first!, y1 = yTicks.last!
            // values beyond ±limit (clipped in the ticks) draw at the panel's edge
            func y(_ v: Double) -> Double { pTop + plotH - (Swift.min(Swift.max(v, y0), y1) - y0) / (y1 - y0) * plotH }
            let digits = decimals(yTicks)
            let huge = yTicks.contains { abs($0) >= 1e9 }
            if yMin < -limit || yMax > limit {
                s += "<text class=\"clipped\" x=\"\(f(left + plotW))\" y=\"\(f(pTop - 8))\" text-anchor=\"end\">values beyond ±\(String(format: "%.3g", limit)) drawn at the edge</text>\n"
            }
            for t in yTicks {
                s += "<line x1=\"\(f(left))\" y1=\"\(f(y(t)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(t)))\" stroke=\"#e6e6e6\"/>"
                s += "<text class=\"ytick\" x=\"\(f(left - 6))\" y=\"\(f(y(t) + 4))\" text-anchor=\"end\">\(huge ? String(format: "%.3g", t) : String(format: "%.\(digits)f", t))</text>\n"
            }
            if y0 < 0 && y1 > 0 {
                s += "<line class=\"zero\" x1=\"\(f(left))\" y1=\"\(f(y(0)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(0)))\" stroke=\"black\" stroke-dasharray=\"4 3\"/>\n"
            }
            s += "<line x1=\"\(f(left))\" y1=\"\(f(pTop + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(pTop + plotH))\" stroke=\"black\"/>\n"
            s += "<line x1=\"\(f(left))\" y1=\"\(f(pTop))\" x2=\"\(f(left))\" y2=\"\(f(pTop + plotH))\" stroke=\"black\"/>\n"
            let xDigits = decimals(xTicks)
            for t in xTicks {
                s += "<line x1=\"\(f(x(t)))\" y1=\"\(f(pTop + plotH))\" x2=\"\(f(x(t)))\" y2=\"\(f(pTop + plotH + 4))\" stroke=\"black\"/>"
                s += "<text class=\"xtick\" x=\"\(f(x(t)))\" y=\"\(f(pTop + plotH + 16))\" text-anchor=\"middle\">\(String(format: "%.\(xDigits)f", t))</text>\n"
            }
            s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(pTop + plotH + 30))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
            for series in panel.series where !series.points.isEmpty {
                let color = palette[(labels.firstIndex(of: series.label) ?? 0) % palette.count]
                let points = series.points.map { "\(f(x($0.x))),\(f(y($0.y)))" }.joined(separator: " ")
                s += "<polyline class=\"series\" data-label=\"\(escape(series.label))\" points=\"\(points)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"/>\n"
                for point in series.points {
                    s += "<circle cx=\"\(f(x(point.x)))\" cy=\"\(f(y(point.y)))\" r=\"2\" fill=\"\(color)\"><title>\(escape(series.label)) \(xLabel) \(fmt(point.x)): \(fmt(point.y))</title></circle>"
                }
                s += "\n"
            }
        }
        s += "</svg>\n"
        return s
    }

    /// The series labels in first-seen order across panels.
    static func orderedLabels(_ panels: [Panel]) -> [String] {
        var seen: [String] = []
        for panel in panels { for series in panel.series where !seen.contains(series.label) { seen.append(series.label) } }
        return seen
    }

    static func fmt(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.4g", v)
    }

    /// Text safe inside SVG elements and attributes.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

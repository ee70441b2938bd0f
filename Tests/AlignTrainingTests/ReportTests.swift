import AlignTraining
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

final class ReportTests: XCTestCase {
    func testMetricsFileReadsSeriesAndSkipsNullsAndNonNumbers() throws {
        let text = """
        {"step":1,"loss":0.7,"rewards/chosen":0.0,"note":"x"}
        {"step":2,"loss":null,"rewards/chosen":-0.5}

        {"step":3,"loss":0.5,"flag":true}
        """
        let file = try MetricsFile(path: "m.jsonl", text: text)
        XCTAssertEqual(file.rows.count, 3)
        XCTAssertEqual(file.series("loss").map(\.step), [1, 3])
        XCTAssertEqual(file.series("loss").map(\.value), [0.7, 0.5])
        XCTAssertEqual(file.series("rewards/chosen").map(\.value), [0.0, -0.5])
        XCTAssertEqual(file.keys, ["loss", "rewards/chosen"])
    }

    func testMetricsFileErrorsNameFileAndLine() {
        XCTAssertThrowsError(try MetricsFile(path: "run/metrics.jsonl", text: "{\"step\":1}\n{\"step\":2,\n")) { error in
            XCTAssertEqual("\(error)", "run/metrics.jsonl:2: not a JSON object")
        }
        XCTAssertThrowsError(try MetricsFile(path: "m.jsonl", text: "{\"loss\":1}")) { error in
            XCTAssertEqual("\(error)", "m.jsonl:1: no integer \"step\"")
        }
    }

    func testTicksAreRoundAndCoverTheRange() {
        let unit = LineChart.ticks(lo: 0, hi: 1, target: 5)
        XCTAssertEqual(unit.count, 6)
        for (a, b) in zip(unit, [0, 0.2, 0.4, 0.6, 0.8, 1.0]) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        let t = LineChart.ticks(lo: -2.857, hi: 12.03, target: 5)
        XCTAssertEqual(t.first, -5)
        XCTAssertEqual(t.last, 15)
        XCTAssertTrue(t.contains(0))
        let flat = LineChart.ticks(lo: 3, hi: 3)   // degenerate range widened around the value
        XCTAssertLessThan(flat.first!, 3)
        XCTAssertGreaterThan(flat.last!, 3)
        for (lo, hi) in [(0.013, 0.0171), (-1e-4, 3e-4), (1, 1000), (-7.5, -7.1)] {
            let t = LineChart.ticks(lo: lo, hi: hi)
            let step = t[1] - t[0]
            XCTAssertLessThanOrEqual(t.first!, lo + step * 1e-9)
            XCTAssertGreaterThanOrEqual(t.last!, hi - step * 1e-9)
            XCTAssertTrue((3...12).contains(t.count), "\(lo)…\(hi): \(t)")
        }
    }

    /// Extreme and degenerate ranges (±1e308, a constant 1e300, reversed or non-finite bounds)
    /// give a handful of finite ticks at once; the chart says which values it clipped.
    func testExtremeRangesGiveFewFiniteTicksAndAreClipped() {
        for (lo, hi) in [(-1e308, 1e308), (-Double.greatestFiniteMagnitude, Double.greatestFiniteMagnitude), (1e300, 1e300),
                         (-1e308, -1e308), (5, -5), (-.infinity, .infinity), (.nan, 1), (0, 1e-300)] {
            let t = LineChart.ticks(lo: lo, hi: hi)
            XCTAssertTrue((2...9).contains(t.count), "\(lo)…\(hi): \(t)")
            XCTAssertTrue(t.allSatisfy(\.isFinite), "\(lo)…\(hi): \(t)")
            XCTAssertEqual(t, t.sorted(), "\(lo)…\(hi)")
        }
        let svg = LineChart.svg(panels: [LineChart.Panel(title: "loss", series: [
            .init(label: "run", points: [(1, 1), (2, 1e308), (3, -1e308), (4, 2)]),
        ])], title: "t")
        XCTAssertTrue(svg.contains("drawn at the edge"))
        XCTAssertFalse(svg.contains("nan") || svg.contains("inf"), svg)
        XCTAssertLessThan(svg.utf8.count, 20_000)
    }

    func testSVGHasALinePerRunAndPanelAndAZeroLineWhenTheRangeCrossesZero() throws {
        let panels = [
            LineChart.Panel(title: "rewards/chosen", series: [
                .init(label: "sigmoid", points: [(10, 0.5), (20, -1.0), (30, -2.5)]),
                .init(label: "dpop", points: [(10, 0.5), (20, 1.0), (30, 1.2)]),
            ]),
            LineChart.Panel(title: "rewards/margins", series: [
                .init(label: "sigmoid", points: [(10, 1), (20, 5), (30, .nan)]),
                .init(label: "dpop", points: [(10, 1), (20, 2), (30, 3)]),
            ]),
        ]
        let svg = LineChart.svg(panels: panels, title: "seed 002 <DPO & DPOP>")
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 4)
        XCTAssertEqual(svg.components(separatedBy: "class=\"zero\"").count - 1, 1)   // only the first panel crosses 0
        XCTAssertTrue(svg.contains("seed 002 &lt;DPO &amp; DPOP&gt;"))
        // the NaN point is dropped: the sigmoid margin line has two points
        let polylines = svg.components(separatedBy: "<polyline").dropFirst().map { $0.components(separatedBy: "points=\"")[1].components(separatedBy: "\"")[0] }
        XCTAssertEqual(polylines.map { $0.split(separator: " ").count }, [3, 3, 2, 3])
        // a run keeps its colour in every panel
        let strokes = svg.components(separatedBy: "<polyline").dropFirst().map { $0.components(separatedBy: "stroke=\"")[1].prefix(7) }
        XCTAssertEqual(strokes[0], strokes[2])
        XCTAssertEqual(strokes[1], strokes[3])
        XCTAssertNotEqual(strokes[0], strokes[1])
        // the document parses as XML
        XCTAssertNoThrow(try XMLDocument(data: Data(svg.utf8)))
    }

    func testLowerValuesAreDrawnLower() {
        let svg = LineChart.svg(panels: [.init(title: "loss", series: [.init(label: "a", points: [(0, 2), (1, 1)])])], title: "t")
        let points = svg.components(separatedBy: "points=\"")[1].components(separatedBy: "\"")[0].split(separator: " ")
        let ys = points.map { Double($0.split(separator: ",")[1])! }
        XCTAssertLessThan(ys[0], ys[1])   // SVG y grows downward: 2 is above 1
    }

    func testTrainingCurvesPairTrainAndEvalAndSkipAbsentKeys() throws {
        let file = try MetricsFile(path: "m.jsonl", text: """
        {"step":0,"eval/loss":0.9}
        {"step":1,"loss":0.8,"learning_rate":0.1}
        {"step":2,"loss":0.6,"learning_rate":0.05,"eval/loss":0.7}
        """)
        let panels = TrainingCurves.panels(file, keys: ["loss", "rewards/margins", "learning_rate"])
        XCTAssertEqual(panels.map(\.title), ["loss", "learning_rate"])
        XCTAssertEqual(panels[0].series.map(\.label), ["train", "eval"])
        XCTAssertEqual(panels[0].series[1].points.map(\.x), [0, 2])
        XCTAssertEqual(panels[1].series.map(\.label), ["train"])
    }
}

import AlignData
import Foundation
import XCTest

/// The 5-bit legacy and k-quant dequantisers against gguf-py's reference `dequantize`
/// (kquants.gguf from scripts/gen_kquant_fixture.py holds each quantised tensor next to the F32
/// values gguf-py computes for it).
final class GGUFKQuantTests: XCTestCase {
    func testDequantisationEqualsGGUFPy() throws {
        let file = try GGUFFile(url: Fixtures.url("kquants.gguf"))
        var compared: [String] = []
        for info in file.tensors where info.name.hasSuffix(".weight") && info.type != GGMLType(rawValue: 20) {
            let name = String(info.name.dropLast(".weight".count))
            let got = try file.floats(info.name), want = try file.floats("expected.\(name)")
            XCTAssertEqual(got.count, want.count, name)
            var worst: Float = 0
            for (g, w) in zip(got, want) { worst = max(worst, abs(g - w) / max(abs(w), 1e-3)) }
            XCTAssertLessThanOrEqual(worst, 1e-6, "\(name): worst relative difference \(worst)")
            XCTAssertGreaterThan(Set(got).count, 8, "\(name): values vary")
            compared.append(info.type.name ?? "?")
        }
        XCTAssertEqual(compared, ["Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"])
    }

    func testAnUnsupportedTypeNamesTensorAndType() throws {
        let file = try GGUFFile(url: Fixtures.url("kquants.gguf"))
        XCTAssertThrowsError(try file.floats("iq4_nl.weight")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("kquants.gguf") && message.contains("tensor 'iq4_nl.weight'") && message.contains("IQ4_NL (20)"), message)
            XCTAssertTrue(message.contains("Q4_K"), "the message lists what is supported: \(message)")
        }
    }
}

@testable import AlignData
import Foundation
import XCTest

/// binary16 / bfloat16 → Float conversion.
final class HalfPrecisionTests: XCTestCase {
    func testKnownBitPatterns() {
        let cases: [(UInt16, Float)] = [
            (0x0000, 0), (0x3C00, 1), (0xC000, -2), (0x3555, 0.333251953125), (0x7BFF, 65504),
            (0x0400, 6.103515625e-05), (0x0001, 5.960464477539063e-08), (0x03FF, 6.097555160522461e-05),
            (0x7C00, .infinity), (0xFC00, -.infinity),
        ]
        for (bits, value) in cases {
            XCTAssertEqual(floatFromHalfBits(bits), value, String(bits, radix: 16))
            XCTAssertEqual(halfToFloatTable[Int(bits)], value)
        }
        XCTAssertEqual(floatFromHalfBits(0x8000).bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertTrue(floatFromHalfBits(0x7E00).isNaN)
        XCTAssertTrue(floatFromHalfBits(0xFD01).isNaN)
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    func testAllHalfValuesMatchFloat16() {
        for bits in 0 ... UInt16.max {
            let want = Float(Float16(bitPattern: bits))
            let got = floatFromHalfBits(bits)
            if want.isNaN {
                XCTAssertTrue(got.isNaN, String(bits, radix: 16))
            } else if got.bitPattern != want.bitPattern {
                XCTFail("0x\(String(bits, radix: 16)): \(got) != \(want)")
                return
            }
        }
    }
    #endif

    func testBFloat16() {
        XCTAssertEqual(floatFromBFloat16Bits(0x3F80), 1)
        XCTAssertEqual(floatFromBFloat16Bits(0xC040), -3)
        XCTAssertEqual(floatFromBFloat16Bits(0x7F80), .infinity)
        XCTAssertEqual(floatFromBFloat16Bits(0x3EAB), 0.333984375)
    }
}

import AlignData
import Foundation
import XCTest

/// The Jinja engine on small templates against jinja2 as transformers configures it
/// (chat_templates.json "engine"), and the constructs it refuses.
final class JinjaEngineTests: XCTestCase {
    private func context(_ json: String) throws -> [String: JinjaValue] {
        guard case .dict(let d) = try JinjaValue(parsingJSON: json) else { return [:] }
        var out: [String: JinjaValue] = [:]
        for (k, v) in d { out[k.stringValue!] = v }
        return out
    }

    func testOutputsMatchJinja2() throws {
        var checked = 0
        for e in ChatTemplateFixtures.engine {
            let name = e["name"].string
            guard case .string(let expected)? = e.object["output"] else { continue }
            do {
                let out = try JinjaTemplate(e["template"].string).render(context(e["context"].string)).text
                XCTAssertEqual(out, expected, name)
            } catch {
                XCTFail("\(name): \(error)")
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 40)
    }

    /// Where jinja2 fails, the engine fails with jinja2's message (after its
    /// exception's type name) in one line naming the place.
    func testErrorsMatchJinja2() throws {
        var checked = 0
        for e in ChatTemplateFixtures.engine {
            let name = e["name"].string
            guard case .string(let expected)? = e.object["error"] else { continue }
            let colon = try XCTUnwrap(expected.range(of: ": "))
            let type = String(expected[..<colon.lowerBound]), message = String(expected[colon.upperBound...])
            do {
                let out = try JinjaTemplate(e["template"].string).render(context(e["context"].string)).text
                XCTFail("\(name): rendered \(out.debugDescription), expected \(expected)")
            } catch let err as AlignDataError {
                XCTAssertEqual(err.kind, .invalidArgument, name)
                XCTAssertTrue(err.message.hasPrefix("chat template line "), "\(name): \(err.message)")
                XCTAssertFalse(err.message.contains("\n"), name)
                if type == "TemplateError" {
                    XCTAssertTrue(err.message.hasSuffix("raise_exception: " + message), "\(name): \(err.message)")
                } else {
                    XCTAssertTrue(err.message.contains(message), "\(name): \(err.message) does not contain \(message)")
                }
            }
            checked += 1
        }
        XCTAssertEqual(checked, 5)
    }

    /// Constructs jinja2 has and this engine does not: one-line `.unsupported` errors
    /// naming the construct and its line.
    func testUnsupportedConstructsAreNamed() {
        let cases: [(String, String)] = [
            ("{% include 'header.jinja' %}", "include"),
            ("{% import 'macros.jinja' as m %}", "import"),
            ("{% from 'macros.jinja' import m %}", "from"),
            ("{% extends 'base.jinja' %}", "extends"),
            ("x\n{% block body %}b{% endblock %}", "block"),
            ("{% for m in messages recursive %}{{ loop(m.children) }}{% endfor %}", "recursive"),
            ("{{ messages | frobnicate }}", "frobnicate"),
            ("{% if x is frobnicated %}{% endif %}", "frobnicated"),
            ("{{ '%s items' % 3 }}", "%"),
            ("{% autoescape true %}x{% endautoescape %}", "autoescape"),
        ]
        for (source, construct) in cases {
            do {
                let t = try JinjaTemplate(source)
                _ = try t.render(["messages": .list([]), "x": .int(1)])
                XCTFail("\(source): rendered")
            } catch let e as AlignDataError {
                XCTAssertTrue(e.kind == .unsupported || e.kind == .malformed, "\(source): \(e.kind) \(e.message)")
                XCTAssertTrue(e.message.contains(construct), "\(source): \(e.message)")
                XCTAssertTrue(e.message.hasPrefix("chat template line "), "\(source): \(e.message)")
                XCTAssertFalse(e.description.contains("\n"), source)
            } catch {
                XCTFail("\(source): \(error)")
            }
        }
    }

    func testSyntaxErrorsNameTheLine() {
        for (source, line) in [("{% if x %}never closed", 1), ("a\nb\n{{ 1 + }}", 3), ("{% for %}{% endfor %}", 1), ("{% endif %}", 1)] {
            do {
                _ = try JinjaTemplate(source)
                XCTFail("\(source.debugDescription): parsed")
            } catch let e as AlignDataError {
                XCTAssertEqual(e.kind, .malformed, source)
                XCTAssertTrue(e.message.hasPrefix("chat template line \(line),"), "\(source.debugDescription): \(e.message)")
            } catch {
                XCTFail("\(source): \(error)")
            }
        }
    }

    func testLimitsStopRunawayTemplates() {
        do {
            _ = try JinjaTemplate("{% for i in range(100000000) %}x{% endfor %}").render([:])
            XCTFail("rendered")
        } catch let e as AlignDataError {
            XCTAssertEqual(e.kind, .unsupported)
        } catch {
            XCTFail("\(error)")
        }
    }

    /// Deeply nested blocks (a hostile template of 20,000 `if`s) end in one error naming the
    /// limit, not a stack overflow; nesting a real template uses stays fine.
    func testDeeplyNestedBlocksAreRefusedNamingTheLimit() throws {
        for (open, close) in [("{% if true %}", "{% endif %}"), ("{% for x in [1] %}", "{% endfor %}")] {
            let hostile = String(repeating: open, count: 20_000) + "x" + String(repeating: close, count: 20_000)
            XCTAssertThrowsError(try JinjaTemplate(hostile)) { error in
                XCTAssertTrue("\(error)".contains("statements nested deeper than 200"), "\(error)")
            }
        }
        let fine = String(repeating: "{% if true %}", count: 50) + "x" + String(repeating: "{% endif %}", count: 50)
        XCTAssertEqual(try JinjaTemplate(fine).render([:]).text, "x")
    }
}

import AlignData
import AlignTraining
import Foundation
import XCTest

/// `reward.program` held to its protocol, one line per sample, whatever the program does: more
/// lines than samples, a flood on stderr, an output closed while it keeps running, SIGTERM
/// ignored; and its command checked with the config, before a run writes anything.
final class RewardProgramTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("align-judge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func script(_ name: String, _ body: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try ("#!/bin/sh\n" + body).write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url.path
    }

    func samples(_ n: Int) -> [RewardSample] {
        (0..<n).map { i in
            RewardSample(record: PromptRecord(prompt: .text("p\(i)"), json: #"{"prompt": "p\#(i)"}"#, line: i + 1), promptIDs: [1], responseIDs: [2],
                         response: "r\(i)", endedWithEOS: true)
        }
    }

    func score(_ program: String, _ n: Int, timeout: Double = 5) throws -> [Double] {
        let p = ProgramReward(command: [program], timeout: timeout)
        defer { p.close() }
        return try p.score(samples(n)) { "sample \($0)" }
    }

    func testOneLinePerSampleIsScoredInOrder() throws {
        let judge = try script("count.sh", "i=0\nwhile read line; do i=$((i+1)); echo $i; done\n")
        XCTAssertEqual(try score(judge, 4), [1, 2, 3, 4])
    }

    func testMoreLinesThanSamplesIsAnErrorNamingTheSample() throws {
        // two lines per sample: the second answer would otherwise land on the next sample
        let twice = try script("twice.sh", "while read line; do echo 2; echo 3; done\n")
        XCTAssertThrowsError(try score(twice, 3)) { error in
            XCTAssertTrue("\(error)".contains("wrote more lines than the 3 samples it was given: more after its answer for sample 0"), "\(error)")
        }
        // one sample, two lines: caught at the end of the batch
        XCTAssertThrowsError(try score(twice, 1)) { error in
            XCTAssertTrue("\(error)".contains("wrote more lines than the 1 samples it was given: more after its answer for sample 0"), "\(error)")
        }
        // a flood of lines
        let flood = try script("flood.sh", "read line\nyes 1\n")
        XCTAssertThrowsError(try score(flood, 2)) { error in
            XCTAssertTrue("\(error)".contains("more after its answer for sample 0"), "\(error)")
        }
    }

    func testAChattyStderrNeverBlocksTheProgram() throws {
        // ~30 KB of log per sample: 600 KB in all, far beyond a pipe's 64 KiB, within the timeout
        let chatty = try script("chatty.sh", "while read line; do head -c 30000 /dev/zero | tr '\\\\0' x >&2; echo >&2; echo 0.5; done\n")
        let t0 = Date()
        XCTAssertEqual(try score(chatty, 20, timeout: 5), Array(repeating: 0.5, count: 20))
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5)
        // and its last stderr line reaches the error message when it fails
        let failing = try script("failing.sh", "read line\necho 'judge: cannot open the rubric' >&2\nexit 4\n")
        XCTAssertThrowsError(try score(failing, 1)) { error in
            XCTAssertTrue("\(error)".contains("exit status 4"), "\(error)")
            XCTAssertTrue("\(error)".contains("judge: cannot open the rubric"), "\(error)")
        }
    }

    func testTheTimeoutHoldsAfterTheProgramClosesItsOutputAndSIGKILLFollowsAnIgnoredSIGTERM() throws {
        // closes stdout, then keeps running: the error comes after program_timeout, not when it exits
        let closer = try script("closer.sh", "exec 1>&-\nsleep 30\n")
        var t0 = Date()
        XCTAssertThrowsError(try score(closer, 1, timeout: 1)) { error in
            XCTAssertTrue("\(error)".contains("exited without answering sample 0"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5)
        // never answers and ignores SIGTERM: stopped with SIGKILL after the timeout
        let pidFile = dir.appendingPathComponent("pid").path
        let stubborn = try script("stubborn.sh", "trap '' TERM\necho $$ > \(pidFile)\nwhile true; do sleep 1; done\n")
        t0 = Date()
        XCTAssertThrowsError(try score(stubborn, 1, timeout: 1)) { error in
            XCTAssertTrue("\(error)".contains("gave no answer for sample 0 within 1.0 s"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 6)
        let pid = try XCTUnwrap(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
        XCTAssertTrue(state == nil || state == "Z", "the program is still running (state \(state ?? "?"))")
    }

    func testTheCommandIsCheckedWithTheConfig() throws {
        XCTAssertNil(ProgramReward.executableProblem("sh"))
        XCTAssertNil(ProgramReward.executableProblem(try script("ok.sh", "echo 1\n")))
        XCTAssertEqual(ProgramReward.executableProblem(dir.path), "\(dir.path) is a directory, not a program")
        XCTAssertEqual(ProgramReward.executableProblem(dir.path + "/missing.py"), "\(dir.path)/missing.py does not exist")
        let plain = dir.appendingPathComponent("plain.py")
        try "print(1)\n".write(to: plain, atomically: true, encoding: .utf8)
        XCTAssertTrue(ProgramReward.executableProblem(plain.path)?.contains("is not executable") == true)
        XCTAssertEqual(ProgramReward.executableProblem("no-such-judge-xyz"), "no-such-judge-xyz is not a program on PATH")
    }
}

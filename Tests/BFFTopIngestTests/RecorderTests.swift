import BFFTopEngine
import BFFTopIngest
import BFFTopWire
import Foundation
import Testing

@Suite struct RecorderTests {
    func events(_ n: Int, from i0: Int = 0) -> [WireEvent] {
        (i0..<(i0 + n)).map { (i: Int) -> WireEvent in
            let ts: Double = 1_732_460_000 + Double(i) / 1000
            let ms: Double = Double(i % 97) + 0.25
            let outcome: Outcome = i % 10 == 0 ? .error : .ok
            return .invocation(Invocation(ts: ts, service: "svc", endpoint: "GET /r/\(i % 5)", durationMs: ms, outcome: outcome, status: 200))
        }
    }

    func lines(_ path: String) -> [String] {
        (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
    }

    /// A `cat` or `tail -f` of a recording must not carry a name's escapes to the terminal, and a
    /// link planted at the path is never written through.
    @Test func recordingsAreInertAndNeverWrittenThroughALink() throws {
        let path = NSTemporaryDirectory() + "bfftop-rec-\(UUID().uuidString).ndjson"
        defer { unlink(path) }
        let rec = Recorder(path: path, source: "live /tmp/\u{1B}]0;pwned\u{07}.sock")
        rec.start()
        let hostile = WireEvent.invocation(Invocation(ts: 1_732_460_000, endpoint: "\u{1B}[2JGET /\u{202E}x\u{9B}1m", durationMs: 5))
        rec.record(WireEventBatch(receivedAt: 1_732_460_000, events: [hostile]))
        rec.stop()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("GET /") && text.contains("pwned"))
        #expect(TerminalSafe.isClean(text.replacingOccurrences(of: "\n", with: "")), "\(text.debugDescription)")
        #expect(try NativeDecoder().decode(String(text.split(separator: "\n")[1])).get() == hostile, "escaped, not lost")

        let victim = NSTemporaryDirectory() + "bfftop-victim-\(UUID().uuidString)"
        let planted = NSTemporaryDirectory() + "bfftop-planted-\(UUID().uuidString).ndjson"
        try "keep me".write(toFile: victim, atomically: true, encoding: .utf8)
        symlink(victim, planted)
        defer { unlink(victim); unlink(planted) }
        let trap = Recorder(path: planted, source: "test")
        trap.start()
        trap.record(WireEventBatch(receivedAt: 1_732_460_000, events: [hostile]))
        trap.stop()
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me")
        #expect(trap.currentStatus.error?.contains("symbolic link") == true, "\(String(describing: trap.currentStatus.error))")
    }

    @Test func writesAHeaderThenEveryEventWithItsReceiveTime() async throws {
        let path = NSTemporaryDirectory() + "bfftop-rec-\(UUID().uuidString).ndjson"
        defer { unlink(path) }
        let rec = Recorder(path: path, source: "test")
        rec.start()
        let sent = events(1000)
        for chunk in stride(from: 0, to: 1000, by: 100) {
            rec.record(WireEventBatch(receivedAt: 1_732_460_100.5 + Double(chunk), events: Array(sent[chunk..<(chunk + 100)])))
        }
        rec.stop()
        let all = lines(path)
        #expect(all.count == 1001)
        #expect(all.first?.hasPrefix(#"{"bfftop_recording":1,"started":"#) == true)
        #expect(all.first?.contains(#""source":"test""#) == true)
        let decoder = NativeDecoder()
        let back = all.dropFirst().compactMap { try? decoder.decode($0).get() }
        #expect(back == sent, "every event replays exactly")
        #expect(all[1].hasPrefix(#"{"rt":1732460100.5,"v":1,"#))
        let st = rec.currentStatus
        #expect(st.events == 1000)
        #expect(st.error == nil)
        #expect(st.bytesWritten == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int))
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    @Test func rotatesAtTheSizeLimitKeepingAHeaderInEachFile() async throws {
        let path = NSTemporaryDirectory() + "bfftop-rot-\(UUID().uuidString).ndjson"
        defer { for s in ["", ".1", ".2", ".3"] { unlink(path + s) } }
        let rec = Recorder(path: path, source: "test", maxBytes: 300 << 10, keep: 2)
        rec.start()
        for k in 0..<20 {
            rec.record(WireEventBatch(receivedAt: 1, events: events(2000, from: k * 2000)))
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        rec.stop()
        #expect(rec.currentStatus.rotations >= 2)
        #expect(FileManager.default.fileExists(atPath: path + ".1"))
        #expect(FileManager.default.fileExists(atPath: path + ".2"))
        #expect(!FileManager.default.fileExists(atPath: path + ".3"), "keeps only two old files")
        for f in [path, path + ".1", path + ".2"] {
            let l = lines(f)
            #expect(l.first?.hasPrefix(#"{"bfftop_recording":1"#) == true, "\(f) starts with a header")
            let decoder = NativeDecoder()
            #expect(l.dropFirst().allSatisfy { (try? decoder.decode($0).get()) != nil }, "\(f) holds whole lines only")
        }
    }

    @Test func anUnwritablePathIsReportedAndNothingElseBreaks() async throws {
        let rec = Recorder(path: "/nonexistent-dir/for/sure/rec.ndjson", source: "test")
        rec.start()
        rec.record(WireEventBatch(receivedAt: 1, events: events(10)))
        try await Task.sleep(nanoseconds: 800_000_000)
        let st = rec.currentStatus
        #expect(st.error?.contains("cannot record to /nonexistent-dir/for/sure/rec.ndjson") == true)
        #expect(st.error?.contains("No such file or directory") == true)
        rec.stop()
    }
}

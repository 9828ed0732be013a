import BFFTopEngine
import BFFTopStats
import BFFTopWire
@testable import BFFTopUI
import Testing

/// Enter on a failure opens the whole record; the Malformed pane lists recent bad lines with their
/// reasons; old lines carry their date.
@Suite struct RecordOverlayTests {
    static func frame() -> EngineFrame {
        let t0 = Fixtures.t0
        let agg = Aggregator(config: { var c = AggregatorConfig(); c.startedAt = t0; return c }())
        let long = "upstream booking-service answered 503 Service Unavailable after 2 retries; circuit breaker opened for 30 s on pool eu-west-1b"
        agg.ingest(.invocation(Invocation(ts: t0 + 1, endpoint: "POST /api/book", durationMs: 812, outcome: .error, status: 503,
                                          error: long, traceID: "4bf92f3577b34da6a3ce929d0e0e4736")))
        var ingest = IngestStatus(listenPath: "/tmp/bfftop-test.sock")
        ingest.malformed = 3
        ingest.recentMalformed = [
            MalformedLine(connection: 2, origin: "socket", reason: "field \"ts\" must be a number", excerpt: #"{"v":1,"ts":"now"}"#, time: t0 + 2),
            MalformedLine(connection: 2, origin: "socket", reason: "not a format bfftop reads (native JSON, EMF, Lambda logs)", excerpt: "hello", time: t0 + 3),
        ]
        return EngineFrame(snapshot: agg.snapshot(SnapshotRequest(window: .oneMinute), now: t0 + 5), ingest: ingest, sequence: 1)
    }

    @Test func enterOnAFailureOpensTheWholeRecordAndAnyKeyClosesIt() {
        var s = Fixtures.state(Self.frame(), width: 120, height: 36)
        s.focus = .errors
        s.perform(.detail)
        guard case .failure(let f)? = s.inspecting else {
            Issue.record("Enter on the Errors pane opens the failure, got \(String(describing: s.inspecting))")
            return
        }
        #expect(f.endpoint == "POST /api/book")
        let text = Dashboard.render(s).text
        #expect(text.contains("Failed invocation") && text.contains("4bf92f3577b34da6a3ce929d0e0e4736"))
        #expect(text.contains("circuit") && text.contains("breaker opened for 30 s on pool eu-west-1b"), "the message whole, wrapped:\n\(text)")
        #expect(!s.zoomed, "Enter on the Errors pane does not zoom the endpoint")
        _ = s.handle(.char("x"))
        #expect(s.inspecting == nil)
    }

    @Test func theMalformedPaneListsRecentLinesNewestFirst() {
        var s = Fixtures.state(Self.frame(), width: 120, height: 36)
        s.lowerPane = .malformed
        s.focus = .malformed
        let text = Dashboard.render(s).text
        #expect(text.contains("Malformed 3 (last 2)"))
        let lines = text.split(separator: "\n")
        let first = lines.firstIndex { $0.contains("not a format bfftop") } ?? -1
        let second = lines.firstIndex { $0.contains(#"field "ts" must be a"#) } ?? -1
        #expect(first >= 0 && second > first, "newest first:\n\(text)")
        s.perform(.detail)
        guard case .malformed(let m)? = s.inspecting else {
            Issue.record("Enter opens the malformed line")
            return
        }
        #expect(m.excerpt == "hello")
    }

    @Test func aStampFromAnotherDayCarriesItsDate() {
        let now = 1_733_450_000.0  // 2024-12-06 01:53:20 UTC
        #expect(Format.stamp(now - 60, now: now, utcOffset: 0) == "01:52:20")
        #expect(Format.stamp(now - 2 * 86_400, now: now, utcOffset: 0) == "12-04 01:53")
        #expect(Format.date(now, utcOffset: 0) == "2024-12-06")
        #expect(Format.date(951_782_400, utcOffset: 0) == "2000-02-29")
    }
}

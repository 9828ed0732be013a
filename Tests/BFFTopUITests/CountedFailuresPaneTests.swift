import BFFTopEngine
import BFFTopStats
import BFFTopUI
import BFFTopWire
import Testing

/// Failures known only from a counter reach the Errors pane (they used to leave it saying "no
/// failures ✓" while the table said 100 %).
@Suite struct CountedFailuresPaneTests {
    @Test func countedFailuresAreListedAndTheRateIsNotInvented() throws {
        let t0 = Fixtures.t0
        let agg = Aggregator(config: { var c = AggregatorConfig(); c.startedAt = t0; return c }())
        for i in 0..<100 {
            agg.ingest(.invocation(Invocation(ts: t0 + Double(i) * 0.1, endpoint: "GET /api/slots", durationMs: 12, status: 200)))
        }
        agg.ingest(.outcomes(OutcomeCount(ts: t0 + 5, endpoint: "GET /api/slots", kind: .route, outcome: .error, count: 10)))
        agg.ingest(.outcomes(OutcomeCount(ts: t0 + 6, endpoint: "resize-image", kind: .function, outcome: .error, count: 3)))
        let snap = agg.snapshot(SnapshotRequest(window: .oneMinute), now: t0 + 10.5)
        let frame = EngineFrame(snapshot: snap, ingest: IngestStatus(listenPath: "/tmp/bfftop-test.sock"), sequence: 1)
        let s = Fixtures.state(frame, width: 120, height: 36)
        let text = Dashboard.render(s).text
        #expect(!text.contains("no failures ✓"), "\(text)")
        #expect(text.contains("Errors 0 + 13 counted"))
        let lines = text.split(separator: "\n")
        #expect(lines.contains { $0.contains("counted") && $0.contains("10 failed") && $0.contains("GET /api/slots") })
        #expect(lines.contains { $0.contains("counted") && $0.contains("3 failed") && $0.contains("resize-image") })
        // The table: 10 of 100 timed requests failed.
        let slots = try #require(lines.first { $0.contains("GET /api/slots") && !$0.contains("counted") })
        #expect(slots.contains(" 10% "), "\(slots)")
    }
}

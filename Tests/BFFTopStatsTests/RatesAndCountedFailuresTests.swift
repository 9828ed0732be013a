import Testing
import BFFTopWire
@testable import BFFTopStats

/// What a person reads first: the current rate beside the window's average, and failures counted
/// by a counter taken as failures of the timed requests (APM's hits and errors), each against
/// ground truth computed here.
@Suite struct RatesAndCountedFailuresTests {
    let t0 = 1_732_460_000.0

    func timing(_ endpoint: String, end: Double, ms: Double = 20) -> WireEvent {
        .invocation(Invocation(ts: end - ms / 1000, endpoint: endpoint, durationMs: ms, status: 200))
    }

    @Test func aSteadyEmitterReadsItsRateNowAndAsTheWindowAverage() throws {
        let agg = Aggregator()
        // 10 a second for 25 s, evenly spaced.
        for i in 0..<250 { agg.ingest(timing("GET /steady", end: t0 + Double(i) / 10)) }
        let now = t0 + 25.3
        let f = try #require(agg.snapshot(SnapshotRequest(window: .oneMinute), now: now).endpoints.first)
        #expect(f.rpsNow == 10, "the last 5 whole seconds hold 50")
        // The window average is over the time the data covers (25.3 s), not the window's 60 s.
        #expect(abs(f.rps - 250 / 25.3) < 1e-6)
    }

    @Test func aRushShowsNowWhileTheWindowAverageLags() throws {
        let agg = Aggregator()
        var ends: [Double] = []
        // 5 a second for 55 s, then 50 a second for 5 s (a booking rush at 10:00).
        for s in 0..<60 {
            let n = s < 55 ? 5 : 50
            for k in 0..<n { ends.append(t0 + Double(s) + Double(k) / Double(n)) }
        }
        for e in ends { agg.ingest(timing("POST /book", end: e)) }
        let now = t0 + 60.2
        let snap = agg.snapshot(SnapshotRequest(window: .oneMinute), now: now)
        let f = try #require(snap.endpoints.first)
        #expect(f.rpsNow == 50)
        // The window: the 60 one-second buckets up to now's (seconds 1…60 of the run).
        let from = t0 + 1
        let want = ends.filter { $0 >= from }.count
        #expect(f.count == want)
        #expect(abs(f.rps - Double(want) / (now - from)) < 1e-6)
        #expect(snap.totals.rpsNow == 50)
    }

    @Test func counterFailuresAreFailuresOfTheTimedRequestsNotMoreRequests() throws {
        let agg = Aggregator()
        // 3,000 timed requests over 30 s, and an error counter that says 300 of them failed.
        for i in 0..<3000 { agg.ingest(timing("GET /slots", end: t0 + Double(i) / 100)) }
        for s in stride(from: 0, to: 30, by: 10) {
            agg.ingest(.outcomes(OutcomeCount(ts: t0 + Double(s) + 9.5, endpoint: "GET /slots", kind: .route, outcome: .error, count: 100)))
        }
        // A function known only by its error counter.
        agg.ingest(.outcomes(OutcomeCount(ts: t0 + 20, endpoint: "resize", kind: .function, outcome: .error, count: 3)))
        let snap = agg.snapshot(SnapshotRequest(window: .oneMinute), now: t0 + 30.5)
        let slots = try #require(snap.endpoints.first { $0.name == "GET /slots" })
        #expect(slots.count == 3000, "the counter's failures are among the timed requests")
        #expect(slots.errors == 300 && slots.countedFailures == 300)
        #expect(abs(slots.errorRate - 0.1) < 1e-12)
        let resize = try #require(snap.endpoints.first { $0.name == "resize" })
        #expect(resize.count == 0 && resize.failures == 3 && resize.countedFailures == 3)
        #expect(resize.errorRate == 0, "no request counted: the share is unknown (views show the failures)")
        #expect(snap.totals.count == 3000 && snap.totals.failures == 303)
        // Failures a source says had no timing (Hummingbird's thrown errors) are requests too.
        agg.ingest(.outcomes(OutcomeCount(ts: t0 + 21, endpoint: "POST /book", kind: .route, outcome: .error, count: 2, untimed: true)))
        for i in 0..<8 { agg.ingest(timing("POST /book", end: t0 + 22 + Double(i) / 10)) }
        let book = try #require(agg.snapshot(SnapshotRequest(window: .oneMinute), now: t0 + 30.5).endpoints.first { $0.name == "POST /book" })
        #expect(book.count == 10 && book.errors == 2 && abs(book.errorRate - 0.2) < 1e-12)
        // The error-rate rule reads the same share, capped at all requests.
        #expect(AlarmMetric.errorRate.value(slots, now: t0 + 30.5) == 10)
    }
}

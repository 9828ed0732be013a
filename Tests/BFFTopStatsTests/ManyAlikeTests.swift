import Testing
import BFFTopWire
@testable import BFFTopStats

/// An invocation that stands for many (`count`, a histogram bucket from OTLP metrics) gives the
/// figures that many single invocations give, and saturates instead of trapping on huge counts.
@Suite struct ManyAlikeTests {
    let t0 = 1_765_000_000.0

    @Test func countedInvocationsEqualThatManySingleOnes() {
        let one = Aggregator(), many = Aggregator()
        var rng = SplitMix(seed: 4)
        for i in 0..<200 {
            let n = Int(rng.next() % 40) + 1
            let inv = Invocation(
                ts: t0 + Double(i) * 0.25, endpoint: i % 2 == 0 ? "fn-a" : "fn-b", kind: .function, durationMs: Double(rng.next() % 2000) / 7,
                billedMs: nil, memoryMB: 1024, coldStart: i % 9 == 0, initMs: i % 9 == 0 ? 180 : nil, outcome: i % 13 == 0 ? .error : .ok,
                parent: "GET /r")
            var bulk = inv
            bulk.count = n
            many.ingest(.invocation(bulk), receivedAt: t0 + 60)
            for _ in 0..<n { one.ingest(.invocation(inv), receivedAt: t0 + 60) }
        }
        let a = one.snapshot(SnapshotRequest(detailFor: "fn-a"), now: t0 + 60)
        let b = many.snapshot(SnapshotRequest(detailFor: "fn-a"), now: t0 + 60)
        for (x, y) in zip(a.endpoints.sorted { $0.name < $1.name }, b.endpoints.sorted { $0.name < $1.name }) {
            #expect(x.name == y.name)
            #expect(x.count == y.count && x.errors == y.errors && x.cold == y.cold, "\(x.name)")
            #expect(x.p50 == y.p50 && x.p99 == y.p99 && x.max == y.max, "\(x.name)")
            #expect(abs(x.cost - y.cost) < 1e-12 && abs(x.fanOutCost - y.fanOutCost) < 1e-12, "\(x.name)")
            #expect(x.initP99 == y.initP99)
        }
        #expect(a.detail?.fanOut == b.detail?.fanOut || a.detail?.calledBy.map(\.calls) == b.detail?.calledBy.map(\.calls))
    }

    @Test func aBillionAtOnceSaturatesWithoutTrapping() {
        let agg = Aggregator()
        var inv = Invocation(ts: t0, endpoint: "GET /x", durationMs: 12)
        inv.count = WireLimits.maxCount
        for i in 0..<10 { agg.ingest(.invocation(inv), receivedAt: t0 + Double(i) * 0.01) }
        let f = agg.snapshot(SnapshotRequest(), now: t0 + 1).endpoints.first
        #expect((f?.count ?? 0) >= Bucket.countCeiling - 1)
        #expect(f?.p50 != nil)
    }

    /// An endpoint known only from histograms (and counters) has no concurrency to show: unknown,
    /// not 0. One single invocation (or a start, a gauge) makes it known.
    @Test func concurrencyIsUnknownWithoutSingleInvocations() {
        let agg = Aggregator()
        var bulk = Invocation(ts: t0, endpoint: "GET /metrics-only", durationMs: 40)
        bulk.count = 500
        agg.ingest(.invocation(bulk), receivedAt: t0 + 1)
        agg.ingest(.outcomes(OutcomeCount(ts: t0, endpoint: "fn-counted", kind: .function, outcome: .error, count: 3)), receivedAt: t0 + 1)
        agg.ingest(.invocation(Invocation(ts: t0, endpoint: "GET /seen", durationMs: 40)), receivedAt: t0 + 1)
        let f = Dictionary(uniqueKeysWithValues: agg.snapshot(SnapshotRequest(), now: t0 + 1).endpoints.map { ($0.name, $0) })
        #expect(f["GET /metrics-only"]?.concurrencyKnown == false)
        #expect(f["fn-counted"]?.concurrencyKnown == false)
        #expect(f["GET /seen"]?.concurrencyKnown == true)
    }
}

import Testing
import BFFTopWire
@testable import BFFTopStats

/// Exemplar traces and their waterfalls, through the aggregator as every source feeds it.
@Suite struct TraceStoreTests {
    let t0 = 1_765_000_000.0

    func key(_ n: UInt64) -> TraceKey { TraceKey(high: 0xabc, low: n)! }

    func inv(_ endpoint: String, _ kind: EndpointKind = .function, at ts: Double, ms: Double, trace: UInt64, span: UInt64, parent: UInt64 = 0,
             initMs: Double? = nil, outcome: Outcome = .ok) -> WireEvent {
        .invocation(Invocation(
            ts: ts, endpoint: endpoint, kind: kind, durationMs: ms, billedMs: kind == .function ? ms.rounded(.up) : nil,
            memoryMB: kind == .function ? 512 : nil, coldStart: initMs != nil, initMs: initMs, outcome: outcome,
            error: outcome == .ok ? nil : "boom", span: SpanContext(trace: key(trace), span: span, parent: parent)))
    }

    func waterfalls(_ agg: Aggregator, _ endpoint: String, now: Double) -> [TraceWaterfall] {
        agg.snapshot(SnapshotRequest(detailFor: endpoint), now: now).detail?.traces ?? []
    }

    /// A route calling two functions in sequence, then one in parallel with a nested call: spans
    /// sent children first (as exporters do), laid out depth first in start order.
    @Test func waterfallNestsSpansUnderTheirCallersInStartOrder() throws {
        let agg = Aggregator()
        let events = [
            inv("auth", at: t0 + 0.160, ms: 20, trace: 1, span: 11, parent: 10, initMs: 150),
            inv("slots", at: t0 + 0.190, ms: 60, trace: 1, span: 12, parent: 10),
            inv("notify", at: t0 + 0.200, ms: 30, trace: 1, span: 14, parent: 13),
            inv("query GetSlots", .route, at: t0 + 0.185, ms: 80, trace: 1, span: 13, parent: 10),
            inv("POST /graphql", .route, at: t0, ms: 300, trace: 1, span: 10),
        ]
        agg.ingest(events, receivedAt: t0 + 1)
        let w = try #require(waterfalls(agg, "POST /graphql", now: t0 + 1).first)
        #expect(w.spans.map(\.endpoint) == ["POST /graphql", "auth", "query GetSlots", "notify", "slots"])
        #expect(w.spans.map(\.depth) == [0, 1, 1, 2, 1])
        #expect(w.focus == 0)
        #expect(w.traceID == key(1).hex)
        // The auth cold start's init comes before its handler, and the trace starts with the route.
        #expect(w.spans[1].initMs == 150 && w.spans[1].coldStart)
        #expect(abs(w.start - t0) < 1e-6)
        #expect(abs(w.spans[1].barStart - (t0 + 0.010)) < 1e-6)
        #expect(abs(w.durationMs - 300) < 1e-3)
        // Cost: AWS Lambda x86's published prices ($0.20 per million requests, $0.0000166667 per
        // GB-second) over the billed milliseconds sent, at 512 MB; routes are not billed.
        let expected = [20.0, 60, 30].reduce(0) { $0 + 0.20 / 1e6 + 0.5 * $1 / 1000 * 0.0000166667 }
        #expect(abs(w.cost - expected) < 1e-15)
        // The function's own exemplar is the same trace, focused on its span.
        let f = try #require(waterfalls(agg, "notify", now: t0 + 1).first)
        #expect(f.spans[f.focus ?? -1].endpoint == "notify")
    }

    /// The slowest of the last minute comes first, then the three most recent, newest first, each
    /// trace once; ground truth computed here from the durations sent.
    @Test func exemplarsAreTheSlowestOfTheMinuteAndTheMostRecent() {
        let agg = Aggregator()
        var rng = SplitMix(seed: 9)
        var sent: [(end: Double, ms: Double, trace: UInt64)] = []
        for i in 0..<600 {
            let ts = t0 + Double(i) * 0.2
            let ms = Double(rng.next() % 900_000) / 1000 + 10  // distinct: no ties for the slowest
            agg.ingest(inv("GET /a", .route, at: ts, ms: ms, trace: UInt64(i + 1), span: UInt64(1000 + i)), receivedAt: ts + ms / 1000)
            sent.append((ts + ms / 1000, ms, UInt64(i + 1)))
        }
        let now = t0 + 121
        let list = waterfalls(agg, "GET /a", now: now)
        // Slices of 15 s of end time: the slowest of those overlapping the last minute.
        let firstSlice = ((now - 60) / 15).rounded(.down)
        let slowest = sent.filter { ($0.end / 15).rounded(.down) >= firstSlice && $0.end <= now }.max { $0.ms < $1.ms }!
        #expect(list.first?.slowest == true)
        #expect(list.first?.traceID == key(slowest.trace).hex)
        #expect(abs((list.first?.durationMs ?? 0) - slowest.ms) < 1e-3)  // ms from Unix-second doubles
        let recent = sent.suffix(3).reversed().map { key($0.trace).hex }.filter { $0 != list.first?.traceID }
        #expect(Array(list.dropFirst().map(\.traceID)) == recent)
        #expect(Set(list.map(\.traceID)).count == list.count)
    }

    /// Bounded: old traces are forgotten, but an exemplar's trace is held (and late spans join it);
    /// spans past a trace's limit are counted, never silently dropped.
    @Test func boundsForgetOldTracesButKeepExemplarsAndCount() throws {
        var store = TraceStore(limits: .init(traces: 8, spans: 40, spansPerTrace: 5, heldSpans: 30))
        func span(_ id: UInt64, endpoint: Int32, parent: UInt64 = 0, ms: Double = 10) -> StoredSpan {
            StoredSpan(span: id, parent: parent, start: t0, durationMs: ms, initMs: .nan, cost: 0, endpoint: endpoint, status: -1,
                       kind: .function, outcome: .ok, coldStart: false)
        }
        // A very slow trace of endpoint 0, then many traces of endpoint 1 in the same 15 s.
        store.add(span(1, endpoint: 0, ms: 5_000), trace: key(1), text: nil, end: t0 + 5)
        for i in 2...200 { store.add(span(UInt64(i * 10), endpoint: 1), trace: key(UInt64(i)), text: nil, end: t0 + 6) }
        #expect(store.trace(key(1))?.spans.count == 1)  // held: endpoint 0's exemplar
        #expect(store.trace(key(2))?.spans.count == 1)  // held: endpoint 1's slowest (the first of equals)
        #expect(store.trace(key(3)) == nil)  // forgotten
        #expect(store.trace(key(200)) != nil)  // recent
        // A late span of the held trace joins it.
        store.add(span(2, endpoint: 1, parent: 1), trace: key(1), text: nil, end: t0 + 7)
        #expect(store.trace(key(1))?.spans.count == 2)
        // Past the per-trace limit: counted.
        for i in 0..<10 { store.add(span(UInt64(500 + i), endpoint: 2), trace: key(999), text: nil, end: t0 + 8) }
        #expect(store.trace(key(999))?.spans.count == 5)
        #expect(store.counters.notKept == 5)
        #expect(store.counters.spans == 1 + 199 + 1 + 10)
        #expect(store.keptSpans <= 40 + 30)
    }

    /// Hostile parents (loops, itself, unknown, duplicates) still give every span once.
    @Test func parentLoopsAndDuplicatesAreDrawnOnce() throws {
        let agg = Aggregator()
        agg.ingest([
            inv("a", at: t0, ms: 5, trace: 7, span: 1, parent: 2),
            inv("b", at: t0, ms: 5, trace: 7, span: 2, parent: 1),
            inv("c", at: t0, ms: 5, trace: 7, span: 3, parent: 3),
            inv("d", at: t0, ms: 5, trace: 7, span: 4, parent: 99),
            inv("e", at: t0, ms: 5, trace: 7, span: 4, parent: 3),
        ], receivedAt: t0 + 1)
        let w = try #require(waterfalls(agg, "a", now: t0 + 1).first)
        #expect(w.spans.count == 5)
        #expect(Set(w.spans.map(\.endpoint)) == ["a", "b", "c", "d", "e"])
        #expect(w.spans.allSatisfy { $0.depth <= TraceWaterfall.maxDepth })
    }

    /// The packed path (OTLP's successful invocations) keeps spans as the general path does.
    @Test func packedInvocationsCarryTheirSpans() throws {
        let agg = Aggregator()
        var names = NameMapping()
        names.append(["POST /graphql", "slots"])
        let route = PackedInvocation(
            receivedAt: t0 + 1, ts: t0, durationMs: 100, billedMs: nil, memoryMB: nil, maxMemoryMB: nil, initMs: nil, timeoutMs: nil,
            endpoint: 0, kind: .route, arch: nil, coldStart: false, test: false)
        let fn = PackedInvocation(
            receivedAt: t0 + 1, ts: t0 + 0.01, durationMs: 50, billedMs: 50, memoryMB: 1024, maxMemoryMB: nil, initMs: nil, timeoutMs: nil,
            endpoint: 1, parent: 0, kind: .function, arch: nil, coldStart: false, test: false)
        agg.ingest(fn, inFlightID: nil, names: &names, span: SpanContext(trace: key(3), span: 31, parent: 30))
        agg.ingest(route, inFlightID: nil, names: &names, span: SpanContext(trace: key(3), span: 30))
        let w = try #require(waterfalls(agg, "POST /graphql", now: t0 + 1).first)
        #expect(w.spans.map(\.endpoint) == ["POST /graphql", "slots"])
        #expect(w.spans.map(\.depth) == [0, 1])
    }
}

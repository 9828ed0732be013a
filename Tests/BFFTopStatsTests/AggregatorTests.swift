import Foundation
import Testing
import BFFTopWire
@testable import BFFTopStats

@Suite struct AggregatorTests {
    let t0 = 1_732_460_000.0

    func inv(_ endpoint: String, end: Double, ms: Double, kind: EndpointKind = .route, outcome: Outcome = .ok,
             cold: Bool = false, initMs: Double? = nil, memory: Double? = nil, billed: Double? = nil,
             arch: Architecture? = nil, parent: String? = nil, id: String? = nil) -> WireEvent {
        .invocation(Invocation(ts: end - ms / 1000, endpoint: endpoint, kind: kind, durationMs: ms, billedMs: billed,
                               memoryMB: memory, coldStart: cold, initMs: initMs, outcome: outcome, parent: parent,
                               arch: arch, id: id))
    }

    @Test func windowPercentilesMatchExactSamplesInTheWindow() {
        var rng = SplitMix(seed: 3)
        let agg = Aggregator()
        let now = t0 + 3599.5
        var samples: [(end: Double, ms: Double)] = []
        for _ in 0..<40_000 {
            let end = t0 + Double(rng.next() % 3_599_500) / 1000  // all before `now`
            let ms = logNormal(&rng, median: 80, sigma: 0.8)
            samples.append((end, ms))
            agg.ingest(inv("GET /a", end: end, ms: ms))
        }
        for w in Window.allCases {
            let snap = agg.snapshot(SnapshotRequest(window: w), now: now)
            guard let f = snap.endpoints.first else { Issue.record("no endpoint"); return }
            // Ground truth: samples whose end time falls in the window's buckets.
            let r = w.bucketRange(now: now)
            let from = Double(r.lowerBound) * Double(w.resolution)
            let inWindow = samples.filter { $0.end >= from && $0.end <= now }.map(\.ms).sorted()
            #expect(f.count == inWindow.count, "\(w)")
            for (got, q) in [(f.p50, 0.5), (f.p90, 0.9), (f.p95, 0.95), (f.p99, 0.99), (f.max, 1.0)] {
                let want = exactQuantile(inWindow, q)
                #expect(abs((got ?? 0) - want) / want <= 0.01, "\(w) q\(q): \(got ?? -1) vs \(want)")
            }
            let span = now - from
            #expect(abs(f.rps - Double(inWindow.count) / span) < 1e-9, "\(w) rps")
        }
    }

    /// The newest second of each endpoint waits in a stage until a later second starts. Queries
    /// read it besides the tiers and never flush it, so asking after every event and asking once
    /// give exactly the same figures — even with late events (in and beyond the 1 s ring), outcome
    /// counts, gauges and function fan-out mixed in.
    @Test func queriesNeverChangeWhatIsAggregated() {
        var rng = SplitMix(seed: 21)
        var events: [WireEvent] = []
        var t = t0
        for i in 0..<6000 {
            t += Double(rng.next() % 40) / 1000
            var end = t
            if i % 50 == 7 { end -= Double(rng.next() % 50) }  // late, within the 1 s ring
            if i % 700 == 9 { end -= 200 + Double(rng.next() % 3000) }  // late, beyond it
            let ms = logNormal(&rng, median: 60, sigma: 0.7)
            switch i % 9 {
            case 0: events.append(inv("fn-book", end: end, ms: ms, kind: .function, cold: i % 4 == 0, initMs: 300, memory: 512, parent: "POST /book"))
            case 1: events.append(.outcomes(OutcomeCount(ts: end, endpoint: "POST /book", outcome: .throttle, count: 2)))
            case 2: events.append(.concurrency(ConcurrencyGauge(ts: end, endpoint: "fn-book", value: Double(i % 13))))
            default: events.append(inv(i % 2 == 0 ? "POST /book" : "GET /slots", end: end, ms: ms, outcome: i % 31 == 0 ? .error : .ok))
            }
        }
        let asked = Aggregator(), quiet = Aggregator()
        for (i, e) in events.enumerated() {
            asked.ingest(e)
            quiet.ingest(e)
            if i % 3 == 0 {
                let w = Window.allCases[i % Window.allCases.count]
                _ = asked.snapshot(SnapshotRequest(window: w, detailFor: "fn-book"), now: t0 + Double(i) * 0.02)
            }
        }
        for w in Window.allCases {
            let request = SnapshotRequest(window: w, detailFor: "POST /book")
            let a = asked.snapshot(request, now: t), b = quiet.snapshot(request, now: t)
            #expect(a.endpoints == b.endpoints, "\(w)")
            #expect(a.totals == b.totals)
            #expect(a.detail == b.detail)
        }
        #expect(asked.eventsAggregated == quiet.eventsAggregated && asked.eventsDropped == quiet.eventsDropped)
        #expect(asked.eventsAggregated + asked.eventsDropped == events.count)
    }

    @Test func windowEdgesAreBucketAligned() {
        let agg = Aggregator()
        let now = t0 + 100.5  // the 1m window covers whole seconds 41...100
        agg.ingest(inv("e", end: t0 + 40.999, ms: 1))  // second 40: outside
        agg.ingest(inv("e", end: t0 + 41.0, ms: 2))    // second 41: inside
        agg.ingest(inv("e", end: t0 + 100.4, ms: 3))   // current second: inside
        let f = agg.snapshot(SnapshotRequest(window: .oneMinute), now: now).endpoints[0]
        #expect(f.count == 2)
        #expect(abs((f.p50 ?? 0) - 2) / 2 <= 0.01)
        #expect(f.max == 3)
        let f5 = agg.snapshot(SnapshotRequest(window: .fiveMinutes), now: now).endpoints[0]
        #expect(f5.count == 3)
    }

    @Test func outcomesColdStartsAndInitPercentiles() {
        let agg = Aggregator()
        let now = t0 + 30
        var inits: [Double] = []
        for i in 0..<200 {
            let cold = i % 10 == 0
            let initMs = cold ? Double(100 + i) : nil
            if let initMs { inits.append(initMs) }
            let outcome: Outcome = i % 50 == 0 ? .timeout : i % 20 == 0 ? .error : i % 33 == 0 ? .throttle : .ok
            agg.ingest(inv("f", end: t0 + Double(i) / 10, ms: 10, kind: .function, outcome: outcome, cold: cold, initMs: initMs))
        }
        let f = agg.snapshot(SnapshotRequest(window: .oneMinute), now: now).endpoints[0]
        #expect(f.count == 200)
        #expect(f.cold == 20)
        #expect(abs(f.coldRate - 0.1) < 1e-12)
        let timeouts = (0..<200).filter { $0 % 50 == 0 }.count
        let errors = (0..<200).filter { $0 % 50 != 0 && $0 % 20 == 0 }.count
        let throttles = (0..<200).filter { $0 % 50 != 0 && $0 % 20 != 0 && $0 % 33 == 0 }.count
        #expect(f.timeouts == timeouts)
        #expect(f.errors == errors)
        #expect(f.throttles == throttles)
        #expect(f.ok == 200 - timeouts - errors - throttles)
        inits.sort()
        #expect(abs((f.initP50 ?? 0) - exactQuantile(inits, 0.5)) / exactQuantile(inits, 0.5) <= 0.01)
        #expect(abs((f.initP99 ?? 0) - exactQuantile(inits, 0.99)) / exactQuantile(inits, 0.99) <= 0.01)
        let snap = agg.snapshot(SnapshotRequest(), now: now)
        #expect(snap.recentFailures.count == timeouts + errors + throttles)
        #expect(snap.recentFailures.first?.time ?? 0 >= snap.recentFailures.last?.time ?? 0, "newest first")
    }

    @Test func costFollowsTheLambdaFormula() {
        let agg = Aggregator()
        let now = t0 + 59
        // x86, billed given; arm64, billed from ceil(duration); default memory; a throttle (free); a route (free).
        agg.ingest(inv("img", end: t0 + 1, ms: 812.3, kind: .function, memory: 512, billed: 813))
        agg.ingest(inv("img", end: t0 + 2, ms: 99.2, kind: .function, memory: 1024, arch: .arm64))
        agg.ingest(inv("img", end: t0 + 3, ms: 10.5, kind: .function))
        agg.ingest(inv("img", end: t0 + 4, ms: 10.5, kind: .function, outcome: .throttle))
        agg.ingest(inv("GET /a", end: t0 + 5, ms: 50))
        let want1 = 0.0000002 + 0.813 * 0.5 * 0.0000166667
        let want2 = 0.0000002 + 0.100 * 1.0 * 0.0000133334
        let want3 = 0.0000002 + 0.011 * 0.125 * 0.0000166667
        let snap = agg.snapshot(SnapshotRequest(window: .oneMinute), now: now)
        let img = snap.endpoints.first { $0.name == "img" }
        let route = snap.endpoints.first { $0.name == "GET /a" }
        #expect(abs((img?.cost ?? 0) - (want1 + want2 + want3)) < 1e-15)
        #expect(abs((img?.costRequests ?? 0) - 3 * 0.0000002) < 1e-15)
        #expect(route?.cost == 0)
        #expect(abs(snap.totals.costSoFar - (want1 + want2 + want3)) < 1e-15)
        let span = now - (t0 + 1)
        #expect(abs(snap.totals.costPerHour - (want1 + want2 + want3) / span * 3600) < 1e-12)
        #expect(abs(snap.totals.projectedPerMonth - snap.totals.costPerHour * 730) < 1e-12)
    }

    @Test func fanOutAttributesFunctionCostToRoutes() {
        let agg = Aggregator()
        let now = t0 + 10
        for i in 0..<10 {
            let end = t0 + Double(i) * 0.5
            agg.ingest(inv("GET /feed", end: end, ms: 100))
            agg.ingest(inv("auth", end: end, ms: 10, kind: .function, memory: 256, parent: "GET /feed"))
            agg.ingest(inv("posts", end: end, ms: 60, kind: .function, memory: 1024, parent: "GET /feed"))
            if i % 2 == 0 { agg.ingest(inv("auth", end: end, ms: 10, kind: .function, memory: 256, parent: "GET /me")) }
        }
        let snap = agg.snapshot(SnapshotRequest(window: .oneMinute, detailFor: "GET /feed"), now: now)
        let auth = 0.0000002 + 0.010 * 0.25 * 0.0000166667
        let posts = 0.0000002 + 0.060 * 1.0 * 0.0000166667
        let feed = snap.endpoints.first { $0.name == "GET /feed" }
        #expect(abs((feed?.fanOutCost ?? 0) - 10 * (auth + posts)) < 1e-15)
        let d = snap.detail
        #expect(d?.fanOut.map(\.endpoint) == ["posts", "auth"])
        #expect(d?.fanOut.map(\.calls) == [10, 10])
        #expect(abs((d?.fanOut.first?.share ?? 0) - posts / (auth + posts)) < 1e-12)
        let authDetail = agg.snapshot(SnapshotRequest(window: .oneMinute, detailFor: "auth"), now: now).detail
        #expect(authDetail?.calledBy.map(\.endpoint) == ["GET /feed", "GET /me"])
        #expect(authDetail?.calledBy.map(\.calls) == [10, 5])
    }

    /// Ground truth by brute force: for each second, the most intervals covering any instant in it.
    func sweepPeak(_ intervals: [(Double, Double)], from a: Double, to b: Double) -> Int {
        var points = [a]
        for (s, _) in intervals where s >= a && s < b { points.append(s) }
        return points.map { t in intervals.filter { $0.0 <= t && t < $0.1 }.count }.max() ?? 0
    }

    /// The tracker's per-second peak (a branch-free merge of starts and ends) against counting
    /// every interval at every candidate instant, with times on a millisecond grid so that starts
    /// and ends often coincide (an interval ending when another starts does not overlap it).
    @Test func trackerPeakEqualsCountingEveryInterval() {
        var rng = SplitMix(seed: 21)
        var tracker = ConcurrencyTracker()
        var intervals: [(Double, Double)] = []
        for _ in 0..<1500 {
            let start = 100 + Double(rng.next() % 20_000) / 1000
            let end = start + Double(rng.next() % 1500) / 1000
            intervals.append((start, end))
        }
        // In end order, as emitters send them; zero-length intervals included.
        for (start, end) in intervals.sorted(by: { $0.1 < $1.1 }) { tracker.finish(id: nil, start: start, end: end) }
        for s in 99..<122 {
            let a = Double(s), b = Double(s + 1)
            #expect(tracker.peak(from: a, to: b) == sweepPeak(intervals, from: a, to: b), "second \(s)")
        }
        // Many seconds in one pass, as the aggregator asks, from any first second.
        for first in [Int64(99), 100, 107] {
            let expected = (first...121).map { sweepPeak(intervals, from: Double($0), to: Double($0 + 1)) }
            #expect(tracker.peaks(in: first...121) == expected, "from \(first)")
        }
        for _ in 0..<60 {
            let a = 100 + Double(rng.next() % 20_000) / 1000
            let b = a + Double(rng.next() % 700) / 1000
            #expect(tracker.peak(from: a, to: b) == sweepPeak(intervals, from: a, to: b), "[\(a), \(b))")
            #expect(tracker.running(at: a) == intervals.filter { $0.0 <= a && a < $0.1 }.count)
        }
    }

    /// Late values wait unsorted until a query; counts and drops must be those of a sorted array.
    @Test func sortedTimesWithPendingValuesCountLikeASortedArray() {
        var rng = SplitMix(seed: 4)
        var times = SortedTimes()
        var reference: [Double] = []
        var clock = 0.0
        for step in 0..<20_000 {
            clock += Double(rng.next() % 1000) / 1000
            let v = rng.next() % 3 == 0 ? clock - Double(rng.next() % 5000) / 1000 : clock
            times.insert(v)
            reference.insert(v, at: reference.firstIndex { $0 > v } ?? reference.count)
            if step % 997 == 0 {
                let probe = clock - Double(rng.next() % 3000) / 1000
                #expect(times.countAtOrBelow(probe) == reference.filter { $0 <= probe }.count)
                let k = Int(rng.next() % 50)
                times.dropFirst(k)
                reference.removeFirst(min(k, reference.count))
                #expect(Array(times.values[times.head...]) == reference)
            }
        }
        times.settle()
        #expect(Array(times.values[times.head...]) == reference)
    }

    /// The radix sort of waiting starts against the standard sort: timestamps a few seconds apart
    /// (its fast path), equal values, wide spreads, negatives, ±0, infinities and short lists.
    @Test func timeSortSortsLikeTheStandardSort() {
        var rng = SplitMix(seed: 17)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        var cases: [[Double]] = [[], [3], [2, 1], Array(repeating: 1_732_460_000.25, count: 300)]
        for n in [5, 63, 64, 65, 200, 1000, 5000] {
            cases.append((0..<n).map { _ in 1_732_460_000 + uniform() * 5 })  // the usual: a few seconds
            cases.append((0..<n).map { _ in 1_732_460_000 + Double(rng.next() % 40) / 8 })  // many equal
            cases.append((0..<n).map { _ in uniform() * 1e12 })  // a wide spread
            cases.append((0..<n).map { _ in (uniform() - 0.5) * 100 })  // negatives
            cases.append((0..<n).map { i in [0.0, -0.0, .infinity, -.infinity, 7][i % 5] })
        }
        for (k, c) in cases.enumerated() {
            var sorted = c
            TimeSort.sort(&sorted)
            #expect(sorted.map(\.bitPattern) == c.sorted().map(\.bitPattern) || sorted == c.sorted(), "case \(k), \(c.count) values")
            #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $0 <= $1 }, "case \(k)")
        }
    }

    @Test func concurrencyPeaksMatchAnIntervalSweep() {
        var rng = SplitMix(seed: 9)
        let agg = Aggregator()
        var intervals: [(Double, Double)] = []
        var events: [(Double, WireEvent)] = []
        for _ in 0..<3000 {
            let start = t0 + Double(rng.next() % 58_000) / 1000
            let ms = logNormal(&rng, median: 300, sigma: 0.9)
            intervals.append((start, start + ms / 1000))
            events.append((start + ms / 1000, inv("f", end: start + ms / 1000, ms: ms, kind: .function)))
        }
        // Deliver in end order, as a real emitter would, advancing the clock as we go.
        events.sort { $0.0 < $1.0 }
        var clock = t0
        for (end, e) in events {
            if end - clock > 0.7 {
                clock = end
                agg.advance(to: clock)
            }
            agg.ingest(e)
        }
        let now = t0 + 59.5
        let snap = agg.snapshot(SnapshotRequest(window: .oneMinute, detailFor: "f"), now: now)
        let f = snap.endpoints[0]
        var truePeak = 0
        for s in 0..<60 {
            truePeak = max(truePeak, sweepPeak(intervals, from: t0 + Double(s), to: t0 + Double(s + 1)))
        }
        #expect(Int(f.concurrencyPeak) == truePeak)
        // Every per-second peak, not only the maximum.
        let agg2 = Aggregator()
        for (_, e) in events { agg2.ingest(e) }
        agg2.advance(to: now)
        for s in stride(from: 0, to: 60, by: 7) {
            let snap2 = agg2.snapshot(SnapshotRequest(window: .oneMinute), now: t0 + Double(s) + 0.5)
            // Window ending at second s: its peak is the max over seconds s-59...s.
            var want = 0
            for k in max(0, s - 59)...s { want = max(want, sweepPeak(intervals, from: t0 + Double(k), to: t0 + Double(k + 1))) }
            #expect(Int(snap2.endpoints[0].concurrencyPeak) >= want)
        }
    }

    @Test func startEventsCountInFlightBeforeTheyFinish() {
        let agg = Aggregator()
        for i in 0..<5 { agg.ingest(.start(InFlightStart(ts: t0 + Double(i), endpoint: "slow", id: "r\(i)"))) }
        var f = agg.snapshot(SnapshotRequest(), now: t0 + 10).endpoints[0]
        #expect(f.concurrencyNow == 5)
        #expect(f.count == 0)
        agg.ingest(inv("slow", end: t0 + 10.2, ms: 10_200, kind: .function, id: "r0"))
        agg.ingest(inv("slow", end: t0 + 10.3, ms: 9_300, kind: .function, id: "r1"))
        f = agg.snapshot(SnapshotRequest(), now: t0 + 12).endpoints[0]
        #expect(f.count == 2)
        #expect(f.concurrencyNow == 3)
        #expect(f.concurrencyPeak == 5)
    }

    /// An invocation announced by a start event counts as running until its end is known. A
    /// refresh (a frame) while it is in flight must not leave that belief behind once its record
    /// arrives, late, with an end before the refresh: the figures equal those without the refresh.
    @Test func inFlightBeliefsLeaveNoPeakBehindWhenTheEndArrivesLate() {
        let framed = Aggregator(), plain = Aggregator()
        for agg in [framed, plain] {
            agg.ingest(.start(InFlightStart(ts: t0 + 0.1, endpoint: "f", id: "x")))
            agg.ingest(.start(InFlightStart(ts: t0 + 1.45, endpoint: "f", id: "y")))
        }
        // As far as known at t0+1.5 both run: x started at 0.1 and no end has arrived.
        #expect(framed.snapshot(SnapshotRequest(), now: t0 + 1.5).endpoints[0].concurrencyNow == 2)
        // x had ended at 1.4, before y started; both records arrive at t0+2.
        for agg in [framed, plain] {
            agg.ingest(inv("f", end: t0 + 1.4, ms: 1300, kind: .function, id: "x"))
            agg.ingest(inv("f", end: t0 + 1.9, ms: 450, kind: .function, id: "y"))
        }
        let a = framed.snapshot(SnapshotRequest(), now: t0 + 6).endpoints[0]
        let b = plain.snapshot(SnapshotRequest(), now: t0 + 6).endpoints[0]
        #expect(a.concurrencyPeak == 1, "never two at once")
        #expect(a == b)
    }

    @Test func gaugesReportConcurrencyDirectly() {
        let agg = Aggregator()
        agg.ingest(.concurrency(ConcurrencyGauge(ts: t0 + 1, endpoint: "f", value: 12, limit: 100)))
        agg.ingest(.concurrency(ConcurrencyGauge(ts: t0 + 2, endpoint: "f", value: 30, limit: 100)))
        agg.ingest(.concurrency(ConcurrencyGauge(ts: t0 + 3, endpoint: "f", value: 7, limit: 100)))
        let f = agg.snapshot(SnapshotRequest(), now: t0 + 4).endpoints[0]
        #expect(f.concurrencyNow == 7)
        #expect(f.concurrencyPeak == 30)
        #expect(f.concurrencyLimit == 100)
    }

    @Test func pastTheEndpointCapEventsAreCountedInOverflowRows() {
        var config = AggregatorConfig()
        config.maxEndpoints = 10
        let agg = Aggregator(config: config)
        for i in 0..<20 { agg.ingest(inv("e\(i)", end: t0, ms: 1)) }
        for i in 0..<5 { agg.ingest(inv("f\(i)", end: t0, ms: 1, kind: .function, outcome: .error)) }
        for _ in 0..<100 { agg.ingest(inv("e3", end: t0 + 0.5, ms: 1, outcome: .error)) }  // an existing route still counts
        #expect(agg.endpointCount == 12, "ten named, one overflow row per kind")
        #expect(agg.eventsDropped == 0)
        #expect(agg.endpointsOverCap == 15)
        let s = agg.snapshot(SnapshotRequest(), now: t0 + 1)
        let rows = Dictionary(uniqueKeysWithValues: s.endpoints.map { ($0.name, $0) })
        #expect(rows["(other routes)"]?.count == 10 && rows["(other routes)"]?.kind == .route)
        #expect(rows["(other functions)"]?.count == 5 && rows["(other functions)"]?.errors == 5 && rows["(other functions)"]?.kind == .function)
        #expect(rows["e3"]?.errors == 100)
        #expect(s.endpoints.reduce(0) { $0 + $1.count } == s.eventsAggregated, "rows add up to what was aggregated")
        #expect(s.eventsAggregated == 125 && s.endpointsOverCap == 15)
        #expect((rows["(other functions)"]?.cost ?? 0) > 0, "overflow rows are priced")
    }

    @Test func namesPastTheCapAreEstimatedNotRemembered() {
        var config = AggregatorConfig()
        config.maxEndpoints = 100
        let agg = Aggregator(config: config)
        let before = agg.heapBytes
        for i in 0..<200_000 { agg.ingest(inv("n\(i)", end: t0 + Double(i) * 0.001, ms: 1)) }
        let over = agg.endpointsOverCap
        #expect(abs(Double(over) - 199_900) / 199_900 < 0.05, "estimate \(over)")
        #expect(agg.endpointCount == 101)
        #expect(agg.eventsAggregated == 200_000)
        #expect(agg.heapBytes - before < 8 << 20)
    }

    @Test func futureClockSkewIsPulledBackInLiveModeUpToTenMinutes() {
        let agg = Aggregator()
        agg.ingest(inv("e", end: t0 + 300, ms: 5), receivedAt: t0)
        let f = agg.snapshot(SnapshotRequest(), now: t0 + 0.5).endpoints[0]
        #expect(f.count == 1)
        // Further ahead is a wrong clock or unit: refused, counted by reason.
        agg.ingest(inv("e", end: t0 + 601, ms: 5), receivedAt: t0)
        #expect(agg.losses.future == 1 && agg.eventsAggregated == 1)
    }

    @Test func anAncientEventIsCountedAsTooOldAndCostsNothing() {
        let agg = Aggregator()
        let before = agg.heapBytes
        // ts 0 (1970) on a live socket: froze the engine and grew memory by 350 MB/s.
        agg.ingest(.invocation(Invocation(ts: 0, endpoint: "z", durationMs: 5)), receivedAt: t0)
        agg.ingest(.start(InFlightStart(ts: 1, endpoint: "z", id: "s")), receivedAt: t0)
        agg.ingest(.outcomes(OutcomeCount(ts: 2, endpoint: "z", outcome: .error, count: 3)), receivedAt: t0)
        agg.ingest(inv("z", end: t0, ms: 5), receivedAt: t0)
        agg.passTime(to: t0 + 1)
        let s = agg.snapshot(SnapshotRequest(), now: t0 + 1)
        #expect(s.losses.tooOld == 3 && s.eventsAggregated == 1)
        #expect(s.endpoints.first?.count == 1)
        #expect(agg.heapBytes - before < 1 << 20)
    }

    @Test func eventsYearsApartCostNothingPerEmptySecond() {
        // Replay and report have no receive times: the clock is the newest event's.
        let agg = Aggregator()
        let year = 365.0 * 86400
        for k in 0..<5 {
            let t = t0 - 5 * year + Double(k) * year
            agg.passTime(to: t)
            agg.ingest(.invocation(Invocation(ts: t, endpoint: "a", durationMs: 9e9, id: nil)))  // ~104 days long
            agg.ingest(.start(InFlightStart(ts: t + 9e6, endpoint: "a", id: "never-ends-\(k)")))
        }
        agg.passTime(to: t0)
        let s = agg.snapshot(SnapshotRequest(window: .oneHour), now: t0)
        #expect(s.eventsAggregated == 10)
        #expect(agg.heapBytes < 4 << 20)
    }

    @Test func randomExtremeEventsAlwaysAddUp() {
        var rng = SystemRandomNumberGenerator()
        var config = AggregatorConfig()
        config.maxEndpoints = 20
        let agg = Aggregator(config: config)
        let extremes: [Double] = [0, 1e-300, 1, 59.9, 3600, 1e6, 1e10, 1e11 - 1]
        var now = t0
        for i in 0..<20_000 {
            now += Double.random(in: 0...2, using: &rng)
            let ts = Bool.random(using: &rng) ? now - Double.random(in: 0...7200, using: &rng) : extremes.randomElement(using: &rng)!
            let ms = extremes.randomElement(using: &rng)!
            let name = "e\(Int.random(in: 0..<60, using: &rng))"
            let rt: Double? = Bool.random(using: &rng) ? now : nil
            switch i % 4 {
            case 0: agg.ingest(.invocation(Invocation(ts: ts, endpoint: name, durationMs: ms, outcome: Outcome.allCases.randomElement(using: &rng)!, id: i % 8 == 0 ? "i\(i / 8)" : nil)), receivedAt: rt)
            case 1: agg.ingest(.start(InFlightStart(ts: ts, endpoint: name, id: "i\(i / 8)")), receivedAt: rt)
            case 2: agg.ingest(.outcomes(OutcomeCount(ts: ts, endpoint: name, outcome: .error, count: Int.random(in: 0...WireLimits.maxCount, using: &rng))), receivedAt: rt)
            default: agg.ingest(.concurrency(ConcurrencyGauge(ts: ts, endpoint: name, value: ms)), receivedAt: rt)
            }
            if i % 100 == 0 { agg.passTime(to: now) }
        }
        let s = agg.snapshot(SnapshotRequest(window: .oneHour), now: now)
        #expect(s.eventsAggregated + s.losses.total == 20_000, "\(s.eventsAggregated) + \(s.losses)")
        #expect(s.endpoints.count <= 22)
        #expect(agg.heapBytes < 32 << 20)
        for e in s.endpoints { #expect(e.ok <= e.count && e.count >= 0) }
    }
}

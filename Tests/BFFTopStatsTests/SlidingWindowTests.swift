import Testing
@testable import BFFTopStats
import BFFTopWire

/// The alarm rules read each window from running totals (`SlidingWindow`): they must see exactly
/// what a full read of the window's buckets gives, whatever order and lateness events arrive in.
@Suite struct SlidingWindowTests {
    let t0 = 1_732_460_000.0

    /// Random traffic on a few endpoints: most events on time, some late by up to 90 s (past the
    /// settled edge, past the 1 s ring), counted outcomes, gauges with limits, and clock gaps.
    func traffic(seconds: Int, seed: UInt64, _ each: (Aggregator, Double) -> Void) {
        var rng = Random(seed)
        let agg = Aggregator()
        let names = ["GET /a", "POST /b", "fn-c", "fn-d"]
        var t = t0
        for s in 0..<seconds {
            // A gap now and then (an idle fleet, a paused emitter).
            if rng.next() % 97 == 0 { t += Double(rng.next() % 200) }
            let n = Int(rng.next() % 12)
            for k in 0..<n {
                let name = names[Int(rng.next() % 4)]
                let function = name.hasPrefix("fn")
                var end = t + Double(k) / Double(max(n, 1))
                switch rng.next() % 20 {
                case 0 where rng.next() % 4 == 0: end -= Double(rng.next() % 90)  // late, maybe past the 1 s ring
                case 1, 2: end -= 1 + rng.unit()  // a second or two behind
                default: break
                }
                let ms = 5 + 400 * rng.unit() * rng.unit()
                let outcomes: [Outcome] = [.ok, .ok, .ok, .ok, .error, .timeout, .throttle]
                agg.ingest(.invocation(Invocation(
                    ts: end - ms / 1000, endpoint: name, kind: function ? .function : .route, durationMs: ms,
                    memoryMB: function ? 512 : nil, maxMemoryMB: function ? 50 + 400 * rng.unit() : nil,
                    coldStart: function && rng.unit() < 0.1, initMs: function ? 200 : nil,
                    outcome: outcomes[Int(rng.next() % 7)], timeoutMs: function ? 1000 : nil, test: rng.unit() < 0.05)))
                if rng.next() % 15 == 0 {
                    agg.ingest(.outcomes(OutcomeCount(ts: end - Double(rng.next() % 5), endpoint: name, outcome: .error, count: Int(rng.next() % 4) + 1)))
                }
                if rng.next() % 25 == 0 {
                    agg.ingest(.concurrency(ConcurrencyGauge(ts: end - Double(rng.next() % 8), endpoint: name, value: Double(rng.next() % 50), limit: 40)))
                }
            }
            t += 1
            _ = s
            each(agg, t)
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func runningTotalsEqualAFullReadOfTheWindow(seed: UInt64) {
        var compared = 0
        var (rebuilds, steps) = (0, 0)
        traffic(seconds: 700, seed: seed) { agg, now in
            defer {
                rebuilds = agg.endpoints.reduce(0) { $0 + $1.sliding.reduce(0) { $0 + $1.rebuilds } }
                steps = agg.endpoints.reduce(0) { $0 + $1.sliding.reduce(0) { $0 + $1.steps } }
            }
            for w in [Window.oneMinute, .fiveMinutes] {
                // The full read first: it brings every endpoint's concurrency up to `now`, which
                // raises peaks in buckets the running totals already hold.
                let full = agg.figures(window: w, now: now, latency: true)
                let sliding = agg.alarmFigures(window: w, now: now, latency: true, concurrency: true)
                #expect(sliding.count == full.count)
                for (a, b) in zip(sliding, full) {
                    #expect(a.name == b.name)
                    #expect(a.count == b.count, "count \(a.name) \(w) at \(now - t0)")
                    #expect(a.ok == b.ok && a.errors == b.errors && a.timeouts == b.timeouts && a.throttles == b.throttles)
                    #expect(a.cold == b.cold && a.test == b.test && a.oom == b.oom)
                    #expect(a.p50 == b.p50 && a.p95 == b.p95 && a.p99 == b.p99, "percentiles \(a.name) \(w) at \(now - t0)")
                    #expect(a.maxTimeoutRatio == b.maxTimeoutRatio)
                    #expect(a.maxMemoryUsedMB == b.maxMemoryUsedMB)
                    #expect(a.concurrencyPeak == b.concurrencyPeak)
                    #expect(abs(a.cost - b.cost) <= 1e-12 + 1e-9 * abs(b.cost))
                    #expect(a.rps == b.rps || abs(a.rps - b.rps) <= 1e-12)
                    compared += 1
                }
            }
        }
        #expect(compared > 2_000)
        // Both ways of keeping the totals were taken: moving on by a step, and rebuilding after a
        // late event, a gap or a window's length of steps.
        #expect(steps > rebuilds, "steps \(steps), rebuilds \(rebuilds)")
        #expect(rebuilds > 50)
    }

    @Test func alarmsFireOnTheSameFiguresAsAFullRead() {
        // The p99 and error-rate rules judged from running totals fire exactly when they would on
        // the full window: the alarm log is the same as one whose totals are always rebuilt.
        let rules = AlarmRule.defaults + [AlarmRule(name: "p99", metric: .p99, .greater, 150)]
        var transitions: [String] = []
        let engine = AlarmEngine(rules: rules)
        engine.onTransition = { transitions.append("\($0)") }
        traffic(seconds: 600, seed: 9) { agg, now in engine.evaluate(agg, upTo: now) }
        #expect(!transitions.isEmpty)
        var expected: [String] = []
        let reference = AlarmEngine(rules: rules)
        reference.onTransition = { expected.append("\($0)") }
        traffic(seconds: 600, seed: 9) { agg, now in
            // Totals dropped before every read: each is a rebuild from the buckets.
            for i in agg.endpoints.indices { agg.endpoints[i].sliding.removeAll() }
            reference.evaluate(agg, upTo: now)
        }
        #expect(transitions == expected)
    }
}

/// SplitMix64, so each seed is one reproducible stream.
private struct Random {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

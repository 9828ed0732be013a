import Testing
@testable import BFFTopStats
import BFFTopWire

/// Alarm state machines driven by synthetic event streams on a virtual clock.
@Suite struct AlarmTests {
    let t0 = 1_732_460_000.0

    func call(_ name: String, at t: Double, outcome: Outcome = .ok, ms: Double = 20, kind: EndpointKind = .route,
              cold: Bool = false, error: String? = nil) -> WireEvent {
        .invocation(Invocation(ts: t - ms / 1000, endpoint: name, kind: kind, durationMs: ms, coldStart: cold, outcome: outcome, error: error))
    }

    /// Feeds `perSecond(second)` events every second from t0 for `seconds`, evaluating as a replay would.
    func run(_ engine: AlarmEngine, _ agg: Aggregator, seconds: Range<Int>, _ perSecond: (Int) -> [WireEvent]) {
        for s in seconds {
            for (k, e) in perSecond(s).enumerated() {
                let t = t0 + Double(s) + Double(k) * 0.001
                engine.evaluate(agg, upTo: t)
                agg.ingest(at(e, t))
            }
            engine.evaluate(agg, upTo: t0 + Double(s) + 0.999)
        }
    }

    /// The event, ending at `t`.
    func at(_ e: WireEvent, _ t: Double) -> WireEvent {
        guard case .invocation(var i) = e else { return e }
        i.ts = t - i.durationMs / 1000
        return .invocation(i)
    }

    @Test func errorRateGoesPendingHoldsThroughForThenFiresAndResolves() {
        let rule = AlarmRule(name: "errors", metric: .errorRate, .greater, 10, window: .oneMinute, for: 5, severity: .critical, minEvents: 10)
        let engine = AlarmEngine(rules: [rule])
        var log: [AlarmTransition] = []
        engine.onTransition = { log.append($0) }
        let agg = Aggregator()
        // 0–19 s: healthy, 10 calls/s.
        run(engine, agg, seconds: 0..<20) { _ in (0..<10).map { _ in call("GET /a", at: 0, outcome: .ok) } }
        #expect(engine.snapshot.active.isEmpty)
        // 20 s on: half fail. Second s is judged on the data before it: after k failing seconds the
        // 1-minute error rate is 5k / (200 + 10k), above 10 % from k = 6, i.e. when second 26 is evaluated.
        func failing(_ s: Int) -> [WireEvent] { (0..<10).map { i in call("GET /a", at: 0, outcome: i % 2 == 0 ? .error : .ok) } }
        run(engine, agg, seconds: 20..<26, failing)
        #expect(engine.snapshot.active.isEmpty, "exactly 10 % is not > 10 %")
        run(engine, agg, seconds: 26..<31, failing)
        let pending = engine.snapshot.active.first
        #expect(pending?.phase == .pending)
        #expect(pending?.since == t0 + 26)
        #expect(log.isEmpty, "not fired during `for`")
        run(engine, agg, seconds: 31..<32, failing)
        let firing = engine.snapshot.active.first
        #expect(firing?.phase == .firing)
        #expect(firing?.severity == .critical)
        #expect(log.map(\.phase) == [.firing])
        // Fired exactly `for` seconds after the condition was first seen.
        if let f = firing, let at = f.firedAt { #expect(at - f.since == 5) }
        #expect(engine.snapshot.firing == 1)
        #expect(engine.snapshot.unacknowledged == 1)
        engine.acknowledgeAll()
        #expect(engine.snapshot.unacknowledged == 0)
        #expect(engine.snapshot.active.first?.acknowledged == true)
        // Healthy again: the window forgets the errors after a minute and the alarm resolves.
        run(engine, agg, seconds: 32..<100) { _ in (0..<10).map { _ in call("GET /a", at: 0) } }
        #expect(engine.snapshot.active.isEmpty)
        #expect(log.map(\.phase) == [.firing, .resolved])
        #expect(engine.snapshot.history.first?.phase == .resolved)
        // Independently: the error rate at the resolve time was ≤ 10 %.
        if let resolvedAt = log.last?.time {
            let f = agg.figures(window: .oneMinute, now: resolvedAt).first
            #expect(Double((f?.errors ?? 0)) / Double(f?.count ?? 1) * 100 <= 10)
        }
    }

    @Test func briefBreachShorterThanForNeverFires() {
        let engine = AlarmEngine(rules: [AlarmRule(name: "p", metric: .timeouts, .greater, 0, window: .oneMinute, for: 120)])
        let agg = Aggregator()
        run(engine, agg, seconds: 0..<10) { s in s == 2 ? [call("f", at: 0, outcome: .timeout, kind: .function)] : [call("f", at: 0, kind: .function)] }
        #expect(engine.snapshot.active.first?.phase == .pending)
        run(engine, agg, seconds: 10..<90) { _ in [call("f", at: 0, kind: .function)] }
        #expect(engine.snapshot.active.isEmpty, "the timeout left the window before `for` elapsed")
        #expect(engine.snapshot.history.isEmpty)
    }

    @Test func defaultsFireForTimeoutsOOMAndColdStartsAndRespectScope() {
        let engine = AlarmEngine(rules: AlarmRule.defaults)
        let agg = Aggregator()
        run(engine, agg, seconds: 0..<4) { s in
            [call("img", at: 0, outcome: s == 1 ? .timeout : .ok, kind: .function),
             call("oom-fn", at: 0, outcome: s == 2 ? .error : .ok, kind: .function, error: s == 2 ? "Runtime.OutOfMemory" : nil),
             call("GET /cold-route", at: 0, cold: true)]
        }
        let firing = engine.snapshot.active.filter { $0.phase == .firing }
        #expect(firing.contains { $0.rule == "timeouts" && $0.endpoint == "img" })
        #expect(firing.contains { $0.rule == "out of memory" && $0.endpoint == "oom-fn" })
        #expect(!engine.snapshot.active.contains { $0.endpoint == "GET /cold-route" && $0.metric == .coldRate }, "cold-start rules apply to functions")
        #expect(engine.snapshot.worst == .critical)
    }

    @Test func silentEndpointAndBudgets() {
        var config = AggregatorConfig()
        var s = FunctionSettings(pattern: "GET /slow")
        s.latencyBudgetMs = 100
        config.functions = [s]
        let agg = Aggregator(config: config)
        let engine = AlarmEngine(rules: [
            AlarmRule(name: "silent", metric: .silent, .greater, 30, minEvents: 0),
            AlarmRule(name: "budget", metric: .p99, .greater, nil, minEvents: 0),
        ])
        run(engine, agg, seconds: 0..<5) { _ in [call("GET /slow", at: 0, ms: 250), call("GET /fast", at: 0, ms: 5)] }
        #expect(engine.snapshot.active.map(\.endpoint) == ["GET /slow"], "only the endpoint with a budget")
        #expect(engine.snapshot.active.first?.threshold == 100)
        run(engine, agg, seconds: 5..<40) { _ in [] }
        engine.evaluate(agg, upTo: t0 + 40)
        let silent = engine.snapshot.active.filter { $0.rule == "silent" }
        #expect(Set(silent.map(\.endpoint)) == ["GET /slow", "GET /fast"])
    }

    @Test func sameStreamSameAlarmsWhateverTheEvaluationChunking() {
        // Live evaluates as the clock ticks; replay at max speed evaluates between events. Same result.
        func events(_ s: Int) -> [WireEvent] { (0..<5).map { i in call("GET /x", at: 0, outcome: (s / 7 + i) % 3 == 0 ? .error : .ok) } }
        let a = AlarmEngine(rules: AlarmRule.defaults)
        let aggA = Aggregator()
        run(a, aggA, seconds: 0..<120, events)
        let b = AlarmEngine(rules: AlarmRule.defaults)
        let aggB = Aggregator()
        for s in 0..<120 {
            for (k, e) in events(s).enumerated() {
                let t = t0 + Double(s) + Double(k) * 0.001
                b.evaluate(aggB, upTo: t)
                aggB.ingest(at(e, t))
            }
        }
        b.evaluate(aggB, upTo: t0 + 119.999)
        #expect(a.snapshot == b.snapshot)
        #expect(!a.snapshot.history.isEmpty)
    }
}

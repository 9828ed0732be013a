import BFFTopInvoke
import BFFTopWire
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A control channel that takes 100 ms per call and records how many ran at once.
final class SlowChannel: ControlChannel {
    let calls = Atomic<Int>(0)
    let current = Atomic<Int>(0)
    let peak = Atomic<Int>(0)
    func canInvoke(_ endpoint: String) -> Bool { endpoint != "nope" }
    func invoke(_ endpoint: String, payload: String?, timeout: Double) -> Result<ControlReply, ControlFailure> {
        calls.add(1, ordering: .relaxed)
        let now = current.add(1, ordering: .relaxed).newValue
        var p = peak.load(ordering: .relaxed)
        while now > p, !peak.compareExchange(expected: p, desired: now, ordering: .relaxed).exchanged { p = peak.load(ordering: .relaxed) }
        usleep(100_000)
        current.subtract(1, ordering: .relaxed)
        return .success(ControlReply(status: 200, outcome: .ok, durationMs: 100))
    }
}

@Suite struct InvocationRunnerTests {
    @Test func burstIsExactAndConcurrentWithinTheInFlightCap() {
        let ch = SlowChannel()
        var settings = InvokeSettings()
        settings.maxInFlight = 8
        let runner = InvocationRunner(settings: settings, control: ch)
        guard case .success = runner.start(endpoint: "GET /x", target: .control, plan: .burst(40)) else {
            Issue.record("burst refused")
            return
        }
        runner.waitUntilIdle()
        #expect(ch.calls.load(ordering: .relaxed) == 40)
        let peak = ch.peak.load(ordering: .relaxed)
        #expect(peak <= 8, "never above the cap: \(peak)")
        #expect(peak >= 4, "concurrent (8 expected; a loaded machine may start fewer at once): \(peak)")
        #expect(runner.snapshot.total == 40)
        #expect(runner.snapshot.records.allSatisfy { $0.status == 200 })
    }

    @Test func capsRefuseAndCancelStopsARamp() {
        let ch = SlowChannel()
        var settings = InvokeSettings()
        settings.maxBurst = 10
        settings.maxRate = 20
        let runner = InvocationRunner(settings: settings, control: ch)
        if case .failure(let f) = runner.start(endpoint: "GET /x", target: .control, plan: .burst(11)) {
            #expect(f.description.contains("over the cap of 10"))
        } else { Issue.record("a burst over the cap ran") }
        if case .failure(let f) = runner.start(endpoint: "GET /x", target: .control, plan: .ramp(perSecond: 50, seconds: 1)) {
            #expect(f.description.contains("over the cap of 20/s"))
        } else { Issue.record("a ramp over the cap ran") }
        if case .failure(let f) = runner.start(endpoint: "nope", target: .control, plan: .once) {
            #expect(f == .noEmitter(endpoint: "nope"))
        } else { Issue.record("invoked an endpoint no emitter offers") }
        #expect(ch.calls.load(ordering: .relaxed) == 0)
        // 10/s for 10 s, cancelled after ~0.35 s: a handful sent, the rest never.
        _ = runner.start(endpoint: "GET /x", target: .control, plan: .ramp(perSecond: 10, seconds: 10))
        usleep(350_000)
        #expect(runner.cancelAll() == 1)
        runner.waitUntilIdle()
        let n = ch.calls.load(ordering: .relaxed)
        #expect(n >= 1 && n <= 6, "sent \(n) before the cancel (4 expected)")
        usleep(300_000)
        #expect(ch.calls.load(ordering: .relaxed) == n, "nothing after the cancel")
    }
}

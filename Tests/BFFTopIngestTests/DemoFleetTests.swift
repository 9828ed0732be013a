import BFFTopDemo
import BFFTopWire
import Testing

/// The demo fleet is what a newcomer judges bfftop by: its figures must be physically possible.
@Suite struct DemoFleetTests {
    @Test func everyFunctionInvocationRespectsItsTimeout() {
        let t0 = 1_732_460_000.0
        var sim = FleetSimulator(start: t0, seed: 11)
        var functions = 0, timeouts = 0, cold = 0
        var t = t0
        // Ten minutes, booking rushes included.
        while t < t0 + 600 {
            t += 0.5
            for case .invocation(let i) in sim.advance(to: t) where i.kind == .function {
                functions += 1
                guard let timeout = i.timeoutMs else { continue }
                if i.outcome == .timeout {
                    timeouts += 1
                    #expect(i.durationMs == timeout, "\(i.endpoint) timed out at \(i.durationMs) ms, its timeout is \(timeout)")
                } else {
                    #expect(i.durationMs < timeout, "\(i.endpoint): \(i.durationMs) ms with timeout \(timeout) and outcome \(i.outcome)")
                }
                if i.coldStart == true {
                    cold += 1
                    // Billed covers the init too (Lambda bills the init of on-demand functions).
                    #expect((i.billedMs ?? 0) >= i.durationMs + (i.initMs ?? 0))
                }
            }
        }
        #expect(functions > 1000 && cold > 0, "\(functions) function invocations, \(cold) cold")
        #expect(timeouts > 0, "the fleet still times out sometimes")
    }
}

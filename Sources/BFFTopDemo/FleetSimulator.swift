import BFFTopWire
#if canImport(Glibc)
import Glibc
#endif

/// A deterministic (seeded) simulation of the demo fleet. `advance(to:)` returns the events that
/// became known by that time, in time order: invocation events when they end, start events when
/// long functions begin. Requests arrive as Poisson processes; latencies are log-normal with a
/// long tail; instances scale out cold, are reclaimed after idling, throttle at their limit and
/// time out at their timeout.
public struct FleetSimulator {
    struct Instance {
        var busyUntil: Double
        var lastUsed: Double
    }

    struct FunctionState {
        var spec: FunctionSpec
        var instances: [Instance] = []
    }

    private var rng: SplitMix64
    private var functions: [String: FunctionState]
    private let routes: [RouteSpec]
    private let origin: Double
    private var clock: Double
    private var nextArrival: [Double]
    private var pending = EventHeap()
    private var serial = 0
    /// Requests per second multiplier (1 = the fleet's nominal traffic).
    public var intensity: Double

    public init(start: Double, seed: UInt64 = 42, intensity: Double = 1,
                functions: [FunctionSpec] = DemoFleet.functions, routes: [RouteSpec] = DemoFleet.routes) {
        self.rng = SplitMix64(seed: seed)
        self.functions = Dictionary(uniqueKeysWithValues: functions.map { ($0.name, FunctionState(spec: $0)) })
        self.routes = routes
        self.origin = start
        self.clock = start
        self.intensity = intensity
        self.nextArrival = routes.map { _ in start }
        for i in routes.indices { nextArrival[i] = start + exponential(rate: rate(routes[i], at: start)) }
    }

    /// How strong the booking rush is at time t, 0...1. The first rush starts 30 s in.
    public func rush(at t: Double) -> Double {
        let phase = (t - origin + DemoFleet.rushPeriod - 30).truncatingRemainder(dividingBy: DemoFleet.rushPeriod)
        guard phase >= 0, phase < DemoFleet.rushLength else { return 0 }
        // Sharp rise in 2 s, slow decay: everyone clicks at 10:00:00.
        return phase < 2 ? phase / 2 : exp(-(phase - 2) / 8)
    }

    func rate(_ r: RouteSpec, at t: Double) -> Double {
        let wave = 1 + 0.15 * sin((t - origin) / 30)
        return max(0.01, r.baseRPS * intensity * wave * (1 + (r.rushFactor - 1) * rush(at: t)))
    }

    private mutating func exponential(rate: Double) -> Double {
        -log(max(1e-12, rng.unit())) / rate
    }

    private mutating func logNormal(median: Double, sigma: Double) -> Double {
        let z = sqrt(-2 * log(max(1e-12, rng.unit()))) * cos(2 * .pi * rng.unit())
        var v = median * exp(sigma * z)
        if rng.unit() < 0.015 { v *= 4 + 4 * rng.unit() }  // the long tail: GC pauses, slow dependencies
        return v
    }

    /// Events known by `now`, oldest first.
    public mutating func advance(to now: Double) -> [WireEvent] {
        guard now > clock else { return [] }
        // Generate arrivals in time order across routes.
        while true {
            guard let i = nextArrival.indices.min(by: { nextArrival[$0] < nextArrival[$1] }), nextArrival[i] <= now else { break }
            let t = nextArrival[i]
            request(routes[i], at: t)
            nextArrival[i] = t + exponential(rate: rate(routes[i], at: t))
        }
        clock = now
        var out: [WireEvent] = []
        while let top = pending.peek, top.time <= now {
            out.append(pending.pop().event)
        }
        return out
    }

    /// Everything the fleet can be asked to run over the control channel.
    public var invokableEndpoints: [String] { routes.map(\.name) + functions.keys.sorted() }

    /// A test invocation of `endpoint` starting at `t` (a route fans out as usual); its events are
    /// marked as test traffic. Returns the invocation (nil for an unknown endpoint).
    public mutating func invoke(_ endpoint: String, at t: Double) -> Invocation? {
        if let r = routes.first(where: { $0.name == endpoint }) { return request(r, at: t, test: true) }
        serial += 1
        let trace = "1-\(String(Int(t), radix: 16))-\(String(serial, radix: 16))"
        return call(endpoint, at: t, parent: nil, trace: trace, caller: nil, test: true)
    }

    /// A new span of `trace` under `caller` (ids from the serial: deterministic, never 0).
    private mutating func span(_ trace: String, under caller: SpanContext?) -> SpanContext? {
        serial += 1
        return TraceKey(trace).map { SpanContext(trace: $0, span: UInt64(serial) &* 0x9E37_79B9_7F4A_7C15 | 1, parent: caller?.span ?? 0) }
    }

    @discardableResult
    private mutating func request(_ route: RouteSpec, at arrival: Double, test: Bool = false) -> Invocation {
        serial += 1
        let trace = "1-\(String(Int(arrival), radix: 16))-\(String(serial, radix: 16))"
        let routeSpan = span(trace, under: nil)
        var t = arrival + route.overheadMs / 2000
        var failure: (Outcome, Int, String)?
        for name in route.calls {
            guard let result = call(name, at: t, parent: route.name, trace: trace, caller: routeSpan, test: test) else { continue }
            t += (result.durationMs + (result.initMs ?? 0)) / 1000  // the caller waits for the cold start too
            if result.outcome != .ok {
                let status = result.outcome == .throttle ? 503 : result.outcome == .timeout ? 504 : 502
                failure = (.error, status, "\(name): \(result.error ?? result.outcome.description)")
                break
            }
        }
        let end = t + route.overheadMs / 2000
        let inv = Invocation(
            ts: arrival, service: route.service, endpoint: route.name, kind: .route, durationMs: (end - arrival) * 1000,
            outcome: failure?.0 ?? .ok, status: failure?.1 ?? (route.name.hasPrefix("POST") ? 201 : 200),
            error: failure?.2, traceID: trace, test: test, span: routeSpan)
        pending.push(end, .invocation(inv))
        return inv
    }

    /// One function invocation starting at t. Returns nil for an unknown function.
    private mutating func call(_ name: String, at t: Double, parent: String?, trace: String, caller: SpanContext?, test: Bool = false) -> Invocation? {
        guard var f = functions[name] else { return nil }
        let ownSpan = span(trace, under: caller)
        defer { functions[name] = f }
        let spec = f.spec
        f.instances.removeAll { $0.busyUntil <= t && $0.lastUsed < t - DemoFleet.idleReclaim }
        serial += 1
        let id = "\(name)-\(serial)"
        let busy = f.instances.filter { $0.busyUntil > t }.count
        let idle = f.instances.indices.first { f.instances[$0].busyUntil <= t }
        if idle == nil, busy >= spec.concurrencyLimit {
            let inv = Invocation(
                ts: t, service: spec.service, endpoint: name, kind: .function, durationMs: 0.4, memoryMB: spec.memoryMB,
                outcome: .throttle, status: 429, error: "Rate Exceeded: TooManyRequestsException", timeoutMs: spec.timeoutMs,
                traceID: trace, parent: parent, arch: spec.arch, id: id, test: test, span: ownSpan)
            pending.push(inv.endTs, .invocation(inv))
            return inv
        }
        let cold = idle == nil
        let stress = 1 + 0.6 * rush(at: t)
        var duration = logNormal(median: spec.medianMs * stress, sigma: spec.sigma)
        let initMs = cold ? logNormal(median: spec.initMedianMs, sigma: 0.3) : nil
        var outcome = Outcome.ok
        var error: String?
        var maxMemory = spec.memoryMB * spec.memoryUse * (0.85 + 0.3 * rng.unit())
        if duration >= spec.timeoutMs {
            duration = spec.timeoutMs
            outcome = .timeout
            error = "Task timed out after \(formatFixed(spec.timeoutMs / 1000, 2)) seconds"
        } else if rng.unit() < spec.errorRate * stress {
            outcome = .error
            error = spec.errorMessage
            if spec.errorMessage == "Runtime.OutOfMemory" { maxMemory = spec.memoryMB }
        }
        let total = duration + (initMs ?? 0)
        let instance = Instance(busyUntil: t + total / 1000, lastUsed: t + total / 1000)
        if let idle { f.instances[idle] = instance } else { f.instances.append(instance) }
        if spec.announcesStart {
            pending.push(t, .start(InFlightStart(ts: t, endpoint: name, id: id, service: spec.service, kind: .function)))
        }
        // As Lambda's REPORT: the handler's duration (which the timeout bounds) with the cold start's
        // init apart; billed covers both. A duration past the timeout with outcome ok cannot happen.
        let inv = Invocation(
            ts: t + (initMs ?? 0) / 1000, service: spec.service, endpoint: name, kind: .function, durationMs: duration,
            billedMs: total.rounded(.up), memoryMB: spec.memoryMB, maxMemoryMB: maxMemory.rounded(), coldStart: cold,
            initMs: initMs, outcome: outcome, status: nil, error: error, timeoutMs: spec.timeoutMs, traceID: trace,
            parent: parent, arch: spec.arch, id: id, test: test, span: ownSpan)
        pending.push(inv.endTs, .invocation(inv))
        return inv
    }
}

/// Events ordered by the time they become known.
struct EventHeap {
    private var items: [(time: Double, seq: Int, event: WireEvent)] = []
    private var seq = 0

    var peek: (time: Double, event: WireEvent)? { items.first.map { ($0.time, $0.event) } }

    mutating func push(_ time: Double, _ event: WireEvent) {
        seq += 1
        items.append((time, seq, event))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (time: Double, event: WireEvent) {
        let top = items[0]
        items[0] = items[items.count - 1]
        items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count, less(l, m) { m = l }
            if r < items.count, less(r, m) { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return (top.time, top.event)
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        items[a].time < items[b].time || (items[a].time == items[b].time && items[a].seq < items[b].seq)
    }
}

public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

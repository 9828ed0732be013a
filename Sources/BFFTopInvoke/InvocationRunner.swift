#if canImport(Glibc)
import Glibc
#endif
import BFFTopWire
import Dispatch
import Synchronization

/// Emitters that declared endpoints they can run (implemented by the socket listener).

public enum InvokePlan: Sendable, Equatable, CustomStringConvertible {
    case once
    case burst(Int)
    case ramp(perSecond: Double, seconds: Double)

    public var count: Int {
        switch self {
        case .once: 1
        case .burst(let n): n
        case .ramp(let r, let s): Int((r * s).rounded(.down))
        }
    }

    public var description: String {
        switch self {
        case .once: "once"
        case .burst(let n): "burst of \(n)"
        case .ramp(let r, let s): "ramp \(formatFixed(r, 1))/s for \(formatFixed(s, 0)) s"
        }
    }
}

/// A burst or ramp under way.
public struct PlanStatus: Sendable, Equatable {
    public var id: Int
    public var endpoint: String
    public var plan: InvokePlan
    public var sent: Int
    public var done: Int
    public var failed: Int
    public var cancelled: Bool

    public init(id: Int, endpoint: String, plan: InvokePlan, sent: Int, done: Int, failed: Int, cancelled: Bool) {
        self.id = id
        self.endpoint = endpoint
        self.plan = plan
        self.sent = sent
        self.done = done
        self.failed = failed
        self.cancelled = cancelled
    }
}

public struct InvocationLogSnapshot: Sendable, Equatable {
    /// Newest first, at most 200.
    public var records: [InvocationRecord] = []
    public var running: [PlanStatus] = []
    public var total = 0
    public var inFlight = 0
    public init() {}
}

/// Fires test invocations off the UI thread: one, a burst of N concurrent, or a ramp of N per second,
/// never more than `maxInFlight` at once; `cancelAll` stops what has not been sent. Every result goes
/// to the log (for the pane) and to `sink` (the dashboard's event path, or stdout for `bfftop invoke`).
public final class InvocationRunner: Sendable {
    public let settings: InvokeSettings
    private let control: (any ControlChannel)?
    private let sink: @Sendable (InvocationRecord) -> Void
    private let slots: DispatchSemaphore
    private let state = Mutex(State())

    private struct State {
        // Every change to what the pane shows bumps `generation`, so the UI copies only when it moved.
        var records: [InvocationRecord] = [] { didSet { generation &+= 1 } }
        var plans: [Int: PlanStatus] = [:] { didSet { generation &+= 1 } }
        var nextID = 1
        var nextPlan = 1
        var total = 0
        var inFlight = 0 { didSet { generation &+= 1 } }
        var generation = 0
    }

    public init(settings: InvokeSettings = InvokeSettings(), control: (any ControlChannel)? = nil,
                sink: @escaping @Sendable (InvocationRecord) -> Void = { _ in }) {
        self.settings = settings
        self.control = control
        self.sink = sink
        // Created at 0 and signalled up (libdispatch traps on releasing a semaphore below its initial value).
        self.slots = DispatchSemaphore(value: 0)
        for _ in 0..<max(1, settings.maxInFlight) { slots.signal() }
    }

    /// Refuses plans over the caps (the message says which); otherwise starts and returns the plan id.
    public func start(endpoint: String, target: InvokeTarget, plan: InvokePlan, record: Bool = false) -> Result<Int, InvokeFailure> {
        switch plan {
        case .once: break
        case .burst(let n):
            guard n >= 1, n <= settings.maxBurst else { return .failure(.other("a burst of \(n) is over the cap of \(settings.maxBurst) ([invoke] max_burst)")) }
        case .ramp(let r, let s):
            guard r > 0, r <= settings.maxRate else { return .failure(.other("a ramp of \(formatFixed(r, 1))/s is over the cap of \(formatFixed(settings.maxRate, 0))/s ([invoke] max_rate)")) }
            guard s > 0, s <= settings.maxRampSeconds else { return .failure(.other("a ramp of \(formatFixed(s, 0)) s is longer than \(formatFixed(settings.maxRampSeconds, 0)) s ([invoke] max_ramp)")) }
        }
        if case .control = target, control?.canInvoke(endpoint) != true { return .failure(.noEmitter(endpoint: endpoint)) }
        let planID = state.withLock { s -> Int in
            let id = s.nextPlan
            s.nextPlan += 1
            s.plans[id] = PlanStatus(id: id, endpoint: endpoint, plan: plan, sent: 0, done: 0, failed: 0, cancelled: false)
            return id
        }
        switch plan {
        case .once, .burst:
            for _ in 0..<plan.count { fire(endpoint, target, planID, record) }
        case .ramp(let rate, _):
            startThread(name: "bfftop-ramp") { [self] in
                let start = monotonicSeconds()
                for k in 0..<plan.count {
                    let due = start + Double(k) / rate
                    while monotonicSeconds() < due {
                        if cancelled(planID) { return }
                        usleep(UInt32(max(1000, min(50_000, (due - monotonicSeconds()) * 1e6))))
                    }
                    if cancelled(planID) { return }
                    fire(endpoint, target, planID, record)
                }
            }
        }
        return .success(planID)
    }

    private func cancelled(_ plan: Int) -> Bool { state.withLock { $0.plans[plan]?.cancelled ?? true } }

    private func fire(_ endpoint: String, _ target: InvokeTarget, _ plan: Int, _ record: Bool) {
        state.withLock { $0.plans[plan]?.sent += 1 }
        // A thread per request (not a dispatch queue, whose pool grows one thread at a time): a
        // burst must really arrive at once to provoke scale-out and cold starts.
        startThread(name: "bfftop-invoke", stackSize: 1 << 20) { [self] in
            slots.wait()
            defer { slots.signal() }
            guard !cancelled(plan) else {
                finishPlan(plan, failed: false)
                return
            }
            let id = state.withLock { s -> Int in
                s.inFlight += 1
                defer { s.nextID += 1 }
                return s.nextID
            }
            var rec = run(endpoint, target, id: id, plan: plan)
            rec.feed = record
            // Handed on before the request counts as finished: `waitUntilIdle` returning means every
            // result has been delivered (`bfftop invoke` printed its summary before a result line, and
            // exited without it, when this came last).
            sink(rec)
            state.withLock { s in
                s.inFlight -= 1
                s.total += 1
                s.records.append(rec)
                if s.records.count > 200 { s.records.removeFirst(s.records.count - 200) }
            }
            finishPlan(plan, failed: !rec.succeeded)
        }
    }

    private func finishPlan(_ plan: Int, failed: Bool) {
        state.withLock { s in
            guard var p = s.plans[plan] else { return }
            p.done += 1
            if failed { p.failed += 1 }
            s.plans[plan] = p
            let finished = p.done >= p.plan.count || (p.cancelled && p.done >= p.sent)
            if finished { s.plans[plan] = nil }
        }
    }

    func run(_ endpoint: String, _ target: InvokeTarget, id: Int, plan: Int) -> InvocationRecord {
        let started = wallClock()
        switch target {
        case .http(let r):
            return InvocationOutcome.record(HTTPClient.perform(r), endpoint: endpoint, target: target, id: id, plan: plan, started: started)
        case .lambda(let l):
            return InvocationOutcome.record(HTTPClient.perform(l.request), endpoint: endpoint, target: target, id: id, plan: plan, started: started)
        case .control:
            var rec = InvocationRecord(id: id, plan: plan, time: started, endpoint: endpoint, target: target.summary, status: nil,
                                       outcome: .error, latencyMs: 0, bytes: 0, coldStart: nil, error: nil, report: nil)
            switch control?.invoke(endpoint, payload: nil, timeout: 30) ?? .failure(.noEmitter(endpoint: endpoint)) {
            case .success(let reply):
                rec.status = reply.status
                rec.outcome = reply.outcome
                rec.latencyMs = reply.durationMs
                rec.bytes = reply.bytes
                rec.coldStart = reply.coldStart
                rec.error = reply.error
            case .failure(let f):
                rec.error = InvokeFailure(f).description
                rec.outcome = { if case .timeout = f { return .timeout }; return .error }()
                rec.latencyMs = (wallClock() - started) * 1000
            }
            return rec
        }
    }

    /// Stops every burst and ramp: nothing more is sent; requests already in flight finish.
    @discardableResult
    public func cancelAll() -> Int {
        state.withLock { s in
            var n = 0
            for (id, p) in s.plans where !p.cancelled {
                s.plans[id]?.cancelled = true
                n += 1
                if p.done >= p.sent { s.plans[id] = nil }
            }
            return n
        }
    }

    /// Changes whenever `snapshot` would.
    public var generation: Int { state.withLock { $0.generation } }

    public var snapshot: InvocationLogSnapshot {
        state.withLock { s in
            var out = InvocationLogSnapshot()
            out.records = s.records.reversed()
            out.running = s.plans.values.sorted { $0.id < $1.id }
            out.total = s.total
            out.inFlight = s.inFlight
            return out
        }
    }

    /// Waits until nothing is running or in flight (for `bfftop invoke`).
    public func waitUntilIdle(pollSeconds: Double = 0.02) {
        while true {
            let busy = state.withLock { !$0.plans.isEmpty || $0.inFlight > 0 }
            if !busy { return }
            usleep(UInt32(pollSeconds * 1e6))
        }
    }
}

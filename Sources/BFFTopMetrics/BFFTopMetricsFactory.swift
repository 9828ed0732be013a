#if canImport(Glibc)
import Glibc
#endif
import BFFTopProtocol
import CoreMetrics
import Synchronization

/// A swift-metrics backend that shows a Swift server in bfftop:
///
///     MetricsSystem.bootstrap(BFFTopMetricsFactory(service: "web-bff"))
///
/// Hummingbird 2's `MetricsMiddleware` and Vapor 4's responder metrics become routes with latency,
/// status, errors and concurrency:
/// - timers `http.server.request.duration` (Hummingbird; `http.route`, `http.request.method`,
///   `http.response.status_code`), `http_request_duration_seconds` (Vapor; `method`, `path`, `status`)
///   and Hummingbird 1's `hb_request_duration` (`hb_method`, `hb_uri`) → one invocation per request;
/// - `hb.request.errors` (Hummingbird records no timer for a thrown error) → a failed invocation;
/// - meter `http.server.active_requests` → the server's concurrency (endpoint `<service> (all routes)`).
/// Request counters are not sent (the timers count requests), nor are labels it does not know
/// (counted in `unmapped`).
///
/// It never blocks or slows the server: a record is a dictionary lookup (handlers are cached, since
/// Vapor creates them per request) and an append to a bounded queue; a background thread writes to
/// the socket and reconnects when bfftop restarts; what does not fit the queue is counted in `dropped`.
///
/// It sends only to a bfftop of the same user: the default directory must be private, and the socket
/// and the process listening on it must be this user's (`SocketTrust`). Otherwise nothing is sent,
/// and `refusal` says why.
public final class BFFTopMetricsFactory: MetricsFactory, Sendable {
    public let socketPath: String
    public let service: String?
    let queue: EventQueue
    private let unmappedCount = Tally()

    public init(socketPath: String? = nil, service: String? = nil, capacity: Int = 65_536) {
        let location = socketPath.map { SocketLocation(path: $0) } ?? SocketLocation.fromProcessEnvironment()
        self.socketPath = location.path
        self.service = service
        self.queue = EventQueue(capacity: capacity)
        let q = queue
        startThread(name: "bfftop-metrics", stackSize: 1 << 20) { q.run(location: location) }
    }

    /// As bfftop resolves it: `$BFFTOP_SOCKET`, `$XDG_RUNTIME_DIR/bfftop.sock`, `/tmp/bfftop-$UID/bfftop.sock`.
    public static func defaultSocket() -> String { SocketLocation.fromProcessEnvironment().path }

    /// Why events are not being sent, when the socket was refused as not this user's (nil otherwise).
    public var refusal: String? { queue.refusal }

    /// Events not queued because the queue was full (bfftop away for long, or a flood).
    public var dropped: Int { queue.dropped }
    /// Events written to the socket.
    public var sent: Int { queue.sent }
    /// Metrics with labels this backend does not map.
    public var unmapped: Int { unmappedCount.n.load(ordering: .relaxed) }

    /// Writes what is queued (up to `timeout` seconds); for tests and shutdown.
    public func flush(timeout: Double = 2) { queue.flush(timeout: timeout) }

    public func shutdown() { queue.stop() }

    /// Vapor makes a new Counter/Timer per request: hand back the handler made for the same label and
    /// dimensions. One typed cache per kind (a dynamic cast per lookup cost more than the lookup).
    private let timers = Mutex<[String: TimerHandler & Sendable]>([:])
    private let counters = Mutex<[String: CounterHandler & Sendable]>([:])
    private let meters = Mutex<[String: MeterHandler & Sendable]>([:])
    private let recorders = Mutex<[String: RecorderHandler & Sendable]>([:])

    /// Frameworks pass dimensions in a fixed order, so the key keeps it (a different order only makes a
    /// second handler for the same route).
    @inline(__always) private static func key(_ label: String, _ dims: [(String, String)]) -> String {
        var key = label
        key.reserveCapacity(64)
        for (k, v) in dims {
            key += "\u{1}"
            key += k
            key += "="
            key += v
        }
        return key
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        let k = Self.key(label, dimensions)
        return timers.withLock { c in
            if let h = c[k] { return h }
            let h: TimerHandler & Sendable = RouteLabels(label: label, dimensions: dimensions).map {
                RequestTimer(route: $0, service: service, queue: queue)
            } ?? Unmapped(unmappedCount)
            c[k] = h
            return h
        }
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        let k = Self.key(label, dimensions)
        return counters.withLock { c in
            if let h = c[k] { return h }
            let h: CounterHandler & Sendable
            if label == "hb.request.errors" || label == "hb_errors", let route = RouteLabels(label: label, dimensions: dimensions) {
                h = ErrorCounter(route: route, service: service, queue: queue)
            } else if ["hb.requests", "hb_requests", "http_requests_total", "http_request_errors_total"].contains(label) {
                h = Unmapped(nil)  // the timers count requests
            } else {
                h = Unmapped(unmappedCount)
            }
            c[k] = h
            return h
        }
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> MeterHandler {
        let k = Self.key(label, dimensions)
        return meters.withLock { c in
            if let h = c[k] { return h }
            let h: MeterHandler & Sendable = label == "http.server.active_requests"
                ? ActiveRequests(endpoint: "\(service ?? "server") (all routes)", service: service, queue: queue) : Unmapped(unmappedCount)
            c[k] = h
            return h
        }
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        let k = Self.key(label, dimensions)
        return recorders.withLock { c in
            if let h = c[k] { return h }
            let h = Unmapped(unmappedCount)
            c[k] = h
            return h
        }
    }

    public func destroyCounter(_ handler: CounterHandler) {}
    public func destroyMeter(_ handler: MeterHandler) {}
    public func destroyRecorder(_ handler: RecorderHandler) {}
    public func destroyTimer(_ handler: TimerHandler) {}
}

/// What a request metric says about its route.
struct RouteLabels: Sendable {
    var endpoint: String
    var status: Int?

    init?(label: String, dimensions: [(String, String)]) {
        func dim(_ keys: String...) -> String? { keys.lazy.compactMap { k in dimensions.first { $0.0 == k }?.1 }.first }
        switch label {
        case "http.server.request.duration", "hb.request.errors":
            guard let route = dim("http.route"), let method = dim("http.request.method") else { return nil }
            endpoint = "\(method) \(route)"
            status = dim("http.response.status_code", "error.type").flatMap { Int($0) }
        case "http_request_duration_seconds":
            guard let path = dim("path"), let method = dim("method") else { return nil }
            endpoint = "\(method) \(path)"
            status = dim("status").flatMap { Int($0) }
        case "hb_request_duration", "hb_errors":
            guard let uri = dim("hb_uri"), let method = dim("hb_method") else { return nil }
            endpoint = "\(method) \(uri)"
            status = nil
        default:
            return nil
        }
    }

    var outcome: Outcome {
        guard let s = status else { return .ok }
        return s == 429 ? .throttle : (s == 504 || s == 408) ? .timeout : s >= 500 ? .error : .ok
    }
}

final class RequestTimer: TimerHandler, Sendable {
    let route: RouteLabels
    let service: String?
    let queue: EventQueue
    init(route: RouteLabels, service: String?, queue: EventQueue) {
        self.route = route
        self.service = service
        self.queue = queue
    }

    func recordNanoseconds(_ duration: Int64) {
        let ms = Double(max(0, duration)) / 1e6
        queue.push(.invocation(Invocation(
            ts: wallClock() - ms / 1000, service: service, endpoint: route.endpoint, kind: .route, durationMs: ms,
            outcome: route.outcome, status: route.status, error: route.outcome == .ok ? nil : route.status.map { "HTTP \($0)" })))
    }
}

final class ErrorCounter: CounterHandler, Sendable {
    let route: RouteLabels
    let service: String?
    let queue: EventQueue
    init(route: RouteLabels, service: String?, queue: EventQueue) {
        self.route = route
        self.service = service
        self.queue = queue
    }

    func increment(by n: Int64) {
        guard n > 0 else { return }
        let outcome = route.outcome == .ok ? Outcome.error : route.outcome
        // Hummingbird records no duration for a request that threw, only this counter: these
        // failures are requests of their own, not among the timed ones.
        queue.push(.outcomes(OutcomeCount(ts: wallClock(), endpoint: route.endpoint, kind: .route, outcome: outcome,
                                          count: Int(n), service: service, untimed: true)))
    }

    func reset() {}
}

final class ActiveRequests: MeterHandler, Sendable {
    let endpoint: String
    let service: String?
    let queue: EventQueue
    private let value = Mutex<Double>(0)
    init(endpoint: String, service: String?, queue: EventQueue) {
        self.endpoint = endpoint
        self.service = service
        self.queue = queue
    }

    private func publish(_ v: Double) {
        queue.push(.concurrency(ConcurrencyGauge(ts: wallClock(), endpoint: endpoint, value: max(0, v), service: service, kind: .route)))
    }

    func set(_ v: Int64) { set(Double(v)) }
    func set(_ v: Double) {
        value.withLock { $0 = v }
        publish(v)
    }

    func increment(by d: Double) { publish(value.withLock { $0 += d; return $0 }) }
    func decrement(by d: Double) { publish(value.withLock { $0 -= d; return $0 }) }
}

final class Tally: Sendable {
    let n = Atomic<Int>(0)
    func add() { n.add(1, ordering: .relaxed) }
}

/// Metrics this backend does not send; each use is counted (nil: deliberately ignored, not counted).
final class Unmapped: CounterHandler, TimerHandler, RecorderHandler, MeterHandler, Sendable {
    let tally: Tally?
    init(_ tally: Tally?) { self.tally = tally }
    func increment(by: Int64) { tally?.add() }
    func reset() {}
    func recordNanoseconds(_ duration: Int64) { tally?.add() }
    func record(_ value: Int64) { tally?.add() }
    func record(_ value: Double) { tally?.add() }
    func set(_ value: Int64) { tally?.add() }
    func set(_ value: Double) { tally?.add() }
    func increment(by: Double) { tally?.add() }
    func decrement(by: Double) { tally?.add() }
}

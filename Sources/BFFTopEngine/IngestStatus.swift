import Synchronization
import BFFTopWire

/// One connected emitter (or one subscription) as the header and tests see it.
public struct ConnectionStatus: Sendable, Equatable {
    public var id: Int
    public var origin: String
    public var lines: Int
    public var events: Int
    public var malformed: Int
    public var lastError: String?

    public init(id: Int, origin: String, lines: Int = 0, events: Int = 0, malformed: Int = 0, lastError: String? = nil) {
        self.id = id
        self.origin = origin
        self.lines = lines
        self.events = events
        self.malformed = malformed
        self.lastError = lastError
    }
}

public struct MalformedLine: Sendable, Equatable {
    public var connection: Int
    public var origin: String
    public var reason: String
    /// The first bytes of the offending line, printable.
    public var excerpt: String
    /// When it arrived (set as it is counted).
    public var time: Double

    public init(connection: Int, origin: String, reason: String, excerpt: String, time: Double = 0) {
        self.connection = connection
        self.origin = origin
        self.reason = reason
        self.excerpt = excerpt
        self.time = time
    }
}

public struct SubscriptionStatus: Sendable, Equatable {
    public var path: String
    public var connected: Bool
    public var lastError: String?
    public var attempts: Int

    package init(path: String, connected: Bool, lastError: String?, attempts: Int) {
        self.path = path
        self.connected = connected
        self.lastError = lastError
        self.attempts = attempts
    }
}

/// What the OTLP receivers did with spans: exports taken and refused, and how function spans
/// found their routes (the trace linker).
public struct OTLPStatus: Sendable, Equatable {
    public var exports = 0
    public var spans = 0
    /// Exports answered "busy, retry" because the engine was behind (the exporter sends them again).
    public var busy = 0
    /// Invocations waiting now for the spans above them.
    public var held = 0
    /// Invocations delivered after waiting, with their route; delivered without one after waiting.
    public var linkedLate = 0
    public var unlinked = 0
    /// Metric exports and their data points (of every metric, read or not).
    public var metricExports = 0
    public var points = 0
    /// Points of metrics bfftop reads that name no endpoint (no route, no function).
    public var pointsSkipped = 0
    /// Cumulative streams whose first point was a baseline (they began before bfftop listened).
    public var baselines = 0
    /// Metric streams differenced now.
    public var streams = 0
    /// Log exports and their records.
    public var logExports = 0
    public var logRecords = 0
    public init() {}
}

/// A point-in-time copy of the ingest counters.
public struct IngestStatus: Sendable, Equatable {
    public var listenPath: String?
    public var connections: [ConnectionStatus] = []
    public var subscriptions: [SubscriptionStatus] = []
    public var totalConnections = 0
    public var lines = 0
    public var events = 0
    public var malformed = 0
    public var bytes = 0
    public var lastMalformed: MalformedLine?
    /// The most recent malformed lines, oldest first (at most `IngestStatus.recentMalformedCapacity`).
    public var recentMalformed: [MalformedLine] = []
    public static let recentMalformedCapacity = 50
    /// Connections closed on arrival because the process was out of file descriptors.
    public var shedConnections = 0
    /// Present when a DogStatsD listener runs.
    public var dogstatsd: DogStatsDStatus?
    /// Listeners other machines can reach (only with `--listen-beyond-loopback`): the header names them.
    public var beyondLoopback: [String] = []
    /// What else this dashboard listens for, in words ("and OpenTelemetry over OTLP/HTTP on 127.0.0.1:4318").
    public var receivers: [String] = []
    /// Present when an OTLP receiver runs.
    public var otlp: OTLPStatus?

    public init(listenPath: String? = nil) { self.listenPath = listenPath }

    public var connected: Int { connections.count + subscriptions.filter(\.connected).count }
}

/// Shared, lock-protected ingest counters. Connections update their own entry once per read
/// (not per line), so the lock is cold.
public final class IngestStats: Sendable {
    private let state: Mutex<IngestStatus>
    private let nextID = Atomic<Int>(1)

    public init(listenPath: String? = nil) {
        state = Mutex(IngestStatus(listenPath: listenPath))
    }

    public func snapshot() -> IngestStatus { state.withLock { $0 } }

    package func setListenPath(_ p: String?) { state.withLock { $0.listenPath = p } }

    package func dogstatsd(_ body: (inout DogStatsDStatus) -> Void) {
        state.withLock { s in
            var d = s.dogstatsd ?? DogStatsDStatus()
            body(&d)
            s.dogstatsd = d
        }
    }

    package func dogstatsdMalformed(_ m: MalformedLine) {
        let now = wallClock()
        state.withLock { s in
            s.lastMalformed = m
            s.keepRecent([m], at: now)
            s.dogstatsd?.malformed += 1
        }
    }

    package func open(origin: String) -> Int {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        state.withLock {
            $0.connections.append(ConnectionStatus(id: id, origin: origin, lines: 0, events: 0, malformed: 0))
            $0.totalConnections += 1
        }
        return id
    }

    package func listeningBeyondLoopback(_ address: String) { state.withLock { $0.beyondLoopback.append(address) } }

    package func receiving(_ what: String) { state.withLock { $0.receivers.append(what) } }

    package func otlp(_ body: (inout OTLPStatus) -> Void) {
        state.withLock { s in
            var o = s.otlp ?? OTLPStatus()
            body(&o)
            s.otlp = o
        }
    }

    package func connectionShed() { state.withLock { $0.shedConnections += 1 } }

    package func close(_ id: Int) {
        state.withLock { $0.connections.removeAll { $0.id == id } }
    }

    package func record(_ id: Int, lines: Int, events: Int, bytes: Int, malformed: [MalformedLine]) {
        let now = malformed.isEmpty ? 0 : wallClock()
        state.withLock { s in
            s.lines += lines
            s.events += events
            s.bytes += bytes
            s.malformed += malformed.count
            if let last = malformed.last { s.lastMalformed = last }
            if !malformed.isEmpty { s.keepRecent(malformed, at: now) }
            if let i = s.connections.firstIndex(where: { $0.id == id }) {
                s.connections[i].lines += lines
                s.connections[i].events += events
                s.connections[i].malformed += malformed.count
                if let last = malformed.last { s.connections[i].lastError = last.reason }
            }
        }
    }

    package func updateSubscription(_ sub: SubscriptionStatus) {
        state.withLock { s in
            if let i = s.subscriptions.firstIndex(where: { $0.path == sub.path }) {
                s.subscriptions[i] = sub
            } else {
                s.subscriptions.append(sub)
            }
        }
    }
}

/// Where decoded events go. The engine's mailbox implements it; tests can collect directly.
public protocol EventSink: Sendable {
    func deliver(_ batch: WireEventBatch)
    /// Whether `count` more events would be taken now. Receivers whose clients retry (OTLP) ask
    /// first and answer "busy, retry" instead of dropping.
    func hasRoom(for count: Int) -> Bool
}

extension EventSink {
    public func hasRoom(for count: Int) -> Bool { true }
}

extension IngestStatus {
    /// Keeps the newest malformed lines, stamped with when they were counted.
    mutating func keepRecent(_ lines: [MalformedLine], at now: Double) {
        for var m in lines.suffix(Self.recentMalformedCapacity) {
            if m.time == 0 { m.time = now }
            recentMalformed.append(m)
        }
        if recentMalformed.count > Self.recentMalformedCapacity { recentMalformed.removeFirst(recentMalformed.count - Self.recentMalformedCapacity) }
    }
}

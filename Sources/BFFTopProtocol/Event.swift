/// The event model every decoder produces and every later stage consumes.
/// Value types only: events cross threads (ingest -> aggregation) as immutable values.

public enum Outcome: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case ok, error, timeout, throttle

    public var description: String {
        switch self {
        case .ok: "ok"
        case .error: "error"
        case .timeout: "timeout"
        case .throttle: "throttle"
        }
    }

    public init?(name: String) {
        switch name {
        case "ok": self = .ok
        case "error": self = .error
        case "timeout": self = .timeout
        case "throttle": self = .throttle
        default: return nil
        }
    }
}

public enum EndpointKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// A BFF endpoint (an HTTP route or GraphQL operation).
    case route
    /// A serverless function the BFF calls.
    case function

    public var description: String { self == .route ? "route" : "function" }
}

public enum Architecture: UInt8, Sendable, CustomStringConvertible {
    case x86_64, arm64
    public var description: String { self == .x86_64 ? "x86_64" : "arm64" }
}

/// One finished invocation of a route or a function.
/// The largest values an event may carry. Beyond them a figure is a unit mistake or garbage (a
/// `ts` in milliseconds is ~1.7e12), and times that large would overflow the whole-second clock
/// that buckets, alarms and replay run on; decoders refuse such events.
public enum WireLimits {
    /// Unix seconds: the year 5138.
    public static let maxTimestamp = 1e11
    /// Durations, init, billed and timeout figures in milliseconds (about 115 days), memory in MB.
    public static let maxFigure = 1e10

    /// The largest count one message may carry (a DogStatsD counter increment, an EMF `Errors`
    /// value, bytes of a reply): beyond it the figure is garbage, and sums of such counts could
    /// overflow the counters they are added to.
    public static let maxCount = 1_000_000_000

    /// `v` as a count: a finite number in 0 … `maxCount`, rounded to the nearest whole number;
    /// nil otherwise (the decoder refuses the message and says why). Never traps, whatever `v` is.
    @inline(always) public static func count(_ v: Double) -> Int? {
        v >= 0 && v <= Double(maxCount) ? Int(v.rounded()) : nil
    }

    /// `v` as a whole number within `range` (an id, a status code); nil when it is not one.
    public static func integer(_ v: Double, in range: ClosedRange<Int>) -> Int? {
        guard v == v.rounded(), v >= Double(range.lowerBound), v <= Double(range.upperBound), abs(v) < 9e15 else { return nil }
        return Int(v)
    }

    /// Absent, or 0 … `maxFigure`.
    @inline(always) public static func admits(figure v: Double?) -> Bool { v.map { $0 >= 0 && $0 <= maxFigure } ?? true }

    /// Whether an invocation decoded from a function log or a metric fits the limits.
    public static func admits(_ i: Invocation) -> Bool {
        i.ts >= 0 && i.ts < maxTimestamp && admits(figure: i.durationMs) && admits(figure: i.billedMs) && admits(figure: i.memoryMB)
            && admits(figure: i.maxMemoryMB) && admits(figure: i.initMs) && admits(figure: i.timeoutMs)
    }

    /// Invocations by `admits`; other events pass.
    public static func admits(_ e: WireEvent) -> Bool {
        if case .invocation(let i) = e { admits(i) } else { true }
    }
}

public struct Invocation: Sendable, Equatable {
    /// Start time, Unix seconds.
    public var ts: Double
    public var service: String?
    public var endpoint: String
    public var kind: EndpointKind
    public var durationMs: Double
    public var billedMs: Double?
    public var memoryMB: Double?
    public var maxMemoryMB: Double?
    public var coldStart: Bool
    public var initMs: Double?
    public var outcome: Outcome
    public var status: Int?
    public var error: String?
    public var timeoutMs: Double?
    public var traceID: String?
    /// The BFF route that called this function (fan-out).
    public var parent: String?
    public var arch: Architecture?
    /// Pairs with a `start` event carrying the same id.
    public var id: String?
    /// Traffic fired from bfftop itself (test invocations).
    public var test: Bool
    /// Its place in a distributed trace, when the emitter says (request waterfalls).
    public var span: SpanContext?
    /// How many invocations alike this stands for when it comes from an aggregate (a histogram
    /// bucket of OTLP metrics): 1 … `WireLimits.maxCount`, counted, timed and priced that many
    /// times, and never in concurrency (their start times are not known). nil: one invocation, seen.
    public var count: Int?

    public init(
        ts: Double, service: String? = nil, endpoint: String, kind: EndpointKind = .route,
        durationMs: Double, billedMs: Double? = nil, memoryMB: Double? = nil, maxMemoryMB: Double? = nil,
        coldStart: Bool = false, initMs: Double? = nil, outcome: Outcome = .ok, status: Int? = nil,
        error: String? = nil, timeoutMs: Double? = nil, traceID: String? = nil, parent: String? = nil,
        arch: Architecture? = nil, id: String? = nil, test: Bool = false, span: SpanContext? = nil
    ) {
        self.ts = ts
        self.service = service
        self.endpoint = endpoint
        self.kind = kind
        self.durationMs = durationMs
        self.billedMs = billedMs
        self.memoryMB = memoryMB
        self.maxMemoryMB = maxMemoryMB
        self.coldStart = coldStart
        self.initMs = initMs
        self.outcome = outcome
        self.status = status
        self.error = error
        self.timeoutMs = timeoutMs
        self.traceID = traceID
        self.parent = parent
        self.arch = arch
        self.id = id
        self.test = test
        self.span = span
    }

    /// End time, Unix seconds: when the invocation was known to have finished.
    @inlinable public var endTs: Double { ts + durationMs / 1000 }

    /// Failed for lack of memory: a runtime's OOM message or Lambda's `Runtime.OutOfMemory`.
    public var isOutOfMemory: Bool {
        guard outcome != .ok, let e = error else { return false }
        return e.contains("OutOfMemory") || e.contains("out of memory") || e.contains("MemoryError") || e.contains("OOM")
    }
}

/// An invocation that has started and not finished yet.
public struct InFlightStart: Sendable, Equatable {
    public var ts: Double
    public var endpoint: String
    public var id: String
    public var service: String?
    public var kind: EndpointKind?

    public init(ts: Double, endpoint: String, id: String, service: String? = nil, kind: EndpointKind? = nil) {
        self.ts = ts
        self.endpoint = endpoint
        self.id = id
        self.service = service
        self.kind = kind
    }
}

/// A concurrency reading reported directly by an emitter.
public struct ConcurrencyGauge: Sendable, Equatable {
    public var ts: Double
    public var endpoint: String
    public var value: Double
    public var limit: Double?
    public var service: String?
    public var kind: EndpointKind?

    public init(
        ts: Double, endpoint: String, value: Double, limit: Double? = nil, service: String? = nil,
        kind: EndpointKind? = nil
    ) {
        self.ts = ts
        self.endpoint = endpoint
        self.value = value
        self.limit = limit
        self.service = service
        self.kind = kind
    }
}

/// Failed invocations known only as a count (a DogStatsD `errors` counter): no duration, no latency sample.
public struct OutcomeCount: Sendable, Equatable {
    public var ts: Double
    public var endpoint: String
    public var kind: EndpointKind?
    public var outcome: Outcome
    public var count: Int
    public var service: String?
    /// Cold starts known only as a count (EMF `ColdStart`); with `count` 0 they belong to invocations counted elsewhere.
    public var coldStarts: Int
    /// Whether these failures are requests that have no timing of their own (Hummingbird records no
    /// duration for a request that threw): then they count as requests too. Otherwise (the default,
    /// as APM tools count hits and errors) they are among the requests the timings count.
    public var untimed: Bool
    /// Initializations known only from a histogram (OTLP `faas.init_duration`): `inits` of them
    /// took `initMs` each. Init times only: the cold starts they were are counted by `coldStarts`
    /// (here or on another event), never by these.
    public var inits: Int
    public var initMs: Double?
    /// The most memory any of the invocations counted at this time used (OTLP `faas.mem_usage`).
    public var maxMemoryMB: Double?

    public init(ts: Double, endpoint: String, kind: EndpointKind? = nil, outcome: Outcome, count: Int, service: String? = nil, coldStarts: Int = 0,
                untimed: Bool = false, inits: Int = 0, initMs: Double? = nil, maxMemoryMB: Double? = nil) {
        self.coldStarts = coldStarts
        self.untimed = untimed
        self.inits = inits
        self.initMs = initMs
        self.maxMemoryMB = maxMemoryMB
        self.ts = ts
        self.endpoint = endpoint
        self.kind = kind
        self.outcome = outcome
        self.count = count
        self.service = service
    }
}

public enum WireEvent: Sendable, Equatable {
    case invocation(Invocation)
    case start(InFlightStart)
    case concurrency(ConcurrencyGauge)
    case outcomes(OutcomeCount)

    public var endpoint: String {
        switch self {
        case .invocation(let i): i.endpoint
        case .start(let s): s.endpoint
        case .concurrency(let c): c.endpoint
        case .outcomes(let o): o.endpoint
        }
    }

    /// The time the event describes as "now" for the aggregator: end for invocations.
    public var eventTime: Double {
        switch self {
        case .invocation(let i): i.endTs
        case .start(let s): s.ts
        case .concurrency(let c): c.ts
        case .outcomes(let o): o.ts
        }
    }
}

import BFFTopWire

/// What the UI asks the aggregator for on each refresh.
public struct SnapshotRequest: Sendable, Equatable {
    public var window: Window
    /// Endpoint whose detail series (chart, histogram, fan-out) to include.
    public var detailFor: String?
    /// Leave bfftop's own test invocations out of the figures (applies to events from now on).
    public var hideTestTraffic = false

    public init(window: Window = .oneMinute, detailFor: String? = nil) {
        self.window = window
        self.detailFor = detailFor
    }
}

/// Figures for one endpoint over one window. All rates are per second over the part of the window
/// that has data (so a dashboard started 10 s ago does not show a sixth of the real rate).
public struct EndpointFigures: Sendable, Equatable {
    public var name: String
    public var kind: EndpointKind
    public var service: String?
    public var count: Int
    /// Requests per second averaged over the window.
    public var rps: Double
    /// Requests per second now: over the last `Aggregator.nowSeconds` whole seconds (fewer while
    /// data has only just started), as htop's CPU% is a current rate and not an average.
    public var rpsNow: Double = 0
    public var p50: Double?
    public var p90: Double?
    public var p95: Double?
    public var p99: Double?
    public var max: Double?
    public var mean: Double?
    public var ok: Int
    public var errors: Int
    public var timeouts: Int
    public var throttles: Int
    public var cold: Int
    public var test: Int
    /// Of the failures, those known only from a counter (no duration, message or time of their own).
    public var countedFailures = 0
    public var initP50: Double?
    public var initP99: Double?
    public var concurrencyNow: Double
    public var concurrencyPeak: Double
    public var concurrencyLimit: Double?
    /// Whether anything said when its invocations ran: false for an endpoint known only from
    /// histograms and counters (OTLP metrics, error counters), whose concurrency is unknown, not 0.
    public var concurrencyKnown = true
    public var memoryMB: Double?
    public var maxMemoryUsedMB: Double?
    public var timeoutMs: Double?
    public var maxTimeoutRatio: Double
    public var cost: Double
    public var costRequests: Double
    public var costCompute: Double
    public var costPerHour: Double
    /// For routes: cost of the function invocations they caused (fan-out), over the window.
    public var fanOutCost: Double
    /// Invocations per second in each bucket of the window, oldest first.
    public var rpsSeries: [Double]
    public var lastSeen: Double
    public var totalCount: Int
    public var totalCost: Double
    /// Invocations that ran out of memory (runtime OOM messages or max memory = size).
    public var oom = 0
    public var provider: Provider = .awsLambdaX86
    /// Billable usage over the window.
    public var usage = Usage()
    public var provisionedPerHour: Double = 0
    public var latencyBudgetMs: Double?
    public var costBudgetPerHour: Double?
    /// Memory just above the observed max, when smaller than configured; and the compute saved per hour
    /// at the current rate if it were set (durations assumed unchanged: a lower bound on CPU-bound code).
    public var suggestedMemoryMB: Double?
    public var rightSizingSavingPerHour: Double?

    public var failures: Int { errors + timeouts + throttles }
    /// Share of requests that did not succeed, 0...1. Failures known only from a counter are among
    /// the timed requests (capped at all of them); with no request counted at all the share is
    /// unknown and reads 0 (views show the failures themselves).
    public var errorRate: Double { count > 0 ? min(1, Double(failures) / Double(count)) : 0 }
    public var coldRate: Double { count > 0 ? Double(cold) / Double(count) : 0 }
    public var costPerMillion: Double { count > 0 ? cost / Double(count) * 1_000_000 : 0 }
}

public struct FanOutShare: Sendable, Equatable {
    public var endpoint: String
    public var calls: Int
    public var cost: Double
    /// Share of the total attributed cost, 0...1.
    public var share: Double
}

/// Time series and distributions for the selected endpoint.
public struct EndpointDetail: Sendable, Equatable {
    public var name: String
    public var bucketSeconds: Int
    /// One entry per bucket of the window, oldest first; nil where the bucket had no invocations.
    public var p50Series: [Double?]
    public var p99Series: [Double?]
    public var countSeries: [Int]
    public var coldSeries: [Int]
    public var failureSeries: [Int]
    public var histogram: [HistogramBin]
    /// For a route: the functions it calls. For a function: the routes calling it.
    public var fanOut: [FanOutShare]
    public var calledBy: [FanOutShare]
    /// Exemplar traces (emitters that send span ids): the slowest of the last minute, then the most recent.
    public var traces: [TraceWaterfall] = []
}

public struct HistogramBin: Sendable, Equatable {
    public var lowerMs: Double
    public var upperMs: Double
    public var count: Int
}

/// A recent failed invocation, for the errors pane.
public struct FailureRecord: Sendable, Equatable {
    public var time: Double
    public var endpoint: String
    public var outcome: Outcome
    public var status: Int?
    public var message: String?
    public var durationMs: Double
    public var traceID: String?
}

public struct Totals: Sendable, Equatable {
    public var count: Int = 0
    public var rps: Double = 0
    public var rpsNow: Double = 0
    public var failures: Int = 0
    public var cold: Int = 0
    /// Cost over the window.
    public var cost: Double = 0
    public var costPerHour: Double = 0
    /// Cost of everything seen since the aggregator started.
    public var costSoFar: Double = 0
    /// A month at the current rate, with volume tiers and free grants if configured.
    public var projectedPerMonth: Double = 0
    public var provisionedPerHour: Double = 0
}

extension Totals {
    /// Adds one endpoint's figures over a window of `span` seconds: `costSoFar` is all it has cost
    /// since the start, and its usage goes to `usagePerHour` by provider (the monthly projection).
    mutating func add(_ f: EndpointFigures, costSoFar endpointCost: Double, provider: Provider, span: Double,
                      usagePerHour: inout [Provider: Usage]) {
        count += f.count
        rpsNow += f.rpsNow
        failures += f.failures
        cold += f.cold
        cost += f.cost
        costSoFar += endpointCost
        usagePerHour[provider, default: Usage()] = usagePerHour[provider, default: Usage()] + f.usage.scaled(3600 / span)
        provisionedPerHour += f.provisionedPerHour
    }
}

/// An immutable view of the aggregation at one instant, handed from the engine to the UI.
public struct AggregateSnapshot: Sendable, Equatable {
    public var now: Double
    public var request: SnapshotRequest
    public var endpoints: [EndpointFigures]
    public var totals: Totals
    public var recentFailures: [FailureRecord]
    public var detail: EndpointDetail?
    public var eventsAggregated: Int
    /// Events received and not counted, by reason.
    public var losses: AggregatorLosses
    /// About how many distinct names went to the overflow rows past the endpoint cap.
    public var endpointsOverCap: Int
    /// Traced spans taken, and what the trace store could not keep.
    public var traceStore = TraceStoreCounters()
    public var eventsDropped: Int { losses.total }

    public init(now: Double, request: SnapshotRequest, endpoints: [EndpointFigures], totals: Totals, recentFailures: [FailureRecord],
                detail: EndpointDetail?, eventsAggregated: Int, losses: AggregatorLosses = AggregatorLosses(), endpointsOverCap: Int = 0) {
        self.now = now
        self.request = request
        self.endpoints = endpoints
        self.totals = totals
        self.recentFailures = recentFailures
        self.detail = detail
        self.eventsAggregated = eventsAggregated
        self.losses = losses
        self.endpointsOverCap = endpointsOverCap
    }

    public static func empty(now: Double = 0) -> AggregateSnapshot {
        AggregateSnapshot(
            now: now, request: SnapshotRequest(), endpoints: [], totals: Totals(), recentFailures: [],
            detail: nil, eventsAggregated: 0)
    }
}

import BFFTopWire

public struct AggregatorConfig: Sendable {
    public var cost: CostModel = .awsLambda
    /// Per-endpoint settings from the config (memory, timeout, limits, provider, budgets), by pattern.
    public var functions: [FunctionSettings] = []
    /// Named endpoints are at most this many, so memory stays bounded whatever arrives; events of
    /// further names are counted (and priced) in one overflow row per kind (`Aggregator.overflowName`).
    // Each named endpoint keeps ~40 KB of time-tier buckets: 2,000 of them bound the worst case near
    // 100 MB, which a stream of unparameterised paths (`/users/123`) reaches in seconds.
    public var maxEndpoints = 2_000
    /// Live mode: an event claiming to end further than this past its receive time is pulled back
    /// to the receive time (an emitter with a fast clock would otherwise stay invisible).
    public var maxClockSkew: Double = 2
    /// An event claiming to end further than this past its receive time is not pulled back but
    /// refused (counted in `AggregatorLosses.future`): that is no skew, it is a wrong clock or unit.
    public var maxFutureSkew: Double = 600
    public var recentFailureCapacity = 200
    /// When data starts, for rates over a partly filled window; nil = the first event's time.
    public var startedAt: Double?
    /// Every endpoint also keeps one bucket over everything it took (`report --window all`); the
    /// windows' tiers reach back an hour at most.
    public var keepsLifetime = false

    public init() {}
}

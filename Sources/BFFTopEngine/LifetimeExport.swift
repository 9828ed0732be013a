import BFFTopStats

/// Everything the engine has taken since it started, per endpoint: what a Prometheus scrape reads
/// (counters must only grow, so windows will not do). Built on the engine thread on request.
public struct LifetimeExport: Sendable {
    public var snapshot: AggregateSnapshot
    /// Latency histograms with `bucketBoundsSeconds`, in `snapshot.endpoints`' order.
    public var histograms: [LatencyHistogram?]
    /// What the dashboard showed last (concurrency now, the window's rates).
    public var frame: EngineFrame

    /// OpenTelemetry's suggested bounds for `http.server.request.duration`, in seconds.
    public static let bucketBoundsSeconds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
}

extension Engine {
    public func lifetimeExport(now: Double, frame: EngineFrame) -> LifetimeExport {
        let snapshot = aggregator.lifetimeSnapshot(now: now)
        let histograms = aggregator.lifetimeHistograms(boundsMs: LifetimeExport.bucketBoundsSeconds.map { $0 * 1000 })
        return LifetimeExport(snapshot: snapshot, histograms: histograms, frame: frame)
    }
}

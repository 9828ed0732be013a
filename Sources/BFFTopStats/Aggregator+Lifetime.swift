/// `report --window all`: figures over everything each endpoint took (`AggregatorConfig.keepsLifetime`),
/// not over the last hour that the windows' tiers reach.
extension Aggregator {
    /// Every endpoint's figures over all the input, with totals over the span from the first event
    /// to `now`. Empty figures when the aggregator keeps no lifetimes.
    public func lifetimeSnapshot(now: Double) -> AggregateSnapshot {
        advance(to: now)
        let span = max(1, now - (dataStart ?? now))
        // Nothing in the tiers is read: a range no bucket is in.
        let none = Int64.min...Int64.min
        var fanOut = [Double](repeating: 0, count: endpoints.count)
        for i in endpoints.indices where endpoints[i].kind == .function {
            for p in endpoints[i].lifetime?.parents ?? [] { fanOut[Int(p.parent)] += p.cost }
        }
        var figures: [EndpointFigures] = []
        var totals = Totals()
        var usagePerHour: [Provider: Usage] = [:]
        endpoints.withUnsafeBufferPointer { all in for i in all.indices {
            let e = all.baseAddress! + i
            scratch.reset()
            initScratch.reset()
            var f = baseFigures(e)
            var maxUsed = 0.0
            if let life = e.pointee.lifetime {
                withUnsafePointer(to: life) { Self.add($0, to: &f, maxUsed: &maxUsed, sketchesInto: self) }
                f.concurrencyPeak = life.peakConcurrency
            }
            finish(&f, e, window: .oneHour, range: none, span: span, now: now, maxUsed: maxUsed, latency: true, forAlarms: false)
            f.fanOutCost = fanOut[i]
            totals.add(f, costSoFar: e.pointee.totalCost, provider: e.pointee.provider, span: span, usagePerHour: &usagePerHour)
            figures.append(f)
        } }
        totals.rps = Double(totals.count) / span
        totals.costPerHour = totals.cost / span * 3600 + totals.provisionedPerHour
        totals.projectedPerMonth = config.cost.projectedMonthly(costPerHour: totals.costPerHour, usagePerHour: usagePerHour)
        return AggregateSnapshot(
            now: now, request: SnapshotRequest(window: .oneHour), endpoints: figures, totals: totals, recentFailures: [],
            detail: nil, eventsAggregated: eventsAggregated, losses: losses, endpointsOverCap: endpointsOverCap)
    }
}

/// One endpoint's latency over everything it took, as a histogram with fixed bounds (Prometheus).
public struct LatencyHistogram: Sendable, Equatable {
    /// Values at or below each bound, in the bounds' order.
    public var cumulative: [UInt64]
    public var count: UInt64
    public var sumMs: Double
}

extension Aggregator {
    /// Each endpoint's lifetime latency histogram, in the order of `lifetimeSnapshot`'s endpoints;
    /// nil for an endpoint without a lifetime bucket.
    public func lifetimeHistograms(boundsMs: [Double]) -> [LatencyHistogram?] {
        endpoints.map { e in
            guard let l = e.lifetime?.latency else { return nil }
            return LatencyHistogram(cumulative: l.cumulativeCounts(atOrBelow: boundsMs), count: l.count, sumMs: l.sum)
        }
    }
}

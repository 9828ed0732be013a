/// What each metric stream added since its last point: OTLP SDKs export cumulative totals by
/// default (everything since the process started), bfftop counts what happened, so each stream's
/// last point is kept and the next one is differenced against it.
///
/// A stream is a metric of one resource with one set of attributes (all of them, hashed: two hosts
/// or two status codes are two streams). The first point of a stream that began before this
/// receiver started is only remembered (a baseline: its totals are not new); one that began after
/// counts whole. A total that went down, or a new start time, is a restart: the point counts whole
/// from its start. The table is bounded; streams pushed out are counted and start over.
public struct OTLPMetricStreams: Sendable {
    struct Key: Hashable {
        var name: OTLPMetricName
        var resource: UInt64
        var point: UInt64
    }

    struct Last {
        var startNs: UInt64
        var timeNs: UInt64
        var point: OTLPMetricPoint
    }

    private var last: [Key: Last] = [:]
    private var order: [Key] = []
    private var next = 0
    public let capacity: Int
    /// Streams that began before this receiver (Unix ns), whose first point is a baseline.
    let startedNs: UInt64
    public private(set) var baselines = 0
    public private(set) var restarts = 0
    public private(set) var evicted = 0

    public init(startedAt: Double, capacity: Int = 16_384) {
        startedNs = startedAt > 0 && startedAt < 1.8e10 ? UInt64(startedAt * 1e9) : 0
        self.capacity = max(1, capacity)
    }

    public var count: Int { last.count }

    /// What `p` (a point of `metric` of a resource) adds: the same point with counts (or value) and
    /// start time made those of the interval since the stream's last point; nil for a baseline.
    mutating func delta(_ p: OTLPMetricPoint, of metric: OTLPMetric, resource: UInt64) -> OTLPMetricPoint? {
        guard metric.temporality == 2 else { return p }  // delta (or unspecified: taken as it comes)
        let key = Key(name: metric.name, resource: resource, point: p.identity)
        let previous = last[key]
        remember(key, Last(startNs: p.startNs, timeNs: p.timeNs, point: p))
        guard let prev = previous else {
            // Began before bfftop listened (with a minute's grace): its totals are not news.
            if p.startNs == 0 || p.startNs + 60_000_000_000 < startedNs {
                baselines += 1
                return nil
            }
            return p
        }
        guard p.timeNs > prev.timeNs else { return nil }  // a repeat or an older point: nothing new
        if p.startNs != prev.startNs { return restarted(p) }
        var d = p
        d.startNs = prev.timeNs
        switch metric.kind {
        case .sum, .gauge:
            guard let v = p.value, let was = prev.point.value else { return nil }
            if metric.kind == .gauge { return p }
            guard v >= was else { return restarted(p) }
            d.value = v - was
        case .histogram:
            guard p.bounds == prev.point.bounds, p.bucketCounts.count == prev.point.bucketCounts.count,
                  let counts = subtract(p.bucketCounts, prev.point.bucketCounts) else { return restarted(p) }
            d.bucketCounts = counts
            d.count = counts.reduce(0, &+)
        case .exponentialHistogram:
            guard let e = subtractExponential(p, prev.point) else { return restarted(p) }
            d = e
            d.startNs = prev.timeNs
        case .other:
            return nil
        }
        return d
    }

    private mutating func restarted(_ p: OTLPMetricPoint) -> OTLPMetricPoint {
        restarts += 1
        return p
    }

    private mutating func remember(_ key: Key, _ l: Last) {
        if last.updateValue(l, forKey: key) != nil { return }
        if order.count < capacity {
            order.append(key)
        } else {
            last[order[next]] = nil
            evicted += 1
            order[next] = key
            next = (next + 1) % capacity
        }
    }

    private func subtract(_ a: [UInt64], _ b: [UInt64]) -> [UInt64]? {
        var out = [UInt64](repeating: 0, count: a.count)
        for i in a.indices {
            guard a[i] >= b[i] else { return nil }
            out[i] = a[i] - b[i]
        }
        return out
    }

    /// `p` minus `prev` at the coarser of their two scales (an SDK lowers the scale as values spread).
    private func subtractExponential(_ p: OTLPMetricPoint, _ prev: OTLPMetricPoint) -> OTLPMetricPoint? {
        let scale = min(p.scale, prev.scale)
        func at(_ q: OTLPMetricPoint) -> [Int64: UInt64] {
            let shift = Int64(q.scale) - Int64(scale)
            guard shift >= 0, shift < 64 else { return [:] }
            var m: [Int64: UInt64] = [:]
            for (i, c) in q.positive.enumerated() where c > 0 { m[(Int64(q.positiveOffset) + Int64(i)) >> shift, default: 0] &+= c }
            return m
        }
        let now = at(p), before = at(prev)
        guard p.zeroCount >= prev.zeroCount, p.negativeCount >= prev.negativeCount else { return nil }
        var diff: [Int64: UInt64] = [:]
        for (k, c) in now {
            let b = before[k] ?? 0
            guard c >= b else { return nil }
            if c > b { diff[k] = c - b }
        }
        guard before.keys.allSatisfy({ now[$0] != nil }) else { return nil }
        var d = p
        d.scale = scale
        d.zeroCount = p.zeroCount - prev.zeroCount
        d.negativeCount = p.negativeCount - prev.negativeCount
        let lo = diff.keys.min() ?? 0, hi = diff.keys.max() ?? -1
        guard hi - lo < Int64(OTLPMetricPoint.maxBuckets), lo >= Int64(Int32.min), hi <= Int64(Int32.max) else { return nil }
        d.positiveOffset = Int32(lo)
        d.positive = hi >= lo ? (lo...hi).map { diff[$0] ?? 0 } : []
        d.count = d.positive.reduce(d.zeroCount, &+) &+ d.negativeCount
        return d
    }
}

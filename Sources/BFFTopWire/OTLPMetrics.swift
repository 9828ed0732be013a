#if canImport(Glibc)
import Glibc
#endif

/// OTLP metrics to events, by the semantic conventions:
/// - `http.server.request.duration` (and the older `http.server.duration`): a histogram per route
///   (`http.route`, `http.request.method`) and status becomes that route's requests;
/// - `faas.invoke_duration`: a function's invocations (`faas.name`, memory from `faas.max_memory`);
/// - `faas.coldstarts`, `faas.errors`, `faas.timeouts`: counted cold starts and failures of the
///   function's invocations (as DogStatsD's and EMF's counters are);
/// - `faas.init_duration`: the function's init times (each bucket's count at the bucket's value,
///   as for durations; the cold starts themselves are `faas.coldstarts`');
/// - `faas.mem_usage`: the most memory the function's invocations used (the top of the highest
///   non-empty bucket or the point's max, the smaller), for the memory column and right-sizing.
///
/// A histogram's requests are known only by bucket: each non-empty bucket becomes one invocation
/// that stands for its count (`Invocation.count`), at a value inside the bucket (the middle of the
/// bucket narrowed by the point's min and max; for exponential buckets the geometric middle). So a
/// percentile read from them is within half a bucket of the true one for explicit buckets, and
/// within a factor of base^½ for exponential ones (2.2 % at scale 5), plus the sketch's own 1 %.
/// The requests of an interval are spread evenly over its seconds (at most 60 slices), so current
/// rates read the interval's average rather than a spike at each export.
public enum OTLPMetrics {
    public struct Decoded: Sendable {
        public var events: [WireEvent] = []
        /// Points that should have been mapped but could not (the first reason kept).
        public var rejected = 0
        public var firstRejection: String?
        /// Points of metrics bfftop reads that are not endpoints (no route, no function name).
        public var skipped = 0
        public var points = 0
    }

    /// Events one export adds at most (its non-empty buckets times the slices they are spread over).
    public static let maxEvents = 200_000

    public static func map(_ export: OTLPMetricsExport, streams: inout OTLPMetricStreams) -> Decoded {
        var out = Decoded()
        out.points = export.points
        // First what each point adds (cumulative totals differenced), then how finely there is room to spread it.
        var deltas: [(OTLPMetric, OTLPMetricPoint, OTLPAttributes)] = []
        var buckets = 0
        for rm in export.resources {
            for m in rm.metrics {
                for p in m.points {
                    if p.hasNoRecordedValue { continue }
                    if p.tooManyBuckets {
                        out.reject("\(m.name.rawValue): more than \(OTLPMetricPoint.maxBuckets) buckets in one point")
                        continue
                    }
                    guard let d = streams.delta(p, of: m, resource: rm.identity) else { continue }
                    buckets += d.bucketCounts.count { $0 > 0 } + d.positive.count { $0 > 0 } + (d.zeroCount > 0 ? 1 : 0) + 1
                    deltas.append((m, d, rm.resource))
                }
            }
        }
        let slicesAllowed = max(1, min(60, maxEvents / max(1, buckets)))
        for (m, d, resource) in deltas {
            guard out.events.count < maxEvents else {
                out.reject("more than \(maxEvents) buckets in one export: split it")
                continue
            }
            map(m, d, resource: resource, slices: slicesAllowed, into: &out)
        }
        return out
    }

    static func map(_ m: OTLPMetric, _ p: OTLPMetricPoint, resource: OTLPAttributes, slices: Int, into out: inout Decoded) {
        let a = p.attributes
        let service = resource.string(.serviceName)
        let to = Double(p.timeNs) / 1e9
        let from = p.startNs > 0 && p.startNs < p.timeNs ? Double(p.startNs) / 1e9 : to
        guard p.timeNs > 0, to < WireLimits.maxTimestamp else {
            out.reject("\(m.name.rawValue): no valid timeUnixNano")
            return
        }
        switch m.name {
        case .httpServerRequestDuration, .httpServerDuration, .faasInvokeDuration:
            guard m.kind == .histogram || m.kind == .exponentialHistogram else {
                out.reject("\(m.name.rawValue): a \(m.kind) where a histogram belongs")
                return
            }
            guard let perUnit = m.millisecondsPerUnit else {
                out.reject("\(m.name.rawValue): unit \"\(m.unit)\" is not a duration")
                return
            }
            var template: Invocation
            if m.name == .faasInvokeDuration {
                guard let f = functionName(a, resource) else {
                    out.skipped += 1
                    return
                }
                let memory = (a.int(.faasMaxMemory) ?? resource.int(.faasMaxMemory)).map { Double($0) / 1_048_576 }
                template = Invocation(ts: from, service: service, endpoint: f, kind: .function, durationMs: 0, memoryMB: memory)
            } else {
                guard let route = a.route else {
                    out.skipped += 1  // a server's requests without a route (404s, static files): no endpoint
                    return
                }
                let status = a.httpStatus
                var outcome: Outcome = .ok
                if let st = status { outcome = st == 429 ? .throttle : (st == 504 || st == 408) ? .timeout : st >= 500 ? .error : .ok }
                if outcome == .ok, status.map({ $0 >= 500 }) ?? true, a.string(.errorType) != nil { outcome = .error }
                template = Invocation(ts: from, service: service, endpoint: route, kind: .route, durationMs: 0, outcome: outcome, status: status)
            }
            if p.negativeCount > 0 {
                out.reject("\(m.name.rawValue): \(p.negativeCount) negative durations")
            }
            let values = m.kind == .histogram ? explicitBuckets(p) : exponentialBuckets(p)
            guard let values else {
                out.reject("\(m.name.rawValue): bucket counts do not match the bounds")
                return
            }
            for (value, count) in values where count > 0 {
                let ms = value * perUnit
                guard count <= UInt64(WireLimits.maxCount) else {
                    out.reject("\(m.name.rawValue): a bucket of \(count) requests (more than 1e9 in one interval)")
                    continue
                }
                guard ms.isFinite, ms >= 0, ms <= WireLimits.maxFigure else {
                    out.reject("\(m.name.rawValue): a bucket's value is out of range")
                    continue
                }
                var outOfRange = false
                spread(count, over: from, to, slices: slices) { end, n in
                    var inv = template
                    inv.durationMs = ms
                    inv.ts = end - ms / 1000
                    inv.count = n
                    // A time near zero less a duration is before 1970: garbage, refused.
                    guard WireLimits.admits(inv) else {
                        outOfRange = true
                        return
                    }
                    out.events.append(.invocation(inv))
                }
                if outOfRange { out.reject("\(m.name.rawValue): requests that would start before 1970 (a point's time is wrong)") }
            }
        case .faasInitDuration, .faasMemUsage:
            mapFunctionFigures(m, p, resource: resource, at: to, into: &out)
        case .faasColdstarts, .faasErrors, .faasTimeouts:
            guard m.kind == .sum, let v = p.value else {
                out.reject("\(m.name.rawValue): not a counter")
                return
            }
            guard let f = functionName(a, resource) else {
                out.skipped += 1
                return
            }
            guard let n = WireLimits.count(v) else {
                out.reject("\(m.name.rawValue): \(v) is not a count")
                return
            }
            guard n > 0 else { return }
            let e = m.name == .faasColdstarts
                ? OutcomeCount(ts: to, endpoint: f, kind: .function, outcome: .ok, count: 0, service: service, coldStarts: n)
                : OutcomeCount(ts: to, endpoint: f, kind: .function, outcome: m.name == .faasErrors ? .error : .timeout, count: n, service: service)
            out.events.append(.outcomes(e))
        }
    }

    /// `faas.init_duration` (init times, at each bucket's value) and `faas.mem_usage` (the most
    /// memory used) of one function, as counted outcomes that add figures and no requests.
    static func mapFunctionFigures(_ m: OTLPMetric, _ p: OTLPMetricPoint, resource: OTLPAttributes, at to: Double, into out: inout Decoded) {
        let a = p.attributes
        guard m.kind == .histogram || m.kind == .exponentialHistogram else {
            out.reject("\(m.name.rawValue): a \(m.kind) where a histogram belongs")
            return
        }
        guard let f = functionName(a, resource) else {
            out.skipped += 1
            return
        }
        let service = resource.string(.serviceName)
        let values = m.kind == .histogram ? explicitBuckets(p) : exponentialBuckets(p)
        guard let values else {
            out.reject("\(m.name.rawValue): bucket counts do not match the bounds")
            return
        }
        if m.name == .faasMemUsage {
            guard let perUnit = m.mebibytesPerUnit else {
                out.reject("\(m.name.rawValue): unit \"\(m.unit)\" is not a size")
                return
            }
            // The most the interval's invocations used is at most the top of its highest non-empty
            // bucket and at most the point's max (of the whole stream when cumulative): the smaller
            // of the two, so it never reads low. No values this interval: nothing to say.
            guard values.contains(where: { $0.1 > 0 }) else { return }
            let bucketTop = highestBucketTop(p, m.kind)
            guard let top = [bucketTop, p.max].compactMap({ $0 }).min() else { return }
            let mb = top * perUnit
            guard mb.isFinite, WireLimits.admits(figure: mb) else {
                out.reject("\(m.name.rawValue): \(top) is not a memory size")
                return
            }
            out.events.append(.outcomes(OutcomeCount(ts: to, endpoint: f, kind: .function, outcome: .ok, count: 0, service: service, maxMemoryMB: mb)))
            return
        }
        guard let perUnit = m.millisecondsPerUnit else {
            out.reject("\(m.name.rawValue): unit \"\(m.unit)\" is not a duration")
            return
        }
        for (value, count) in values where count > 0 {
            let ms = value * perUnit
            guard count <= UInt64(WireLimits.maxCount), ms.isFinite, WireLimits.admits(figure: ms) else {
                out.reject("\(m.name.rawValue): a bucket's count or value is out of range")
                continue
            }
            out.events.append(.outcomes(OutcomeCount(
                ts: to, endpoint: f, kind: .function, outcome: .ok, count: 0, service: service, inits: Int(count), initMs: ms)))
        }
    }

    /// The function a `faas.*` point is about: `faas.name` on the point, else on its resource.
    static func functionName(_ a: OTLPAttributes, _ resource: OTLPAttributes) -> String? {
        guard let f = a.string(.faasName) ?? resource.string(.faasName), !f.isEmpty else { return nil }
        return f
    }

    /// The upper end of the highest non-empty bucket (nil when none is, or it is unbounded).
    static func highestBucketTop(_ p: OTLPMetricPoint, _ kind: OTLPMetric.Kind) -> Double? {
        if kind == .histogram {
            guard let i = p.bucketCounts.lastIndex(where: { $0 > 0 }), i < p.bounds.count else { return nil }
            return p.bounds[i]
        }
        guard p.scale >= -10, p.scale <= 20, let i = p.positive.lastIndex(where: { $0 > 0 }) else { return p.zeroCount > 0 ? 0 : nil }
        return pow(pow(2, pow(2, -Double(p.scale))), Double(Int64(p.positiveOffset) + Int64(i) + 1))
    }

    /// Each explicit bucket's value (the middle of what it holds, narrowed by min and max) and count;
    /// nil when there is not one bound fewer than counts.
    static func explicitBuckets(_ p: OTLPMetricPoint) -> [(Double, UInt64)]? {
        let b = p.bounds
        guard p.bucketCounts.count == b.count + 1, b.allSatisfy(\.isFinite) else { return b.isEmpty && p.bucketCounts.count == 1 ? whole(p) : nil }
        return p.bucketCounts.enumerated().map { i, c in
            var lo = i == 0 ? 0 : b[i - 1]
            var hi = i == b.count ? (p.max ?? b[b.count - 1]) : b[i]
            if let mn = p.min, mn > lo, mn <= hi { lo = mn }
            if let mx = p.max, mx < hi, mx >= lo { hi = mx }
            return (max(0, (lo + hi) / 2), c)
        }
    }

    /// A histogram with one bucket: all its values at their mean (or min … max's middle).
    static func whole(_ p: OTLPMetricPoint) -> [(Double, UInt64)] {
        let c = p.bucketCounts.first ?? 0
        let mean = p.sum.map { c > 0 ? $0 / Double(c) : 0 } ?? ((p.min ?? 0) + (p.max ?? 0)) / 2
        return [(max(0, mean), c)]
    }

    /// Each exponential bucket's geometric middle (narrowed by min and max) and count, the zero bucket at 0.
    static func exponentialBuckets(_ p: OTLPMetricPoint) -> [(Double, UInt64)]? {
        guard p.scale >= -10, p.scale <= 20 else { return nil }
        let base = pow(2, pow(2, -Double(p.scale)))
        var out: [(Double, UInt64)] = p.zeroCount > 0 ? [(0, p.zeroCount)] : []
        for (i, c) in p.positive.enumerated() where c > 0 {
            let index = Double(Int64(p.positiveOffset) + Int64(i))
            var lo = pow(base, index), hi = pow(base, index + 1)
            if let mn = p.min, mn > lo, mn <= hi { lo = mn }
            if let mx = p.max, mx < hi, mx >= lo { hi = mx }
            out.append(((lo * hi).squareRoot(), c))
        }
        return out
    }

    /// `count` split evenly over `slices` parts of from…to (each part's end and share; none empty).
    static func spread(_ count: UInt64, over from: Double, _ to: Double, slices: Int, _ body: (Double, Int) -> Void) {
        let span = to - from
        let k = span >= 1 ? min(slices, Int(span.rounded(.up))) : 1
        let total = count  // ≤ WireLimits.maxCount (the caller checks)
        var given: UInt64 = 0
        for j in 0..<k {
            let upTo = total * UInt64(j + 1) / UInt64(k)
            let n = upTo - given
            given = upTo
            if n > 0 { body(from + span * Double(j + 1) / Double(k), Int(n)) }
        }
    }
}

extension OTLPMetrics.Decoded {
    mutating func reject(_ why: String) {
        rejected += 1
        if firstRejection == nil { firstRejection = why }
    }
}

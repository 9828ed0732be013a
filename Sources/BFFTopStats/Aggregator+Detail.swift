import BFFTopWire

/// The selected endpoint's detail (series, histogram, callers and callees) and the current rate.
extension Aggregator {
    /// The span of the current rate (`EndpointFigures.rpsNow`), in whole seconds.
    public static let nowSeconds = 5

    /// Requests per second over the last `nowSeconds` whole seconds before `now` (the current,
    /// partial second left out: it would read low), from the one-second tier and the stage; over
    /// fewer seconds while data has only just started.
    func rateNow(_ e: UnsafePointer<EndpointState>, now: Double) -> Double {
        let s = wholeSecond(now)
        let first = max(s - Int64(Self.nowSeconds), dataStart.map { wholeSecond($0) } ?? s)
        guard first < s else {
            // Data began this second: its count over the time it has run.
            var n = 0
            e.pointee.forEachPart(resolution: 1, in: s...s) { n += Int($0.pointee.count) }
            return Double(n) / max(1, now - (dataStart ?? now))
        }
        var n = 0
        e.pointee.forEachPart(resolution: 1, in: first...(s - 1)) { n += Int($0.pointee.count) }
        return Double(n) / Double(s - first)
    }

    func detail(_ e: EndpointState, window w: Window, range: ClosedRange<Int64>) -> EndpointDetail {
        var d = EndpointDetail(
            name: e.name, bucketSeconds: w.resolution, p50Series: [], p99Series: [], countSeries: [],
            coldSeries: [], failureSeries: [], histogram: [], fanOut: [], calledBy: [])
        guard let ring = e.tier(resolution: w.resolution) else { return d }
        scratch.reset()
        var callers: [Int32: (calls: Int, cost: Double)] = [:]
        for index in range {
            let b = e.bucket(in: ring, index: index)
            d.p50Series.append(b?.latency.quantile(0.5))
            d.p99Series.append(b?.latency.quantile(0.99))
            d.countSeries.append(Int(b?.count ?? 0))
            d.coldSeries.append(Int(b?.cold ?? 0))
            d.failureSeries.append(Int(b.map { $0.outcomes.error + $0.outcomes.timeout + $0.outcomes.throttle } ?? 0))
            if let b {
                scratch.add(b.latency)
                for p in b.parents {
                    callers[p.parent, default: (0, 0)].calls += Int(p.calls)
                    callers[p.parent, default: (0, 0)].cost += p.cost
                }
            }
        }
        d.histogram = scratch.histogram().map { HistogramBin(lowerMs: $0.lower, upperMs: $0.upper, count: Int($0.count)) }
        d.calledBy = shares(callers)
        // Functions this endpoint calls: scan functions' buckets for this parent.
        var callees: [Int32: (calls: Int, cost: Double)] = [:]
        for f in endpoints where f.kind == .function && f.id != e.id {
            f.forEachPart(resolution: w.resolution, in: range) { b in
                for p in b.pointee.parents where p.parent == e.id {
                    callees[f.id, default: (0, 0)].calls += Int(p.calls)
                    callees[f.id, default: (0, 0)].cost += p.cost
                }
            }
        }
        d.fanOut = shares(callees)
        return d
    }

    func shares(_ m: [Int32: (calls: Int, cost: Double)]) -> [FanOutShare] {
        let total = m.values.reduce(0) { $0 + $1.cost }
        return m.map { id, v in
            FanOutShare(endpoint: endpoints[Int(id)].name, calls: v.calls, cost: v.cost, share: total > 0 ? v.cost / total : 0)
        }.sorted { ($0.cost, $0.calls, $1.endpoint) > ($1.cost, $1.calls, $0.endpoint) }
    }

}

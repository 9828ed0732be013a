import BFFTopWire

/// Turns events into per-endpoint, per-window figures. Single owner: not thread-safe by design;
/// one engine thread (live) or one replay loop feeds it and asks for snapshots.
public final class Aggregator {
    // Set only by `reconfigure` (a config reload), on the engine thread; read per event: no run-time
    // exclusivity checks (a `let` before reloads existed; the check cost replay a third of its engine half).
    @exclusivity(unchecked) public internal(set) var config: AggregatorConfig {
        didSet { charging.pointee = config.cost.charging }
    }
    /// `config.cost`'s per-invocation prices, kept apart in memory of their own and read in place
    /// for every event: a copy of the cost model retained and released its tables each time, and a
    /// copy of these 600 bytes of prices was a `memmove` each time (both seen in `perf`).
    let charging: UnsafeMutablePointer<ChargeModel>
    // The properties every event touches skip the run-time exclusivity check (a thread-local
    // access-set insert per access, ~15 % of replay's aggregation): one thread owns this object
    // (see above) and no method hands out a reference into them.
    @exclusivity(unchecked) var endpoints: [EndpointState] = []
    var ids: [String: Int32] = [:]
    private var failures: [FailureRecord] = []
    private var failureHead = 0
    @exclusivity(unchecked) private(set) var dataStart: Double?
    @exclusivity(unchecked) private var aggregated = 0
    @exclusivity(unchecked) var lost = AggregatorLosses()
    /// Staged invocations that every tier refused when their stage was flushed (see
    /// `EndpointState.record`): counted as aggregated when staged, so moved to the losses.
    @exclusivity(unchecked) private var refusedAtFlush = 0
    /// The newest time seen: an event's receive time, else its own (replay of files without one).
    /// Events older than `history` behind it are refused, so no event can make the aggregator work
    /// or allocate per second of the time between it and now.
    @exclusivity(unchecked) var clock = -Double.infinity
    let clockSkew: Double
    let futureSkew: Double
    /// The overflow endpoint of each kind (`EndpointKind.rawValue`), once past the cap.
    var overflowIDs: [Int32] = [-1, -1]
    var overCap = DistinctEstimate()
    public var eventsAggregated: Int { aggregated - refusedAtFlush }
    public var losses: AggregatorLosses {
        var l = lost
        l.expired += refusedAtFlush
        return l
    }
    public var eventsDropped: Int { losses.total }
    /// About how many distinct names went to the overflow rows (exact up to 256).
    public var endpointsOverCap: Int { overCap.count }

    /// How far behind the newest time events are still counted: the span of the longest tier
    /// (64 one-minute buckets), beyond which no window can show them.
    /// (A literal: a computed static is a lazy global, a `swift_once` check on every event.)
    public static let history: Double = 3840

    /// The row that counts the events of names past the endpoint cap, per kind.
    public static func overflowName(_ kind: EndpointKind) -> String { kind == .route ? "(other routes)" : "(other functions)" }
    @exclusivity(unchecked) var scratch = SketchAccumulator()
    /// Traced spans and each endpoint's exemplar traces (request waterfalls).
    @exclusivity(unchecked) var traces = TraceStore()
    @exclusivity(unchecked) var initScratch = SketchAccumulator()

    public init(config: AggregatorConfig = AggregatorConfig()) {
        self.config = config
        charging = .allocate(capacity: 1)
        charging.initialize(to: config.cost.charging)
        clockSkew = config.maxClockSkew
        futureSkew = config.maxFutureSkew
        self.dataStart = config.startedAt
    }

    deinit {
        charging.deinitialize(count: 1)
        charging.deallocate()
    }

    public var endpointCount: Int { endpoints.count }

    // MARK: - Ingest

    public func ingest(_ events: [WireEvent], receivedAt: Double? = nil) {
        for e in events { ingest(e, receivedAt: receivedAt) }
    }

    /// Test invocations are skipped (and counted in `testHidden`) while this is on.
    @exclusivity(unchecked) public var hideTestTraffic = false
    @exclusivity(unchecked) public internal(set) var testHidden = 0

    public func ingest(_ event: WireEvent, receivedAt: Double? = nil) {
        if case .invocation(let inv) = event {
            if hideTestTraffic, inv.test {
                testHidden += 1
                return
            }
            // Judged before the endpoint exists: a refused event must not leave an empty row behind.
            guard admit(skewCorrected(inv.endTs, receivedAt: receivedAt), claimed: inv.endTs, receivedAt: receivedAt) else { return }
            let id = endpointID(inv.endpoint, kind: inv.kind)
            let p = PreparedInvocation(
                inv, receivedAt: receivedAt, pricing: endpoints[Int(id)].pricing, charging: charging, maxClockSkew: config.maxClockSkew)
            var parentID: Int32?
            if let parent = inv.parent, parent != inv.endpoint { parentID = endpointID(parent, kind: .route) }
            if let n = inv.count {
                // Many alike (a histogram bucket): counted, timed and priced that many times at once.
                if p.time < dataStart ?? .infinity { dataStart = p.time }
                if endpoints[Int(id)].recordMany(p, count: n, parentID: parentID, service: inv.service, refused: &refusedAtFlush) {
                    aggregated += 1
                } else {
                    lost.tooOld += 1
                }
                return
            }
            apply(p, id: id, parentID: parentID, service: inv.service, inFlightID: inv.id)
            if let span = inv.span { trace(p, id: id, span: span, status: inv.status.map { Int16(clamping: $0) } ?? -1, text: inv.traceID) }
            if inv.outcome != .ok { noteFailure(inv, at: p.time) }
            return
        }
        let t = skewCorrected(event.eventTime, receivedAt: receivedAt)
        guard admit(t, claimed: event.eventTime, receivedAt: receivedAt) else { return }
        let kind: EndpointKind? = switch event {
        case .invocation(let i): i.kind
        case .start(let s): s.kind
        case .concurrency(let c): c.kind
        case .outcomes(let o): o.kind
        }
        let id = endpointID(event.endpoint, kind: kind)
        if t < dataStart ?? .infinity { dataStart = t }
        switch event {
        case .invocation: break
        case .start(let s):
            endpoints[Int(id)].noteKind(s.kind, service: s.service)
            endpoints[Int(id)].concurrency.begin(id: s.id, at: t)
            endpoints[Int(id)].concurrencyKnown = true
            endpoints[Int(id)].lastSeen = max(endpoints[Int(id)].lastSeen, t)
            aggregated += 1
        case .concurrency(var g):
            g.ts = t
            endpoints[Int(id)].recordGauge(g, refused: &refusedAtFlush)
            endpoints[Int(id)].concurrencyKnown = true
            aggregated += 1
        case .outcomes(let o):
            endpoints[Int(id)].noteKind(o.kind, service: o.service)
            if endpoints[Int(id)].recordOutcomes(
                o.outcome, count: o.count, coldStarts: o.coldStarts, untimed: o.untimed, inits: o.inits, initMs: o.initMs, maxMemoryMB: o.maxMemoryMB,
                at: t, refused: &refusedAtFlush) {
                aggregated += 1
            } else {
                lost.tooOld += 1
            }
        }
    }

    /// Records a priced invocation on its endpoint (and its interval for concurrency).
    func apply(_ p: PreparedInvocation, id: Int32, parentID: Int32?, service: String?, inFlightID: String?) {
        if p.time < dataStart ?? .infinity { dataStart = p.time }
        if endpoints[Int(id)].record(p, parentID: parentID, service: service, refused: &refusedAtFlush) {
            aggregated += 1
        } else {
            lost.tooOld += 1
        }
        endpoints[Int(id)].concurrency.finish(id: inFlightID, start: p.start, end: p.time)
    }

    private func noteFailure(_ inv: Invocation, at t: Double) {
        let r = FailureRecord(
            time: t, endpoint: inv.endpoint, outcome: inv.outcome, status: inv.status, message: inv.error,
            durationMs: inv.durationMs, traceID: inv.traceID)
        if failures.count < config.recentFailureCapacity {
            failures.append(r)
        } else {
            failures[failureHead] = r
            failureHead = (failureHead + 1) % failures.count
        }
    }

    /// Brings derived state (concurrency peaks) up to `now` and forgets what fell out of the horizon.
    public func advance(to now: Double) {
        for i in endpoints.indices {
            endpoints[i].refreshConcurrency(now: now, refused: &refusedAtFlush)
            endpoints[i].trimPastBuckets(now: now)
        }
        caughtUpSecond = wholeSecond(now)
    }

    /// How often, in seconds of event time, `passTime` brings concurrency up to date.
    static let concurrencyCatchUpSeconds: Int64 = 5
    @exclusivity(unchecked) private var caughtUpSecond = Int64.min

    /// For replay and report, at each new second of event time: past buckets give back their
    /// spare memory, and concurrency catches up every `concurrencyCatchUpSeconds` (its sorted
    /// times stay short). Peaks are exact whenever they are brought up to date — a query does that
    /// (`advance`), and alarm rules for the endpoints they read — so catching up every second only
    /// swept each second's starts three times over: a quarter of replay's aggregation.
    public func passTime(to now: Double) {
        let second = wholeSecond(now)
        guard second >= caughtUpSecond &+ Self.concurrencyCatchUpSeconds else {
            for i in endpoints.indices { endpoints[i].trimPastBuckets(now: now) }
            return
        }
        advance(to: now)
    }

    // MARK: - Queries

    public func snapshot(_ request: SnapshotRequest, now: Double) -> AggregateSnapshot {
        advance(to: now)
        let w = request.window
        let range = w.bucketRange(now: now)
        let windowStart = Double(range.lowerBound) * Double(w.resolution)
        let span = max(1, now - max(windowStart, dataStart ?? now))
        let fanOut = fanOutCosts(window: w, range: range)
        var figures: [EndpointFigures] = []
        figures.reserveCapacity(endpoints.count)
        var totals = Totals()
        var usagePerHour: [Provider: Usage] = [:]
        // Through a pointer to each endpoint: `for e in endpoints` copied each one (a dozen retains).
        endpoints.withUnsafeBufferPointer { all in for i in all.indices {
            let e = all.baseAddress! + i
            var f = self.figures(e, window: w, range: range, span: span, now: now)
            f.fanOutCost = fanOut[Int(e.pointee.id)]
            totals.add(f, costSoFar: e.pointee.totalCost, provider: e.pointee.provider, span: span, usagePerHour: &usagePerHour)
            figures.append(f)
        } }
        totals.rps = Double(totals.count) / span
        totals.costPerHour = totals.cost / span * 3600 + totals.provisionedPerHour
        totals.projectedPerMonth = config.cost.projectedMonthly(costPerHour: totals.costPerHour, usagePerHour: usagePerHour)
        let recent = Array(failures[failureHead...] + failures[..<failureHead]).reversed()
        var detail: EndpointDetail?
        if let name = request.detailFor, let id = ids[name] {
            detail = self.detail(endpoints[Int(id)], window: w, range: range)
            detail?.traces = waterfalls(of: id, now: now)
        }
        var snapshot = AggregateSnapshot(
            now: now, request: request, endpoints: figures, totals: totals, recentFailures: Array(recent),
            detail: detail, eventsAggregated: eventsAggregated, losses: losses, endpointsOverCap: endpointsOverCap)
        snapshot.traceStore = traces.counters
        return snapshot
    }

    /// Every endpoint's figures over one window (no detail, no fan-out): what alarm rules read.
    /// `latency: false` skips the percentile sketches.
    public func figures(window w: Window, now: Double, latency: Bool = true) -> [EndpointFigures] {
        advance(to: now)
        return windowFigures(w, now: now, latency: latency, forAlarms: false)
    }

    /// What alarm rules read each second: concurrency is brought up to date only where a rule can
    /// read it (`concurrency`: there is a rule on it, and only endpoints with a known limit have a
    /// value to judge).
    func alarmFigures(window w: Window, now: Double, latency: Bool, concurrency: Bool) -> [EndpointFigures] {
        if concurrency {
            for i in endpoints.indices where endpoints[i].limit != nil {
                endpoints[i].refreshConcurrency(now: now, refused: &refusedAtFlush)
            }
        }
        let range = w.bucketRange(now: now)
        let span = self.span(range, resolution: w.resolution, now: now)
        var out: [EndpointFigures] = []
        out.reserveCapacity(endpoints.count)
        // In place: reading `endpoints[i]` as an argument copied the whole state (every array in it retained).
        endpoints.withUnsafeMutableBufferPointer { all in
            for i in all.indices {
                let k = all[i].slidingTotals(w, range: range)
                out.append(alarmFigures(all.baseAddress! + i, totals: k, window: w, range: range, span: span, now: now, latency: latency))
            }
        }
        return out
    }

    /// One endpoint's figures for the rules: the window's settled buckets from its running totals
    /// (`SlidingWindow`, number `k` of the endpoint's), the newest buckets and the stage read fresh.
    /// The same figures as a full read of the window, at the cost of two buckets instead of sixty.
    private func alarmFigures(_ ep: UnsafeMutablePointer<EndpointState>, totals k: Int, window w: Window, range: ClosedRange<Int64>,
                              span: Double, now: Double, latency: Bool) -> EndpointFigures {
        // Reads through `ep` first, then writes to the running histogram: a read of the endpoint
        // (a method call on `ep.pointee`) while a closure wrote to it made the compiler copy the
        // whole endpoint, and the write then copied its running totals (a third of the cost).
        var f = baseFigures(ep)
        var maxUsed = 0.0
        // The newest buckets (at most `freshBuckets`, two) and the stage: added to the figures,
        // and their latencies to the running histogram just for this read (taken out again below).
        let freshLow = max(range.lowerBound, range.upperBound - SlidingWindow.freshBuckets + 1)
        let stageIndex = floorDiv(ep.pointee.stage.index, Int64(w.resolution))
        var fresh = InlineArray<3, UnsafePointer<Bucket>?>(repeating: nil)
        let freshMax = fresh.count - 1
        var freshCount = 0
        ep.pointee.forEachBucket(resolution: w.resolution, in: freshLow...range.upperBound) { b in
            if freshCount < freshMax { fresh[freshCount] = b }
            freshCount += 1
        }
        assert(freshCount <= freshMax, "freshBuckets grew past the room kept for them")
        freshCount = min(freshCount, freshMax)
        if ep.pointee.stage.count > 0, range.contains(stageIndex) {
            fresh[freshCount] = EndpointState.stage(of: ep)
            freshCount += 1
        }
        ep.pointee.sliding.withUnsafeMutableBufferPointer { all in
            let window = all.baseAddress! + k
            let sums = window.pointee.sums
            let extrema = window.pointee.extrema
            f.count = sums.count
            f.ok = sums.ok
            f.errors = sums.error
            f.timeouts = sums.timeout
            f.throttles = sums.throttle
            f.cold = sums.cold
            f.test = sums.test
            f.countedFailures = sums.countedFailures
            f.oom = sums.oom
            f.costRequests = sums.costRequests
            f.costCompute = sums.costCompute
            f.maxTimeoutRatio = extrema.maxTimeoutRatio
            f.concurrencyPeak = extrema.peakConcurrency
            maxUsed = extrema.maxMemoryUsedMB
            var (lowest, highest) = (extrema.latencyMin, extrema.latencyMax)
            for i in 0..<freshCount {
                guard let b = fresh[i] else { continue }
                Self.add(b, to: &f, maxUsed: &maxUsed, sketchesInto: nil)
                if latency, b.pointee.latency.count > 0 {
                    window.pointee.addFresh(b, sign: 1)
                    lowest = min(lowest, b.pointee.latency.min)
                    highest = max(highest, b.pointee.latency.max)
                }
            }
            guard latency else { return }
            let q = window.pointee.latency.quantiles(Self.alarmQuantiles, lowest: lowest, highest: highest)
            (f.p50, f.p90, f.p95, f.p99) = (q[0], q[1], q[2], q[3])
            f.max = f.p50 == nil ? nil : highest
            for i in 0..<freshCount {
                if let b = fresh[i], b.pointee.latency.count > 0 { window.pointee.addFresh(b, sign: -1) }
            }
        }
        finish(&f, ep, window: w, range: range, span: span, now: now, maxUsed: maxUsed, latency: false, forAlarms: true)
        return f
    }

    private static let alarmQuantiles = [0.5, 0.9, 0.95, 0.99]


    /// Seconds of data a window over `range` holds at `now` (at least 1): less than its length
    /// while data has only just started.
    private func span(_ range: ClosedRange<Int64>, resolution: Int, now: Double) -> Double {
        let windowStart = Double(range.lowerBound) * Double(resolution)
        return max(1, now - max(windowStart, dataStart ?? now))
    }

    /// `forAlarms`: only what rules read — no per-bucket series, and the concurrency running now
    /// only where a limit makes it matter (the rules run every second, for every endpoint).
    private func windowFigures(_ w: Window, now: Double, latency: Bool, forAlarms: Bool) -> [EndpointFigures] {
        let range = w.bucketRange(now: now)
        let span = self.span(range, resolution: w.resolution, now: now)
        return endpoints.withUnsafeBufferPointer { all in
            all.indices.map { figures(all.baseAddress! + $0, window: w, range: range, span: span, now: now, latency: latency, forAlarms: forAlarms) }
        }
    }

    /// (`e` by pointer, as in `baseFigures`.)
    private func figures(_ e: UnsafePointer<EndpointState>, window w: Window, range: ClosedRange<Int64>, span: Double, now: Double,
                         latency: Bool = true, forAlarms: Bool = false) -> EndpointFigures {
        scratch.reset()
        initScratch.reset()
        var f = baseFigures(e)
        guard let ring = e.pointee.tier(resolution: w.resolution) else { return f }
        var maxUsed = 0.0
        if !forAlarms { f.rpsSeries.reserveCapacity(w.bucketCount) }
        ring.forEach(in: range) { _, bp in
            if !forAlarms { f.rpsSeries.append(bp.map { Double($0.pointee.count) / Double(w.resolution) } ?? 0) }
            if let bp { Self.add(bp, to: &f, maxUsed: &maxUsed, sketchesInto: latency ? self : nil) }
        }
        // The newest second's invocations, not yet in the tiers.
        let stageIndex = floorDiv(e.pointee.stage.index, Int64(w.resolution))
        if e.pointee.stage.count > 0, range.contains(stageIndex) {
            if !forAlarms { f.rpsSeries[Int(stageIndex - range.lowerBound)] += Double(e.pointee.stage.count) / Double(w.resolution) }
            Self.add(EndpointState.stage(of: e), to: &f, maxUsed: &maxUsed, sketchesInto: latency ? self : nil)
        }
        finish(&f, e, window: w, range: range, span: span, now: now, maxUsed: maxUsed, latency: latency, forAlarms: forAlarms)
        if !forAlarms { f.rpsNow = rateNow(e, now: now) }
        return f
    }

    /// An endpoint's figures before any bucket is added: what it is and what the config says.
    /// `e` by pointer, every field read through it: an `EndpointState` passed as an argument was
    /// copied whole (a retain of every array in it, and the alarm path's next write to its
    /// running totals then copied those too), a third of judging the rules each second.
    func baseFigures(_ e: UnsafePointer<EndpointState>) -> EndpointFigures {
        var f = EndpointFigures(
            name: e.pointee.name, kind: e.pointee.kind, service: e.pointee.service, count: 0, rps: 0, ok: 0, errors: 0, timeouts: 0,
            throttles: 0, cold: 0, test: 0, concurrencyNow: 0, concurrencyPeak: 0, concurrencyLimit: e.pointee.limit,
            memoryMB: e.pointee.memoryMB, timeoutMs: e.pointee.timeoutMs, maxTimeoutRatio: 0, cost: 0, costRequests: 0,
            costCompute: 0, costPerHour: 0, fanOutCost: 0, rpsSeries: [], lastSeen: e.pointee.lastSeen,
            totalCount: e.pointee.totalCount, totalCost: e.pointee.totalCost)
        f.provider = e.pointee.provider
        f.concurrencyKnown = e.pointee.concurrencyKnown
        f.latencyBudgetMs = e.pointee.settings?.latencyBudgetMs
        f.costBudgetPerHour = e.pointee.settings?.costBudgetPerHour
        f.provisionedPerHour = config.cost.provisionedPerHour(e.pointee.settings, memoryMB: e.pointee.memoryMB)
        return f
    }

    /// What follows from the added buckets: peaks, rates, cost, right-sizing, percentiles, concurrency.
    func finish(_ f: inout EndpointFigures, _ e: UnsafePointer<EndpointState>, window w: Window, range: ClosedRange<Int64>,
                        span: Double, now: Double, maxUsed: Double, latency: Bool, forAlarms: Bool) {
        f.concurrencyPeak = max(f.concurrencyPeak, e.pointee.provisionalPeak(resolution: w.resolution, in: range))
        f.rps = Double(f.count) / span
        f.cost = f.costRequests + f.costCompute
        f.costPerHour = f.cost / span * 3600 + f.provisionedPerHour
        f.maxMemoryUsedMB = maxUsed > 0 ? maxUsed : nil
        if let used = f.maxMemoryUsedMB, let size = f.memoryMB, e.pointee.kind == .function {
            // Right-sizing: the next 64 MB step above the observed max plus 10 % headroom (min 128 MB).
            let suggested = max(128, ((used * 1.1) / 64).rounded(.up) * 64)
            if suggested < size {
                f.suggestedMemoryMB = suggested
                f.rightSizingSavingPerHour = f.costCompute / span * 3600 * (1 - suggested / size)
            }
        }
        if latency {
            let q = scratch.quantiles([0.5, 0.9, 0.95, 0.99, 1])
            (f.p50, f.p90, f.p95, f.p99, f.max) = (q[0], q[1], q[2], q[3], q[4])
            if !forAlarms {
                f.mean = scratch.count > 0 ? scratch.sum / Double(scratch.count) : nil
                let iq = initScratch.quantiles([0.5, 0.99])
                (f.initP50, f.initP99) = (iq[0], iq[1])
            }
        }
        if !forAlarms || e.pointee.limit != nil {
            f.concurrencyNow = concurrencyNow(e, now: now)
            f.concurrencyPeak = max(f.concurrencyPeak, f.concurrencyNow)
        }
    }

    /// Adds one bucket's figures (a static function of its arguments: a local function capturing
    /// the figures made every access to them a dynamic exclusivity check).
    @inline(__always)
    static func add(_ b: UnsafePointer<Bucket>, to f: inout EndpointFigures, maxUsed: inout Double,
                            sketchesInto aggregator: Aggregator?, initDurations: Bool = true) {
        f.count += Int(b.pointee.count)
        f.ok += Int(b.pointee.outcomes.ok)
        f.errors += Int(b.pointee.outcomes.error)
        f.timeouts += Int(b.pointee.outcomes.timeout)
        f.throttles += Int(b.pointee.outcomes.throttle)
        f.cold += Int(b.pointee.cold)
        f.test += Int(b.pointee.test)
        f.countedFailures += Int(b.pointee.countedFailures)
        f.costRequests += b.pointee.costRequests
        f.costCompute += b.pointee.costCompute
        f.oom += Int(b.pointee.oom)
        f.usage.requests += Double(b.pointee.billed)
        f.usage.gbSeconds += b.pointee.gbSeconds
        f.usage.vcpuSeconds += b.pointee.vcpuSeconds
        maxUsed = max(maxUsed, b.pointee.maxMemoryUsedMB)
        f.maxTimeoutRatio = max(f.maxTimeoutRatio, b.pointee.maxTimeoutRatio)
        f.concurrencyPeak = max(f.concurrencyPeak, b.pointee.peakConcurrency)
        if let aggregator {
            // In place: `b.pointee.latency` as an argument was a copy (four retains and releases
            // a bucket, a quarter of judging a latency rule).
            aggregator.scratch.add(UnsafeRawPointer(b).advanced(by: Bucket.latencyOffset).assumingMemoryBound(to: LatencySketch.self))
            if initDurations {
                aggregator.initScratch.add(UnsafeRawPointer(b).advanced(by: Bucket.initOffset).assumingMemoryBound(to: LatencySketch.self))
            }
        }
    }

    /// A fresh gauge wins; otherwise what is running now (in-flight starts) or, if more, the peak of
    /// the last complete second (finished invocations are only known after they end).
    private func concurrencyNow(_ e: UnsafePointer<EndpointState>, now: Double) -> Double {
        if let g = e.pointee.gauge, now - g.at <= 5 { return g.value }
        let running = Double(e.pointee.concurrency.running(at: now))
        let lastSecond = wholeSecond(now) - 1
        let recentPeak = max(e.pointee.tier(resolution: 1)?.bucket(lastSecond)?.peakConcurrency ?? 0,
                             e.pointee.provisionalPeak(resolution: 1, in: lastSecond...lastSecond))
        return max(running, recentPeak)
    }

    /// Function cost attributed to each caller over the window, indexed by endpoint id.
    private func fanOutCosts(window w: Window, range: ClosedRange<Int64>) -> [Double] {
        var out = [Double](repeating: 0, count: endpoints.count)
        for i in endpoints.indices where endpoints[i].kind == .function {
            endpoints[i].forEachPart(resolution: w.resolution, in: range) { b in
                for p in b.pointee.parents { out[Int(p.parent)] += p.cost }
            }
        }
        return out
    }

    /// Approximate heap bytes held by endpoint state (for the memory benchmark's breakdown).
    public var heapBytes: Int { endpoints.reduce(0) { $0 + $1.heapBytes } }
}

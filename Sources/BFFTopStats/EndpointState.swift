import BFFTopWire

/// Everything the aggregator keeps for one endpoint: metadata, three tiers of buckets and the
/// concurrency tracker. Memory is fixed per endpoint apart from the sparse sketches.
struct EndpointState: Sendable {
    /// 1 s buckets for the last minute, 10 s for five minutes, 1 min for the last hour.
    static let tierSpecs: [(resolution: Int, capacity: Int)] = [(1, 64), (10, 32), (60, 64)]

    let id: Int32
    let name: String
    var kind: EndpointKind = .route
    var kindKnown = false
    var service: String? {
        didSet { serviceKey = -1 }
    }
    /// The replay name id `service` was last set from (-1: set otherwise), so replay's fast path
    /// does not copy the same name on every event.
    var serviceKey: Int32 = -1
    var memoryMB: Double?
    var timeoutMs: Double?
    var limit: Double?
    var lastSeen: Double = 0
    /// Something said when its invocations ran (a single invocation's start and end, a `start`
    /// event, a gauge). Endpoints known only by histograms and counters have no concurrency to show.
    var concurrencyKnown = false
    var totalCount = 0
    var totalCost: Double = 0
    var tiers: [TierRing]
    /// Invocations of the newest second not yet added to the tiers (`index` is that second;
    /// `.min` when empty). Queries read it besides the tiers.
    var stage = Bucket()
    /// Everything this endpoint took, when the aggregator keeps lifetimes (`report --window all`).
    var lifetime: Bucket?
    var concurrency = ConcurrencyTracker()
    /// The computed peaks of the newest `ConcurrencyTracker.settleSeconds` + 1 seconds, replaced at
    /// every refresh instead of raised into the tiers: they count invocations still in flight as
    /// running up to now, and a peak that only rises would keep an overestimate for good when such
    /// an invocation's end arrives late (and differ with when the refresh happened).
    private(set) var provisionalPeaks: [(second: Int64, value: Double)] = []
    var gauge: (value: Double, at: Double)?
    /// Running totals of the alarm windows (see `SlidingWindow`), made when a rule first reads one.
    var sliding: [SlidingWindow] = []
    /// From the config, by name pattern; fills in what events do not say.
    var settings: FunctionSettings?
    /// What pricing reads of `settings`, as plain values (see `PricingSettings`).
    var pricing: PricingSettings
    var provider: Provider = .awsLambdaX86

    init(id: Int32, name: String, settings: FunctionSettings? = nil) {
        self.id = id
        self.name = name
        self.settings = settings
        self.pricing = PricingSettings(settings)
        self.memoryMB = settings?.memoryMB
        self.timeoutMs = settings?.timeoutMs
        self.limit = settings?.concurrencyLimit
        self.tiers = Self.tierSpecs.map { TierRing(resolution: $0.resolution, capacity: $0.capacity) }
    }

    /// The stage of the endpoint at `e`, in place (`withUnsafePointer(to: e.pointee.stage)` copies it).
    static func stage(of e: UnsafePointer<EndpointState>) -> UnsafePointer<Bucket> {
        (UnsafeRawPointer(e) + stageOffset).assumingMemoryBound(to: Bucket.self)
    }
    private static let stageOffset = MemoryLayout<EndpointState>.offset(of: \EndpointState.stage) ?? 0

    func tier(resolution: Int) -> TierRing? {
        tiers.first { $0.resolution == resolution }
    }

    mutating func noteKind(_ k: EndpointKind?, service s: String?) {
        if let k {
            kind = k
            kindKnown = true
        }
        if let s { service = s }
    }

    /// Calls `body` with each bucket the tier with `resolution` holds in `range`, in place.
    @inline(__always)
    func forEachBucket(resolution: Int, in range: ClosedRange<Int64>, _ body: (UnsafePointer<Bucket>) -> Void) {
        for k in tiers.indices where tiers[k].resolution == resolution {
            tiers[k].forEach(in: range) { _, bp in if let bp { body(bp) } }
        }
    }

    /// Calls `body` with each bucket of the tier with `resolution` in `range`, then with the stage
    /// if it falls in the range: for callers that only add figures up (parents, counts), so the
    /// stage needs no merging into a bucket.
    func forEachPart(resolution: Int, in range: ClosedRange<Int64>, _ body: (UnsafePointer<Bucket>) -> Void) {
        guard let ring = tier(resolution: resolution) else { return }
        ring.forEach(in: range) { _, bp in if let bp { body(bp) } }
        if stage.count > 0, range.contains(floorDiv(stage.index, Int64(resolution))) {
            withUnsafePointer(to: stage) { body($0) }
        }
    }

    /// Adds one finished invocation. Invocations of the newest second collect in `stage` and go
    /// into the three tiers together when a later second starts (`flushStage`): one bucket update
    /// per event instead of three. A late one (an older second) goes into the tiers directly. When
    /// the stage flushes depends only on the events, never on queries (which read the stage
    /// besides the tiers), so replaying to a point always adds the same figures in the same order.
    /// Returns false if every tier found it too old; `refused` counts staged invocations that
    /// every tier refused at their flush.
    mutating func record(_ inv: PreparedInvocation, parentID: Int32?, service: String?, refused: inout Int) -> Bool {
        noteKind(inv.kind, service: service)
        concurrencyKnown = true  // a single invocation: its start and end go to the concurrency tracker
        if let m = inv.memoryMB { memoryMB = m }
        if let to = inv.timeoutMs { timeoutMs = to }
        let t = inv.time
        lastSeen = max(lastSeen, t)
        totalCount += 1
        totalCost += inv.costTotal
        if inv.billed { provider = inv.provider }
        let ratio = timeoutMs.map { $0 > 0 ? inv.durationMs / $0 : 0 } ?? 0
        if lifetime != nil { Self.add(inv, ratio: ratio, parentID: parentID, to: &lifetime!) }
        let second = wholeSecond(t)
        if second != stage.index {
            if second > stage.index || second < stage.index - Self.lateReach {
                flushStage(refused: &refused)
                stage.index = second
            } else {
                var stored = false
                for k in tiers.indices {
                    stored = tiers[k].update(at: t) { b in Self.add(inv, ratio: ratio, parentID: parentID, to: &b) } || stored
                }
                tiersChanged(second: second)
                return stored
            }
        }
        Self.add(inv, ratio: ratio, parentID: parentID, to: &stage)
        return true
    }

    /// `n` invocations alike (a histogram bucket's count), straight into the tiers with saturating
    /// counts (`n` may be a billion). Not in concurrency: their start times are not known.
    mutating func recordMany(_ inv: PreparedInvocation, count n: Int, parentID: Int32?, service: String?, refused: inout Int) -> Bool {
        noteKind(inv.kind, service: service)
        if let m = inv.memoryMB { memoryMB = m }
        if let to = inv.timeoutMs { timeoutMs = to }
        let t = inv.time
        flushStageBefore(directUpdateAt: t, refused: &refused)
        tiersChanged(second: wholeSecond(t))
        lastSeen = max(lastSeen, t)
        totalCount = totalCount.addingSaturated(n)
        totalCost += inv.costTotal * Double(n)
        if inv.billed { provider = inv.provider }
        let ratio = timeoutMs.map { $0 > 0 ? inv.durationMs / $0 : 0 } ?? 0
        var stored = false
        for k in tiers.indices {
            stored = tiers[k].update(at: t) { b in Self.add(inv, count: n, ratio: ratio, parentID: parentID, to: &b) } || stored
        }
        if stored, lifetime != nil { Self.add(inv, count: n, ratio: ratio, parentID: parentID, to: &lifetime!) }
        return stored
    }

    private static func add(_ inv: PreparedInvocation, count n: Int, ratio: Double, parentID: Int32?, to b: inout Bucket) {
        let c = Bucket.countCeiling
        b.count = b.count.addingSaturated(n, ceiling: c)
        switch inv.outcome {
        case .ok: b.outcomes.ok = b.outcomes.ok.addingSaturated(n, ceiling: c)
        case .error: b.outcomes.error = b.outcomes.error.addingSaturated(n, ceiling: c)
        case .timeout: b.outcomes.timeout = b.outcomes.timeout.addingSaturated(n, ceiling: c)
        case .throttle: b.outcomes.throttle = b.outcomes.throttle.addingSaturated(n, ceiling: c)
        }
        if inv.coldStart {
            b.cold = b.cold.addingSaturated(n, ceiling: c)
            if let i = inv.initMs, let initKey = inv.initKey { b.initDuration.add(i, key: initKey, count: UInt64(n)) }
        }
        if inv.test { b.test = b.test.addingSaturated(n, ceiling: c) }
        b.latency.add(inv.durationMs, key: UInt64(inv.latencyKey), count: UInt64(n))
        let k = Double(n)
        b.costRequests += inv.costRequests * k
        b.costCompute += inv.costCompute * k
        if inv.billed {
            b.billed = b.billed.addingSaturated(n, ceiling: c)
            b.gbSeconds += inv.gbSeconds * k
            b.vcpuSeconds += inv.vcpuSeconds * k
        }
        if inv.outOfMemory { b.oom = b.oom.addingSaturated(n, ceiling: c) }
        if let used = inv.maxMemoryMB, used > b.maxMemoryUsedMB { b.maxMemoryUsedMB = used }
        if ratio > b.maxTimeoutRatio { b.maxTimeoutRatio = ratio }
        if let parentID { b.addParent(parentID, calls: UInt32(clamping: n), cost: inv.costTotal * k) }
    }

    /// How much older than the stage a late invocation may be and still go into the tiers without
    /// flushing the stage first: within the 1 s ring's span, so its slot cannot be the stage's.
    static let lateReach: Int64 = 63

    @inline(__always)
    private static func add(_ inv: PreparedInvocation, ratio: Double, parentID: Int32?, to b: inout Bucket) {
        b.count += 1
        switch inv.outcome {
        case .ok: b.outcomes.ok += 1
        case .error: b.outcomes.error += 1
        case .timeout: b.outcomes.timeout += 1
        case .throttle: b.outcomes.throttle += 1
        }
        if inv.coldStart {
            b.cold += 1
            if let i = inv.initMs, let initKey = inv.initKey { b.initDuration.add(i, key: initKey) }
        }
        if inv.test { b.test += 1 }
        b.latency.add(inv.durationMs, key: UInt64(inv.latencyKey))
        b.costRequests += inv.costRequests
        b.costCompute += inv.costCompute
        if inv.billed {
            b.billed += 1
            b.gbSeconds += inv.gbSeconds
            b.vcpuSeconds += inv.vcpuSeconds
        }
        if inv.outOfMemory { b.oom += 1 }
        if let used = inv.maxMemoryMB, used > b.maxMemoryUsedMB { b.maxMemoryUsedMB = used }
        if ratio > b.maxTimeoutRatio { b.maxTimeoutRatio = ratio }
        if let parentID { b.addParent(parentID, cost: inv.costTotal) }
    }

    /// Moves the staged invocations into every tier (see `record`).
    mutating func flushStage(refused: inout Int) {
        guard stage.count > 0 else {
            stage.index = .min
            return
        }
        var stored = false
        withUnsafePointer(to: stage) { staged in
            for k in tiers.indices {
                let index = floorDiv(staged.pointee.index, Int64(tiers[k].resolution))
                // The second is over: its 1 s bucket stores it compact at once.
                let compact = tiers[k].resolution == 1
                let took = tiers[k].update(index: index) { $0.absorb(staged.pointee, compact: compact) }
                stored = took || stored
                if took {
                    for w in sliding.indices where sliding[w].window.resolution == tiers[k].resolution {
                        sliding[w].bucketAbsorbed(staged, index: index)
                    }
                }
            }
        }
        if !stored { refused += Int(stage.count) }
        stage.clearKeepingStorage()
    }

    /// Direct tier updates at time `t` (outcome counts, peaks) first flush a stage they could
    /// overtake: one of the same or an older second, or one so much newer that `t`'s slot may be its.
    private mutating func flushStageBefore(directUpdateAt t: Double, refused: inout Int) {
        guard stage.count > 0 else { return }
        let s = wholeSecond(t)
        if s >= stage.index || s < stage.index - Self.lateReach { flushStage(refused: &refused) }
    }

    /// The staged bucket as it falls in bucket `index` of the tier with `resolution`, if it does.
    func staged(resolution: Int, index: Int64) -> Bucket? {
        guard stage.count > 0, floorDiv(stage.index, Int64(resolution)) == index else { return nil }
        return stage
    }

    /// Bucket `index` of `ring` (one of this endpoint's tiers) with any staged invocations that
    /// belong to it.
    func bucket(in ring: TierRing, index: Int64) -> Bucket? {
        let b = ring.bucket(index)
        guard let s = staged(resolution: ring.resolution, index: index) else { return b }
        guard var merged = b else {
            var only = s
            only.index = index
            return only
        }
        merged.absorb(s)
        return merged
    }

    /// Failed invocations without durations: counted, never sampled for latency.
    mutating func recordOutcomes(_ outcome: Outcome, count n: Int, coldStarts: Int = 0, untimed: Bool = false, inits: Int = 0, initMs: Double? = nil,
                                 maxMemoryMB: Double? = nil, at t: Double, refused: inout Int) -> Bool {
        flushStageBefore(directUpdateAt: t, refused: &refused)
        tiersChanged(second: wholeSecond(t))
        lastSeen = max(lastSeen, t)
        // Counted failures are among the requests the timings count (APM's hits and errors: a
        // DogStatsD error counter beside the route's timings is not more requests), unless the
        // source says they had no timing (`untimed`); counted successes are requests without one.
        let requests = outcome == .ok || untimed
        if requests { totalCount = totalCount.addingSaturated(n) }
        var stored = false
        // Counts arrive in the millions at once (a DogStatsD counter): a bucket's 32-bit counters
        // saturate rather than trap. Counting `count` and `ok` alike keeps count ≥ ok.
        for k in tiers.indices {
            stored = tiers[k].update(at: t) { b in
                let c = Bucket.countCeiling
                b.cold = b.cold.addingSaturated(coldStarts, ceiling: c)
                if requests { b.count = b.count.addingSaturated(n, ceiling: c) }
                switch outcome {
                case .ok: b.outcomes.ok = b.outcomes.ok.addingSaturated(n, ceiling: c)
                case .error: b.outcomes.error = b.outcomes.error.addingSaturated(n, ceiling: c)
                case .timeout: b.outcomes.timeout = b.outcomes.timeout.addingSaturated(n, ceiling: c)
                case .throttle: b.outcomes.throttle = b.outcomes.throttle.addingSaturated(n, ceiling: c)
                }
                if outcome != .ok { b.countedFailures = b.countedFailures.addingSaturated(n, ceiling: c) }
                if inits > 0, let i = initMs { b.initDuration.add(i, count: UInt64(inits)) }
                if let m = maxMemoryMB, m > b.maxMemoryUsedMB { b.maxMemoryUsedMB = m }
            } || stored
        }
        if stored, lifetime != nil {
            var counted = Bucket()
            counted.cold = UInt32(clamping: coldStarts)
            if requests { counted.count = UInt32(clamping: n) }
            switch outcome {
            case .ok: counted.outcomes.ok = UInt32(clamping: n)
            case .error: counted.outcomes.error = UInt32(clamping: n)
            case .timeout: counted.outcomes.timeout = UInt32(clamping: n)
            case .throttle: counted.outcomes.throttle = UInt32(clamping: n)
            }
            if outcome != .ok { counted.countedFailures = UInt32(clamping: n) }
            if inits > 0, let i = initMs { counted.initDuration.add(i, count: UInt64(inits)) }
            counted.maxMemoryUsedMB = maxMemoryMB ?? 0
            lifetime!.absorb(counted)
        }
        return stored
    }

    mutating func recordGauge(_ g: ConcurrencyGauge, refused: inout Int) {
        noteKind(g.kind, service: g.service)
        if let l = g.limit { limit = l }
        if gauge == nil || g.ts >= gauge?.at ?? 0 { gauge = (g.value, g.ts) }
        lastSeen = max(lastSeen, g.ts)
        raisePeak(at: g.ts, to: g.value, refused: &refused)
    }

    /// Peaks are maxima (the order they arrive in does not matter), so they pass a stage without
    /// flushing it — queries raise them at any time — unless they would overtake its slot.
    mutating func raisePeak(at t: Double, to value: Double, refused: inout Int) {
        if stage.count > 0, wholeSecond(t) > stage.index + Self.lateReach { flushStage(refused: &refused) }
        for k in tiers.indices {
            tiers[k].update(at: t) { b in if value > b.peakConcurrency { b.peakConcurrency = value } }
        }
        if let l = lifetime, value > l.peakConcurrency { lifetime!.peakConcurrency = value }
        for k in sliding.indices {
            sliding[k].peakRaised(index: floorDiv(wholeSecond(t), Int64(sliding[k].window.resolution)), to: value)
        }
    }

    /// Tier buckets holding second `s` changed: running totals that include them are stale.
    @inline(__always) private mutating func tiersChanged(second s: Int64) {
        for k in sliding.indices { sliding[k].bucketChanged(index: floorDiv(s, Int64(sliding[k].window.resolution))) }
    }

    /// The running totals of window `w` brought to `range`'s settled buckets (made on first use).
    mutating func slidingTotals(_ w: Window, range: ClosedRange<Int64>) -> Int {
        let k = sliding.firstIndex { $0.window == w } ?? {
            sliding.append(SlidingWindow(window: w))
            return sliding.count - 1
        }()
        guard let ring = tier(resolution: w.resolution) else { return k }
        let settled = SlidingWindow.settledRange(range)
        sliding[k].advance(low: settled.low, high: settled.high, ring: ring)
        return k
    }

    /// Recomputes the exact per-second peaks that new intervals may have raised, then prunes.
    mutating func refreshConcurrency(now: Double, refused: inout Int) {
        if let seconds = concurrency.takeDirtySeconds(now: now) {
            let settled = wholeSecond(now) - ConcurrencyTracker.settleSeconds
            provisionalPeaks.removeAll(keepingCapacity: true)
            for (s, p) in zip(seconds, concurrency.peaks(in: seconds)) where p > 0 {
                if s <= settled {
                    raisePeak(at: Double(s), to: Double(p), refused: &refused)
                } else {
                    provisionalPeaks.append((s, Double(p)))
                }
            }
        }
        concurrency.prune(now: now)
    }

    /// The highest provisional peak in buckets `range` of the tier with `resolution` (0: none),
    /// which queries read beside the buckets' own.
    func provisionalPeak(resolution: Int, in range: ClosedRange<Int64>) -> Double {
        var peak = 0.0
        for p in provisionalPeaks where range.contains(floorDiv(p.second, Int64(resolution))) { peak = max(peak, p.value) }
        return peak
    }

    /// Gives back the spare capacity of the bucket before `now`'s in each tier (it is past).
    mutating func trimPastBuckets(now: Double) {
        for k in tiers.indices { tiers[k].trim(index: tiers[k].bucketIndex(now) - 1) }
    }

    var heapBytes: Int {
        tiers.reduce(0) { $0 + $1.heapBytes } + stage.heapBytes + concurrency.heapBytes + name.utf8.count
            + sliding.reduce(0) { $0 + $1.latency.heapBytes }
    }
}

extension FixedWidthInteger {
    /// `self + n`, stopping at the largest value instead of trapping (`n` ≥ 0).
    @inline(__always) func addingSaturated(_ n: Int) -> Self {
        let (sum, overflow) = addingReportingOverflow(Self(clamping: n))
        return overflow || n > Int(Self.max) ? .max : sum
    }

    /// `self + n`, stopping at `ceiling` (which must fit in `Self`): `self` already above it stays.
    @inline(__always) func addingSaturated(_ n: Int, ceiling: Int) -> Self {
        let current = Int(self)
        guard current < ceiling else { return self }
        return Self(Swift.min(ceiling, current + Swift.min(n, ceiling)))
    }
}

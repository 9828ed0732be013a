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
    var totalCount = 0
    var totalCost: Double = 0
    var tiers: [TierRing]
    var concurrency = ConcurrencyTracker()
    var gauge: (value: Double, at: Double)?
    /// From the config, by name pattern; fills in what events do not say.
    let settings: FunctionSettings?
    var provider: Provider = .awsLambdaX86

    init(id: Int32, name: String, settings: FunctionSettings? = nil) {
        self.id = id
        self.name = name
        self.settings = settings
        self.memoryMB = settings?.memoryMB
        self.timeoutMs = settings?.timeoutMs
        self.limit = settings?.concurrencyLimit
        self.tiers = Self.tierSpecs.map { TierRing(resolution: $0.resolution, capacity: $0.capacity) }
    }

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

    /// Adds one finished invocation to every tier. Returns false if every tier found it too old.
    mutating func record(_ inv: PreparedInvocation, parentID: Int32?, service: String?) -> Bool {
        noteKind(inv.kind, service: service)
        if let m = inv.memoryMB { memoryMB = m }
        if let to = inv.timeoutMs { timeoutMs = to }
        let t = inv.time
        lastSeen = max(lastSeen, t)
        totalCount += 1
        totalCost += inv.costTotal
        if inv.billed { provider = inv.provider }
        let ratio = timeoutMs.map { $0 > 0 ? inv.durationMs / $0 : 0 } ?? 0
        let initKey = inv.initKey
        let initMs = inv.initMs
        let maxMemory = inv.maxMemoryMB
        var stored = false
        for k in tiers.indices {
            stored = tiers[k].update(at: t) { b in
                b.count += 1
                switch inv.outcome {
                case .ok: b.outcomes.ok += 1
                case .error: b.outcomes.error += 1
                case .timeout: b.outcomes.timeout += 1
                case .throttle: b.outcomes.throttle += 1
                }
                if inv.coldStart {
                    b.cold += 1
                    if let i = initMs, let initKey { b.initDuration.add(i, key: initKey) }
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
                if let used = maxMemory, used > b.maxMemoryUsedMB { b.maxMemoryUsedMB = used }
                if ratio > b.maxTimeoutRatio { b.maxTimeoutRatio = ratio }
                if let parentID { b.addParent(parentID, cost: inv.costTotal) }
            } || stored
        }
        return stored
    }

    /// Failed invocations without durations: counted, never sampled for latency.
    mutating func recordOutcomes(_ outcome: Outcome, count n: Int, coldStarts: Int = 0, at t: Double) -> Bool {
        lastSeen = max(lastSeen, t)
        totalCount += n
        var stored = false
        for k in tiers.indices {
            stored = tiers[k].update(at: t) { b in
                b.cold += UInt32(clamping: coldStarts)
                b.count += UInt32(clamping: n)
                switch outcome {
                case .ok: b.outcomes.ok += UInt32(clamping: n)
                case .error: b.outcomes.error += UInt32(clamping: n)
                case .timeout: b.outcomes.timeout += UInt32(clamping: n)
                case .throttle: b.outcomes.throttle += UInt32(clamping: n)
                }
            } || stored
        }
        return stored
    }

    mutating func recordGauge(_ g: ConcurrencyGauge) {
        noteKind(g.kind, service: g.service)
        if let l = g.limit { limit = l }
        if gauge == nil || g.ts >= gauge?.at ?? 0 { gauge = (g.value, g.ts) }
        lastSeen = max(lastSeen, g.ts)
        raisePeak(at: g.ts, to: g.value)
    }

    mutating func raisePeak(at t: Double, to value: Double) {
        for k in tiers.indices {
            tiers[k].update(at: t) { b in if value > b.peakConcurrency { b.peakConcurrency = value } }
        }
    }

    /// Recomputes the exact per-second peaks that new intervals may have raised, then prunes.
    mutating func refreshConcurrency(now: Double) {
        if let seconds = concurrency.takeDirtySeconds(now: now) {
            for s in seconds {
                let p = Double(concurrency.peak(from: Double(s), to: Double(s + 1)))
                if p > 0 { raisePeak(at: Double(s), to: p) }
            }
        }
        concurrency.prune(now: now)
        for k in tiers.indices { tiers[k].trim(index: tiers[k].bucketIndex(now) - 1) }
    }

    var heapBytes: Int {
        tiers.reduce(0) { $0 + $1.heapBytes } + concurrency.heapBytes + name.utf8.count
    }
}

import BFFTopWire

/// One finished invocation as the tiers consume it: what follows from the event alone (its cost,
/// the sketch keys, the clock-skew correction) worked out once, from a general `Invocation` or
/// from replay's `PackedInvocation` alike, so both paths add exactly the same figures.
struct PreparedInvocation: Sendable, Equatable {
    /// End of the invocation, corrected for clock skew: the bucket it lands in.
    var time: Double
    /// Start, with the same correction.
    var start: Double
    var durationMs: Double
    // Optional figures as NaN-for-none and small keys: replay copies these by the million, and
    // half the size is half the copying.
    private var initRaw: Double
    private var memoryRaw: Double
    private var maxMemoryRaw: Double
    private var timeoutRaw: Double
    var costRequests: Double
    var costCompute: Double
    var gbSeconds: Double
    var vcpuSeconds: Double
    var latencyKey: UInt16
    private var initKeyRaw: UInt16
    var provider: Provider
    /// Billed at all (throttles and unpriced routes are not).
    var billed: Bool
    var kind: EndpointKind
    var outcome: Outcome
    var coldStart: Bool
    var test: Bool
    var outOfMemory: Bool

    var initMs: Double? { initRaw.isNaN ? nil : initRaw }
    var memoryMB: Double? { memoryRaw.isNaN ? nil : memoryRaw }
    var maxMemoryMB: Double? { maxMemoryRaw.isNaN ? nil : maxMemoryRaw }
    var timeoutMs: Double? { timeoutRaw.isNaN ? nil : timeoutRaw }
    var initKey: UInt64? { initKeyRaw == .max ? nil : UInt64(initKeyRaw) }
    var costTotal: Double { costRequests + costCompute }

    /// `pricing` is the endpoint's (from `FunctionSettings.resolve` of its name), `receivedAt` the
    /// receive time if known (live, recordings): an end claimed further ahead than `maxClockSkew`
    /// is pulled back to it.
    init(_ inv: Invocation, receivedAt: Double?, pricing: PricingSettings, charging cost: UnsafePointer<ChargeModel>, maxClockSkew: Double) {
        self.init(
            ts: inv.ts, durationMs: inv.durationMs, receivedAt: receivedAt, initMs: inv.initMs, memoryMB: inv.memoryMB,
            maxMemoryMB: inv.maxMemoryMB, timeoutMs: inv.timeoutMs,
            charge: cost.pointee.charge(CostModel.InvocationCostInputs(inv), pricing: pricing), kind: inv.kind, outcome: inv.outcome,
            coldStart: inv.coldStart, test: inv.test, outOfMemory: inv.isOutOfMemory, maxClockSkew: maxClockSkew)
    }

    /// Replay's successful invocations (names do not matter here).
    init(_ packed: PackedInvocation, pricing: PricingSettings, charging cost: UnsafePointer<ChargeModel>, maxClockSkew: Double) {
        let charge = cost.pointee.charge(
            CostModel.InvocationCostInputs(
                kind: packed.kind, outcome: .ok, durationMs: packed.durationMs, billedMs: packed.billedMs, memoryMB: packed.memoryMB,
                maxMemoryMB: packed.maxMemoryMB, arch: packed.arch),
            pricing: pricing)
        self.init(
            ts: packed.ts, durationMs: packed.durationMs, receivedAt: packed.receivedAt, initMs: packed.initMs, memoryMB: packed.memoryMB,
            maxMemoryMB: packed.maxMemoryMB, timeoutMs: packed.timeoutMs, charge: charge, kind: packed.kind, outcome: .ok,
            coldStart: packed.coldStart, test: packed.test, outOfMemory: false, maxClockSkew: maxClockSkew)
    }

    init(ts: Double, durationMs: Double, receivedAt: Double?, initMs: Double?, memoryMB: Double?, maxMemoryMB: Double?,
         timeoutMs: Double?, charge: CostModel.Charge, kind: EndpointKind, outcome: Outcome, coldStart: Bool, test: Bool,
         outOfMemory: Bool, maxClockSkew: Double) {
        let end = ts + durationMs / 1000  // as `Invocation.endTs`
        var shift = 0.0
        if let receivedAt, end > receivedAt + maxClockSkew { shift = receivedAt - end }
        time = end + shift
        start = ts + shift
        self.durationMs = durationMs
        initRaw = initMs ?? .nan
        memoryRaw = memoryMB ?? .nan
        maxMemoryRaw = maxMemoryMB ?? .nan
        timeoutRaw = timeoutMs ?? .nan
        costRequests = charge.requests
        costCompute = charge.compute
        gbSeconds = charge.usage.gbSeconds
        vcpuSeconds = charge.usage.vcpuSeconds
        provider = charge.provider
        billed = charge.usage.requests > 0
        latencyKey = UInt16(LatencySketch.key(for: max(0, durationMs)))  // keys stop at 4095
        initKeyRaw = initMs.map { UInt16(LatencySketch.key(for: max(0, $0))) } ?? .max
        self.kind = kind
        self.outcome = outcome
        self.coldStart = coldStart
        self.test = test
        self.outOfMemory = outOfMemory
    }
}

/// Replay's names: the reader thread's `NameTable` ids, mapped to the aggregator's endpoint ids
/// the first time each is aggregated (so endpoints are created in the same order as by `ingest`).
public struct NameMapping: Sendable {
    public private(set) var names: [String] = []
    var endpointIDs: [Int32] = []
    static let unresolved: Int32 = -2
    static let refused: Int32 = -1

    public init() {}

    /// Names the reader added since the last batch, in id order.
    public mutating func append(_ more: some Sequence<String>) {
        for n in more {
            names.append(n)
            endpointIDs.append(Self.unresolved)
        }
    }
}

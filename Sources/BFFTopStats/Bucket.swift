import BFFTopWire

/// Everything known about one endpoint in one time bucket. All fields merge exactly
/// (sums, maxima and sketches), so a window is the merge of its buckets.
public struct Bucket: Sendable {
    /// Bucket index: start time / resolution. `Int64.min` marks an unused slot.
    var index: Int64 = .min
    var count: UInt32 = 0
    /// Counts that arrive in bulk (`recordOutcomes`: a DogStatsD counter can say a billion at once)
    /// stop here, half the counters' range, so that invocations counted one at a time (`+= 1` on
    /// the hot path) can never overflow a bucket that bulk counts filled.
    static let countCeiling = Int(UInt32.max / 2)
    var outcomes: (ok: UInt32, error: UInt32, timeout: UInt32, throttle: UInt32) = (0, 0, 0, 0)
    var cold: UInt32 = 0
    var test: UInt32 = 0
    /// Failures known only from a counter (`outcomes` events: a DogStatsD or EMF error count). They
    /// are among the requests the timings counted (as APM's hits and errors), so they are in
    /// `outcomes` but not in `count`.
    var countedFailures: UInt32 = 0
    var latency = LatencySketch()
    var initDuration = LatencySketch()
    var costRequests: Double = 0
    var costCompute: Double = 0
    /// Billable usage (for the monthly projection with tiers and free grants).
    var gbSeconds: Double = 0
    var vcpuSeconds: Double = 0
    var billed: UInt32 = 0
    var oom: UInt32 = 0
    var maxMemoryUsedMB: Double = 0
    /// Largest duration / timeout ratio seen (0 when no timeout is known).
    var maxTimeoutRatio: Double = 0
    var peakConcurrency: Double = 0
    /// Callers of this (function) endpoint: parent endpoint id -> calls and cost.
    var parents: [ParentShare] = []
    /// Spare capacity already given back (see `TierRing.trim`).
    var trimmed = false

    /// Empty again, keeping the sketches' storage and the parents' capacity (the stage).
    mutating func clearKeepingStorage() {
        let (l, i, p) = (latency, initDuration, parents)
        self = Bucket()
        latency = l
        initDuration = i
        parents = p
        latency.removeAllKeepingStorage()
        initDuration.removeAllKeepingStorage()
        parents.removeAll(keepingCapacity: true)
    }

    mutating func reset(to index: Int64) {
        self = Bucket()
        self.index = index
    }

    mutating func addParent(_ id: Int32, calls: UInt32 = 1, cost: Double) {
        for i in parents.indices where parents[i].parent == id {
            parents[i].calls += calls
            parents[i].cost += cost
            return
        }
        parents.append(ParentShare(parent: id, calls: calls, cost: cost))
    }

    /// Adds everything `other` holds (its index and trim state aside): the bucket then equals
    /// one that took both buckets' invocations.
    /// `compact`: store the sketches compact if this bucket's are empty (see
    /// `LatencySketch.mergeCompacted`).
    mutating func absorb(_ other: Bucket, compact: Bool = false) {
        // Saturating: counted outcomes can be huge (see `countCeiling`); once a second, not per event.
        count = count.addingSaturated(Int(other.count))
        outcomes.ok = outcomes.ok.addingSaturated(Int(other.outcomes.ok))
        outcomes.error = outcomes.error.addingSaturated(Int(other.outcomes.error))
        outcomes.timeout = outcomes.timeout.addingSaturated(Int(other.outcomes.timeout))
        outcomes.throttle = outcomes.throttle.addingSaturated(Int(other.outcomes.throttle))
        cold = cold.addingSaturated(Int(other.cold))
        test = test.addingSaturated(Int(other.test))
        countedFailures = countedFailures.addingSaturated(Int(other.countedFailures))
        if compact {
            latency.mergeCompacted(other.latency)
            initDuration.mergeCompacted(other.initDuration)
        } else {
            latency.merge(other.latency)
            initDuration.merge(other.initDuration)
        }
        costRequests += other.costRequests
        costCompute += other.costCompute
        gbSeconds += other.gbSeconds
        vcpuSeconds += other.vcpuSeconds
        billed += other.billed
        oom += other.oom
        maxMemoryUsedMB = max(maxMemoryUsedMB, other.maxMemoryUsedMB)
        maxTimeoutRatio = max(maxTimeoutRatio, other.maxTimeoutRatio)
        peakConcurrency = max(peakConcurrency, other.peakConcurrency)
        for p in other.parents { addParent(p.parent, calls: p.calls, cost: p.cost) }
    }

    var heapBytes: Int { latency.heapBytes + initDuration.heapBytes + parents.capacity * 24 }

    /// Where the sketches sit, for reading them in place through a bucket pointer.
    static let latencyOffset = MemoryLayout<Bucket>.offset(of: \Bucket.latency) ?? 0
    static let initOffset = MemoryLayout<Bucket>.offset(of: \Bucket.initDuration) ?? 0
}

struct ParentShare: Sendable {
    var parent: Int32
    var calls: UInt32
    var cost: Double
}

/// A ring of buckets at one resolution. Slots are reused as time moves on; an event older than
/// the ring's span is not stored at this resolution (coarser tiers still take it).
struct TierRing: Sendable {
    let resolution: Int
    private(set) var slots: [Bucket]

    /// `capacity - 1` when the capacity is a power of two (every tier's is): slots by mask, not
    /// division, on the per-event path.
    private let mask: Int64

    init(resolution: Int, capacity: Int) {
        self.resolution = resolution
        self.slots = [Bucket](repeating: Bucket(), count: capacity)
        mask = capacity > 0 && capacity & (capacity - 1) == 0 ? Int64(capacity - 1) : -1
    }

    @inline(__always) func bucketIndex(_ t: Double) -> Int64 { wholeSecond(t / Double(resolution)) }

    @inline(__always) private func slot(_ index: Int64) -> Int {
        if mask >= 0 { return Int(index & mask) }  // two's complement: also right for negative indices
        return Int(((index % Int64(slots.count)) + Int64(slots.count)) % Int64(slots.count))
    }

    /// Runs `body` on the bucket for time `t`, recycling its slot if it held an older bucket.
    /// Returns false (and does nothing) when the slot already holds a newer bucket.
    @inline(__always) @discardableResult
    mutating func update(at t: Double, _ body: (inout Bucket) -> Void) -> Bool {
        let index = bucketIndex(t)
        return update(index: index, body)
    }

    @inline(__always) @discardableResult
    mutating func update(index: Int64, _ body: (inout Bucket) -> Void) -> Bool {
        if index > newest { moveOn(to: index) }
        let s = slot(index)
        if slots[s].index != index {
            guard slots[s].index < index else { return false }
            slots[s].reset(to: index)
        }
        body(&slots[s])
        return true
    }

    /// The newest bucket updated: its sketches fill densely (see `LatencySketch`).
    private var newest: Int64 = .min

    /// A newer bucket starts: the previous newest is past, so its sketches go compact.
    private mutating func moveOn(to index: Int64) {
        if newest != .min {
            let s = slot(newest)
            if slots[s].index == newest {
                slots[s].latency.compact()
                slots[s].initDuration.compact()
            }
        }
        newest = index
    }

    /// Gives back the sketches' spare capacity in the bucket with this index (once it is past).
    mutating func trim(index: Int64) {
        let s = slot(index)
        guard slots[s].index == index, !slots[s].trimmed else { return }
        slots[s].latency.trim()
        slots[s].initDuration.trim()
        slots[s].trimmed = true
    }

    /// Calls `body` for each index in `range` with the bucket (nil where the ring no longer holds it),
    /// in place: copying buckets (three arrays each) dominated window queries.
    @inline(__always)
    func forEach(in range: ClosedRange<Int64>, _ body: (Int64, UnsafePointer<Bucket>?) -> Void) {
        slots.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            for index in range {
                let s = slot(index)
                body(index, base[s].index == index ? base + s : nil)
            }
        }
    }

    /// What a slot says about bucket `index`: held, never written (the slot holds an older bucket),
    /// or gone (a newer bucket took the slot).
    enum SlotContent {
        case holds(UnsafePointer<Bucket>)
        case empty
        case overwritten
    }

    /// Calls `body` with a lookup of bucket indices in place (see `SlotContent`).
    @inline(__always)
    func withSlots(_ body: ((Int64) -> SlotContent) -> Void) {
        slots.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            body { index in
                let s = slot(index)
                let held = base[s].index
                return held == index ? .holds(base + s) : held < index ? .empty : .overwritten
            }
        }
    }

    /// The bucket with this index, if the ring still holds it.
    func bucket(_ index: Int64) -> Bucket? {
        let b = slots[slot(index)]
        return b.index == index ? b : nil
    }

    var heapBytes: Int { slots.capacity * MemoryLayout<Bucket>.stride + slots.reduce(0) { $0 + $1.heapBytes } }
}

/// ⌊a / b⌋ for b > 0 (Swift's `/` truncates toward zero).
@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return a % b < 0 ? q - 1 : q
}


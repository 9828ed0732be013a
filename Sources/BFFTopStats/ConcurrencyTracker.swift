/// Exact concurrency of one endpoint, derived from invocation intervals [start, end).
///
/// Starts and ends are kept in two sorted arrays for the last `horizon` seconds, so the number of
/// invocations running at time t is `#starts ≤ t − #ends ≤ t` (an invocation ending exactly when
/// another starts does not overlap it). Pruning drops the k oldest ends together with the k oldest
/// starts, which keeps that difference exact for every t after the horizon.
///
/// `start` events add their start immediately (in flight, no end yet), so long-running invocations
/// count before they finish; the matching invocation then adds only its end.
struct ConcurrencyTracker: Sendable {
    static let horizon: Double = 75
    /// In-flight invocations whose end never arrives are closed after this long (Lambda's maximum).
    static let inFlightExpiry: Double = 900
    static let maxInFlight = 100_000

    private(set) var starts: [Double] = []
    private(set) var ends: [Double] = []
    /// Open `start` events by id.
    private(set) var inFlight: [String: Double] = [:]
    /// The first whole second whose peak may have changed since it was last computed.
    private(set) var dirtyFrom: Int64 = .max
    private var floorTime: Double = 0

    var inFlightCount: Int { inFlight.count }

    mutating func begin(id: String, at t: Double) {
        guard inFlight[id] == nil, inFlight.count < Self.maxInFlight else { return }
        let s = max(t, floorTime)
        inFlight[id] = s
        insertSorted(&starts, s)
        markDirty(s)
    }

    /// Records a finished interval. Returns false when the end is older than the horizon.
    @discardableResult
    mutating func finish(id: String?, start: Double, end: Double) -> Bool {
        if let id, inFlight.removeValue(forKey: id) != nil {
            // The start is already recorded; only the end is new.
            insertSorted(&ends, max(end, floorTime))
            markDirty(end)
            return true
        }
        guard end > floorTime else { return false }
        let s = max(start, floorTime)
        insertSorted(&starts, s)
        insertSorted(&ends, max(end, s))
        markDirty(s)
        return true
    }

    /// Invocations running at time t.
    func running(at t: Double) -> Int {
        upperBound(starts, t) - upperBound(ends, t)
    }

    /// Peak concurrency within [a, b): the maximum at `a` or at any start inside the range.
    func peak(from a: Double, to b: Double) -> Int {
        var i = upperBound(starts, a)
        var j = upperBound(ends, a)
        var n = i - j
        var best = n
        while i < starts.count, starts[i] < b {
            let t = starts[i]
            while i < starts.count, starts[i] <= t { i += 1 }
            while j < ends.count, ends[j] <= t { j += 1 }
            n = i - j
            if n > best { best = n }
        }
        return best
    }

    /// Seconds whose peak must be recomputed, up to and including `now`'s second; clears the mark.
    mutating func takeDirtySeconds(now: Double) -> ClosedRange<Int64>? {
        let last = Int64(now.rounded(.down))
        guard dirtyFrom <= last else { return nil }
        let first = max(dirtyFrom, Int64(floorTime.rounded(.down)))
        dirtyFrom = last  // the current second stays open
        return first <= last ? first...last : nil
    }

    /// Forgets intervals that ended before `now - horizon` and expires stale in-flight starts.
    mutating func prune(now: Double) {
        let expiry = now - Self.inFlightExpiry
        if !inFlight.isEmpty {
            for (id, s) in inFlight where s < expiry {
                inFlight[id] = nil
                insertSorted(&ends, now)
            }
        }
        let newFloor = now - Self.horizon
        guard newFloor > floorTime else { return }
        floorTime = newFloor
        let k = upperBound(ends, newFloor)
        guard k > 0 else { return }
        ends.removeFirst(k)
        starts.removeFirst(min(k, starts.count))
        // Open starts older than the horizon are still running: clamp them so they stay counted.
    }

    private mutating func markDirty(_ t: Double) {
        let s = Int64(t.rounded(.down))
        if s < dirtyFrom { dirtyFrom = s }
    }

    var heapBytes: Int { (starts.capacity + ends.capacity) * 8 + inFlight.capacity * 40 }
}

/// Inserts keeping ascending order; cheap when values arrive nearly sorted (the common case).
@inline(__always) func insertSorted(_ a: inout [Double], _ v: Double) {
    if a.isEmpty || a[a.count - 1] <= v {
        a.append(v)
        return
    }
    a.insert(v, at: upperBound(a, v))
}

/// Number of elements ≤ v.
@inline(__always) func upperBound(_ a: [Double], _ v: Double) -> Int {
    var lo = 0
    var hi = a.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        if a[mid] <= v { lo = mid + 1 } else { hi = mid }
    }
    return lo
}

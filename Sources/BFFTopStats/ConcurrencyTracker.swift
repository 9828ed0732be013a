import BFFTopWire

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
    /// Intervals are kept this long after they end. Peaks of older seconds are final; an interval
    /// reported later than this after it started only raises the last `horizon` seconds (use
    /// `start` events for long functions).
    static let horizon: Double = 30
    /// In-flight invocations whose end never arrives are closed after this long (Lambda's maximum).
    static let inFlightExpiry: Double = 900
    /// Peaks of the newest seconds stay provisional this long (see `EndpointState.provisionalPeaks`):
    /// an invocation in flight counts as running up to now, and its end may arrive up to about a
    /// second late (emitters flush once a second).
    static let settleSeconds: Int64 = 2
    static let maxInFlight = 100_000
    /// The most seconds one refresh recomputes: the longest tier's span (`Aggregator.history`).
    static let maxSweepSeconds: Int64 = 3840

    private(set) var starts = SortedTimes()
    private(set) var ends = SortedTimes()
    /// Open `start` events by id.
    private(set) var inFlight: [String: Double] = [:]
    /// The first whole second whose peak may have changed since it was last computed.
    private(set) var dirtyFrom: Int64 = .max
    /// An interval was added since the last `takeDirtySeconds`, and the second that took.
    private var touched = false
    private var lastTaken = Int64.min
    private var floorTime: Double = 0

    var inFlightCount: Int { inFlight.count }

    mutating func begin(id: String, at t: Double) {
        guard inFlight[id] == nil, inFlight.count < Self.maxInFlight else { return }
        let s = max(t, floorTime)
        inFlight[id] = s
        starts.insert(s)
        markDirty(s)
    }

    /// Records a finished interval. Returns false when the end is older than the horizon.
    @discardableResult
    mutating func finish(id: String?, start: Double, end: Double) -> Bool {
        if let id, inFlight.removeValue(forKey: id) != nil {
            // The start is already recorded; only the end is new.
            ends.insert(max(end, floorTime))
            markDirty(end)
            return true
        }
        guard end > floorTime else { return false }
        let s = max(start, floorTime)
        starts.insert(s)
        ends.insert(max(end, s))
        markDirty(s)
        return true
    }

    /// Invocations running at time t.
    func running(at t: Double) -> Int {
        starts.countAtOrBelow(t) - ends.countAtOrBelow(t)
    }

    /// Peak concurrency within [a, b): the maximum at `a` or at any start inside the range.
    mutating func peak(from a: Double, to b: Double) -> Int {
        var best = 0
        sweep(from: a, boundaries: [b]) { best = $0 }
        return best
    }

    /// The peak of each whole second in `seconds`, oldest first, in one pass: one settle and one
    /// pair of searches for the lot, where a search per second cost more than the sweeping.
    mutating func peaks(in seconds: ClosedRange<Int64>) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(seconds.count)
        sweep(from: Double(seconds.lowerBound), boundaries: seconds.map { Double($0 + 1) }) { out.append($0) }
        return out
    }

    /// Reports the peak of [a, b₀), [b₀, b₁), … for ascending boundaries bₖ > a.
    private mutating func sweep(from a: Double, boundaries: [Double], _ report: (Int) -> Void) {
        starts.settle()
        ends.settle()
        // Indices into the live part of each array; counts are relative, so the heads cancel out.
        var i = starts.firstIndexAbove(a)
        var j = ends.firstIndexAbove(a)
        var running = (i - starts.head) - (j - ends.head)
        starts.values.withUnsafeBufferPointer { s in
            ends.values.withUnsafeBufferPointer { e in
                for b in boundaries {
                    report(Self.sweep(s, &i, e, &j, running: &running, before: b))
                    // The count at b itself starts the next range: starts and ends at b are in it.
                    while i < s.count, s[i] <= b {
                        running += 1
                        i += 1
                    }
                    while j < e.count, e[j] <= b {
                        running -= 1
                        j += 1
                    }
                }
            }
        }
    }

    /// The running count through the starts before `b` and the ends among them, merged in time
    /// order (an end at the same time as a start first: they do not overlap); the largest count
    /// after a start, or at the range's beginning. Branch-free per step (the choice is a
    /// conditional move): which of the two comes next is a coin toss that a branch predictor loses
    /// about half the time.
    private static func sweep(_ s: UnsafeBufferPointer<Double>, _ i: inout Int, _ e: UnsafeBufferPointer<Double>, _ j: inout Int,
                              running: inout Int, before b: Double) -> Int {
        var i0 = i, j0 = j
        var r = running, best = running
        while i0 < s.count {
            let start = s[i0]
            if start >= b { break }
            let end = j0 < e.count ? e[j0] : .infinity
            let takeEnd = end <= start
            r += takeEnd ? -1 : 1
            best = max(best, takeEnd ? best : r)
            i0 += takeEnd ? 0 : 1
            j0 += takeEnd ? 1 : 0
        }
        (i, j, running) = (i0, j0, r)
        return best
    }

    /// Seconds whose peak must be recomputed, up to and including `now`'s second; clears the mark.
    /// The unsettled newest seconds are always among them.
    mutating func takeDirtySeconds(now: Double) -> ClosedRange<Int64>? {
        let last = wholeSecond(now)
        // Asked again within the same second with nothing new (alarms, then the engine): done.
        guard dirtyFrom <= last, touched || last != lastTaken else { return nil }
        // Never further back than the aggregator's history: no tier holds older seconds, and an
        // interval that started long ago (or a first event far in the past) would otherwise make
        // this sweep, and the array of its peaks, as long as the time since.
        let first = max(dirtyFrom, wholeSecond(floorTime), last - Self.maxSweepSeconds)
        dirtyFrom = last - Self.settleSeconds  // the unsettled seconds stay open
        touched = false
        lastTaken = last
        return first <= last ? first...last : nil
    }

    /// Forgets intervals that ended before `now - horizon` and expires stale in-flight starts.
    mutating func prune(now: Double) {
        starts.settle()
        ends.settle()
        let expiry = now - Self.inFlightExpiry
        if !inFlight.isEmpty {
            for (id, s) in inFlight where s < expiry {
                inFlight[id] = nil
                ends.insert(now)
            }
        }
        let newFloor = now - Self.horizon
        guard newFloor > floorTime else { return }
        floorTime = newFloor
        let k = ends.countAtOrBelow(newFloor)
        guard k > 0 else { return }
        ends.dropFirst(k)
        starts.dropFirst(min(k, starts.count))
    }

    private mutating func markDirty(_ t: Double) {
        let s = wholeSecond(t)
        if s < dirtyFrom { dirtyFrom = s }
        touched = true
    }

    var heapBytes: Int { starts.heapBytes + ends.heapBytes + inFlight.capacity * 40 }
}

/// An ascending array of times with a movable head: dropping the oldest is O(1) (the storage is
/// compacted only once the dead prefix outweighs the live part). A value older than the newest
/// (the start of an invocation that ended after later-starting ones) waits in `pending` until the
/// next query sorts them all in with one merge near the end, instead of one insertion each.
struct SortedTimes: Sendable {
    private(set) var values: [Double] = []
    private(set) var head = 0
    private var pending: [Double] = []
    /// The newest of `values` (-∞ when none live), kept here: reading it from the array's tail
    /// was a cache miss on most inserts.
    private var newest = -Double.infinity

    var count: Int { values.count - head + pending.count }

    @inline(__always) mutating func insert(_ v: Double) {
        if newest <= v {
            values.append(v)
            newest = v
            return
        }
        pending.append(v)
        if pending.count >= 4096 { settle() }
    }

    /// Sorts the pending values into `values`: they belong near the end, so only the values after
    /// the smallest of them move, merged from the back in place.
    mutating func settle() {
        guard !pending.isEmpty else { return }
        TimeSort.sort(&pending)
        let from = firstIndexAbove(pending[0])
        let oldCount = values.count
        values.append(contentsOf: pending)
        values.withUnsafeMutableBufferPointer { v in
            pending.withUnsafeBufferPointer { p in
                var i = oldCount - 1, k = p.count - 1, w = v.count - 1
                // Equal values: the sorted ones first (where insertion after equals would have put them).
                while k >= 0 {
                    let takeOld = i >= from && v[i] > p[k]
                    v[w] = takeOld ? v[i] : p[k]
                    i -= takeOld ? 1 : 0
                    k -= takeOld ? 0 : 1
                    w -= 1
                }
            }
        }
        pending.removeAll(keepingCapacity: true)
        newest = values.last ?? -.infinity
    }

    /// Index (into `values`) of the first live element greater than v (pending values aside).
    /// Branch-free halving (the comparison picks the next base by a conditional move).
    func firstIndexAbove(_ v: Double) -> Int {
        values.withUnsafeBufferPointer { p in
            var base = head
            var n = p.count - head
            while n > 1 {
                let half = n >> 1
                base = p[base + half] <= v ? base + half : base
                n -= half
            }
            return n == 1 && p[base] <= v ? base + 1 : base
        }
    }

    /// Live elements ≤ v.
    func countAtOrBelow(_ v: Double) -> Int {
        var n = firstIndexAbove(v) - head
        for p in pending where p <= v { n += 1 }
        return n
    }

    mutating func dropFirst(_ k: Int) {
        settle()
        head += min(k, values.count - head)
        if head == values.count { newest = -.infinity }
        // Compacted once the dead prefix is half the live part, into storage sized for the live
        // part and as many again as half of it: appends then reach the next compaction without
        // the array doubling. `removeFirst` kept the largest capacity ever reached, about four
        // times the live values (a third of the dashboard's endpoint memory; see docs/performance.md).
        let live = values.count - head
        if head > 64, head >= live / 2 {
            var fresh = [Double]()
            fresh.reserveCapacity(live + live / 2 + 64)
            values.withUnsafeBufferPointer { fresh.append(contentsOf: $0[head...]) }
            values = fresh
            head = 0
        }
    }

    var heapBytes: Int { (values.capacity + pending.capacity) * 8 }
}

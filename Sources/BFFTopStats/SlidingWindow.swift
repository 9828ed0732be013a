/// One endpoint's running totals over the settled buckets of one alarm window, so that judging
/// the rules each second adds the bucket that settled and subtracts the one that left instead of
/// merging the whole window again (60 buckets and their sketches, per endpoint, per second).
///
/// Settled: every bucket of the window but the newest `freshBuckets`, which late invocations
/// (an emitter a second behind) still change; those and the stage are read fresh each time.
/// A stage flushed into a bucket already summed is added to the totals as it is to the bucket;
/// any other change to such a bucket (a late invocation, counted outcomes) marks the totals stale
/// and the next read rebuilds them from the tier; peaks only rise and are raised in place. Sums of costs are floating point, so add-and-subtract could drift
/// from a fresh sum: a rebuild every window length bounds that.
struct SlidingWindow: Sendable {
    static let freshBuckets: Int64 = 2

    let window: Window
    /// Tier bucket indices summed: `low...high` (none while `high < low`).
    private(set) var low: Int64 = 0
    private(set) var high: Int64 = -1
    private(set) var valid = false
    private var stepsSinceRebuild = 0
    /// How often the totals were rebuilt and how often moved on by a step (what tests read).
    private(set) var rebuilds = 0
    private(set) var steps = 0
    private(set) var sums = Sums()
    private(set) var latency = SlidingHistogram()
    /// Maxima (and the latency minimum) cannot be subtracted: when the bucket holding one leaves,
    /// they are found again by a scan of the summed buckets' own maxima.
    private var extremaStale = true
    private(set) var extrema = Extrema()

    struct Sums: Sendable, Equatable {
        var count = 0, ok = 0, error = 0, timeout = 0, throttle = 0, cold = 0, test = 0, oom = 0, countedFailures = 0
        var costRequests = 0.0, costCompute = 0.0
    }

    struct Extrema: Sendable, Equatable {
        var maxTimeoutRatio = 0.0, peakConcurrency = 0.0, maxMemoryUsedMB = 0.0
        var latencyMin = Double.infinity, latencyMax = -Double.infinity
    }

    init(window: Window) { self.window = window }

    /// The settled part of the window at `now`: its buckets but the newest `freshBuckets`.
    static func settledRange(_ range: ClosedRange<Int64>) -> (low: Int64, high: Int64) {
        (range.lowerBound, range.upperBound - freshBuckets)
    }

    /// A bucket at tier index `index` changed: totals that include it are stale.
    mutating func bucketChanged(index: Int64) {
        if valid, index <= high { valid = false }
    }

    /// Bucket `index` of the tier took a whole staged bucket `b` (a stage flushed late: the
    /// endpoint's next invocation came seconds after its last): the totals take it too, exactly
    /// as the bucket did, instead of being rebuilt.
    mutating func bucketAbsorbed(_ b: UnsafePointer<Bucket>, index: Int64) {
        if valid, index >= low, index <= high { add(b) }
    }

    /// Adds (`sign` 1) or takes out (-1) a fresh bucket's latencies for one read (see `Aggregator.alarmFigures`).
    mutating func addFresh(_ b: UnsafePointer<Bucket>, sign: Int) {
        latency.add(UnsafeRawPointer(b).advanced(by: Bucket.latencyOffset).assumingMemoryBound(to: LatencySketch.self), sign: sign)
    }

    /// A peak was raised in bucket `index` (peaks only rise, so the running maximum rises with it).
    mutating func peakRaised(index: Int64, to value: Double) {
        if valid, index >= low, index <= high, value > extrema.peakConcurrency { extrema.peakConcurrency = value }
    }

    /// Brings the totals to the settled buckets `low...high` of `ring`.
    mutating func advance(low newLow: Int64, high newHigh: Int64, ring: TierRing) {
        if valid, newLow == low, newHigh == high { return }
        guard valid, newLow >= low, newHigh >= high, newLow - low <= 8, stepsSinceRebuild < window.bucketCount else {
            rebuild(low: newLow, high: newHigh, ring: ring)
            return
        }
        var ok = true
        ring.withSlots { slot in
            let leaveEnd = min(newLow, high + 1)
            if leaveEnd > low {
                for j in low..<leaveEnd {
                    switch slot(j) {
                    case .holds(let b): subtract(b)
                    case .empty: break
                    case .overwritten: ok = false
                    }
                    if !ok { return }
                }
            }
            let enterFrom = max(high + 1, newLow)
            if enterFrom <= newHigh {
                for j in enterFrom...newHigh {
                    if case .holds(let b) = slot(j) { add(b) }
                }
            }
        }
        guard ok else {
            rebuild(low: newLow, high: newHigh, ring: ring)
            return
        }
        (low, high) = (newLow, newHigh)
        stepsSinceRebuild += 1
        steps += 1
        if sums.count == 0 { (sums.costRequests, sums.costCompute) = (0, 0) }
        if extremaStale { rescanExtrema(ring) }
    }

    private mutating func rebuild(low newLow: Int64, high newHigh: Int64, ring: TierRing) {
        sums = Sums()
        latency.removeAll()
        (low, high) = (newLow, newHigh)
        if newHigh >= newLow {
            ring.forEach(in: newLow...newHigh) { _, b in if let b { add(b) } }
        }
        valid = true
        stepsSinceRebuild = 0
        rebuilds += 1
        rescanExtrema(ring)
    }

    private mutating func rescanExtrema(_ ring: TierRing) {
        var e = Extrema()
        if high >= low {
            ring.forEach(in: low...high) { _, b in
                guard let b else { return }
                e.maxTimeoutRatio = max(e.maxTimeoutRatio, b.pointee.maxTimeoutRatio)
                e.peakConcurrency = max(e.peakConcurrency, b.pointee.peakConcurrency)
                e.maxMemoryUsedMB = max(e.maxMemoryUsedMB, b.pointee.maxMemoryUsedMB)
                e.latencyMin = min(e.latencyMin, b.pointee.latency.min)
                e.latencyMax = max(e.latencyMax, b.pointee.latency.max)
            }
        }
        extrema = e
        extremaStale = false
    }

    private mutating func add(_ b: UnsafePointer<Bucket>) {
        sums.count += Int(b.pointee.count)
        sums.ok += Int(b.pointee.outcomes.ok)
        sums.error += Int(b.pointee.outcomes.error)
        sums.timeout += Int(b.pointee.outcomes.timeout)
        sums.throttle += Int(b.pointee.outcomes.throttle)
        sums.cold += Int(b.pointee.cold)
        sums.test += Int(b.pointee.test)
        sums.countedFailures += Int(b.pointee.countedFailures)
        sums.oom += Int(b.pointee.oom)
        sums.costRequests += b.pointee.costRequests
        sums.costCompute += b.pointee.costCompute
        latency.add(UnsafeRawPointer(b).advanced(by: Bucket.latencyOffset).assumingMemoryBound(to: LatencySketch.self), sign: 1)
        extrema.maxTimeoutRatio = max(extrema.maxTimeoutRatio, b.pointee.maxTimeoutRatio)
        extrema.peakConcurrency = max(extrema.peakConcurrency, b.pointee.peakConcurrency)
        extrema.maxMemoryUsedMB = max(extrema.maxMemoryUsedMB, b.pointee.maxMemoryUsedMB)
        extrema.latencyMin = min(extrema.latencyMin, b.pointee.latency.min)
        extrema.latencyMax = max(extrema.latencyMax, b.pointee.latency.max)
    }

    private mutating func subtract(_ b: UnsafePointer<Bucket>) {
        sums.count -= Int(b.pointee.count)
        sums.ok -= Int(b.pointee.outcomes.ok)
        sums.error -= Int(b.pointee.outcomes.error)
        sums.timeout -= Int(b.pointee.outcomes.timeout)
        sums.throttle -= Int(b.pointee.outcomes.throttle)
        sums.cold -= Int(b.pointee.cold)
        sums.test -= Int(b.pointee.test)
        sums.countedFailures -= Int(b.pointee.countedFailures)
        sums.oom -= Int(b.pointee.oom)
        sums.costRequests -= b.pointee.costRequests
        sums.costCompute -= b.pointee.costCompute
        latency.add(UnsafeRawPointer(b).advanced(by: Bucket.latencyOffset).assumingMemoryBound(to: LatencySketch.self), sign: -1)
        let e = extrema
        if b.pointee.maxTimeoutRatio >= e.maxTimeoutRatio && e.maxTimeoutRatio > 0
            || b.pointee.peakConcurrency >= e.peakConcurrency && e.peakConcurrency > 0
            || b.pointee.maxMemoryUsedMB >= e.maxMemoryUsedMB && e.maxMemoryUsedMB > 0
            || b.pointee.latency.count > 0 && (b.pointee.latency.min <= e.latencyMin || b.pointee.latency.max >= e.latencyMax) {
            extremaStale = true
        }
    }
}

/// Counts per sketch key over a contiguous key range that grows as keys arrive; counts add and
/// subtract exactly, so a window's histogram is kept by adding and removing its buckets' sketches.
struct SlidingHistogram: Sendable {
    private(set) var base = 0
    private(set) var counts: [UInt64] = []
    private(set) var count: UInt64 = 0

    mutating func removeAll() {
        counts.removeAll(keepingCapacity: true)
        base = 0
        count = 0
    }

    /// Adds (`sign` 1) or removes (`sign` -1) every count of a sketch, in place (every field
    /// through `p.pointee`: binding the sketch's arrays to locals retains them).
    mutating func add(_ p: UnsafePointer<LatencySketch>, sign: Int) {
        guard p.pointee.count > 0 else { return }
        var lo = Int.max, hi = -1
        if let (f, l) = p.pointee.entries.withUnsafeBufferPointer({ SketchEntries.bounds($0, narrow: p.pointee.narrow) }) {
            lo = f
            hi = l
        }
        let denseBase = p.pointee.denseBase
        if !p.pointee.dense.isEmpty {
            lo = min(lo, denseBase)
            hi = max(hi, denseBase + p.pointee.dense.count - 1)
        }
        guard hi >= lo else { return }
        cover(lo, hi)
        let base = self.base
        counts.withUnsafeMutableBufferPointer { c in
            p.pointee.entries.withUnsafeBufferPointer { entries in
                if sign > 0 {
                    SketchEntries.forEach(entries, narrow: p.pointee.narrow) { k, n in c[k - base] &+= UInt64(n) }
                } else {
                    SketchEntries.forEach(entries, narrow: p.pointee.narrow) { k, n in c[k - base] &-= UInt64(n) }
                }
            }
            p.pointee.dense.withUnsafeBufferPointer { dense in
                let offset = denseBase - base
                if sign > 0 {
                    for (i, n) in dense.enumerated() { c[offset + i] &+= UInt64(n) }
                } else {
                    for (i, n) in dense.enumerated() { c[offset + i] &-= UInt64(n) }
                }
            }
        }
        count = sign > 0 ? count &+ p.pointee.count : count &- p.pointee.count
    }

    /// Nearest-rank quantiles `qs` (ascending, each < 1) as `SketchAccumulator.quantiles` reads
    /// them, clamped to `lowest...highest`: the low ones walked up from the bottom, the high ones
    /// down from the top (a p99 then takes a few keys, not the whole range).
    func quantiles(_ qs: [Double], lowest: Double, highest: Double) -> [Double?] {
        guard count > 0 else { return qs.map { _ in nil } }
        return counts.withUnsafeBufferPointer { c in
            qs.map { q -> Double? in
                let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
                var k = -1
                if q <= 0.5 {
                    var seen: UInt64 = 0
                    for i in c.indices {
                        seen &+= c[i]
                        if seen >= rank { k = i; break }
                    }
                } else {
                    // The answer is the key whose samples above it are at most `count - rank`.
                    let above = count - min(rank, count)
                    var acc: UInt64 = 0
                    for i in c.indices.reversed() {
                        acc &+= c[i]
                        if acc > above { k = i; break }
                    }
                }
                guard k >= 0 else { return highest }
                return min(max(LatencySketch.representative(ofKey: base + k), lowest), highest)
            }
        }
    }

    /// Widens the range to hold keys `lo...hi`.
    private mutating func cover(_ lo: Int, _ hi: Int) {
        if counts.isEmpty {
            base = lo
            counts = [UInt64](repeating: 0, count: hi - lo + 1)
            return
        }
        if lo < base {
            counts.insert(contentsOf: repeatElement(0, count: base - lo), at: 0)
            base = lo
        }
        if hi >= base + counts.count {
            counts.append(contentsOf: repeatElement(0, count: hi - base - counts.count + 1))
        }
    }

    var heapBytes: Int { counts.capacity * 8 }
}

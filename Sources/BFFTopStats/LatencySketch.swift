#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A log-bucket quantile sketch (DDSketch-style) with sparse counts.
///
/// Every value v ≥ 1 µs falls in bucket i = ceil(log_γ(v / 1 µs)); the bucket's representative
/// 2γ^i/(γ+1) is within α = 0.9 % of every value in it, so any nearest-rank quantile read from the
/// sketch is within 0.9 % of the exact sample quantile. Buckets merge exactly (counts add), which is
/// what lets fine time buckets roll up into windows. Values below 1 µs count as 0.
///
/// Storage: one sorted `[UInt32]` of entries (see `SketchEntries`): `key << 20 | count`, or two
/// `key << 4 | count` halves for sparse sketches, whichever is smaller. An idle sketch costs
/// nothing and a busy one 2 to 4 bytes per distinct bucket (a few hundred at most for real
/// latency spreads). A count too large for one entry continues in more entries of the same key.
/// While a sketch is filling (its time bucket is the current one) counts go to a dense array over
/// the keys seen so far, one increment per value instead of a search and an insert;
/// `compact()` folds them into the sorted entries once the bucket is past.
public struct LatencySketch: Sendable, Equatable {
    public static let relativeAccuracy = 0.009
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let invLogGamma = 1 / log(gamma)
    static let minValueMs = 0.001
    static let maxKey: UInt64 = 4095
    static let keyShift: UInt32 = 20
    static let countMask: UInt32 = (1 << 20) - 1

    private(set) var entries: [UInt32] = []
    /// Counts of keys `denseBase ..< denseBase + dense.count` not yet in `entries`.
    private(set) var dense: [UInt32] = []
    /// `denseBase`, stored small so that `narrow` fits beside it (a bucket holds two sketches, and
    /// an hour of history 160 buckets per endpoint).
    private var denseStart: Int32 = 0
    /// `entries` are in the narrow layout (see `SketchEntries`).
    private(set) var narrow = false
    public private(set) var count: UInt64 = 0
    public private(set) var sum: Double = 0
    public private(set) var min: Double = .infinity
    public private(set) var max: Double = -.infinity

    public init() {}

    var denseBase: Int {
        get { Int(denseStart) }
        set { denseStart = Int32(truncatingIfNeeded: newValue) }  // a key: 0 ... maxKey + 1
    }

    public var isEmpty: Bool { count == 0 }

    /// The bucket of a finite value ≥ 0 (by table: `SketchKeyTable`).
    @inline(__always) static func key(for value: Double) -> UInt64 { SketchKeyTable.shared.key(for: value) }

    /// The bucket by its definition, ceil(log_γ(v / 1 µs)); what `SketchKeyTable` is built from.
    static func exactKey(for value: Double) -> UInt64 {
        guard value >= minValueMs else { return 0 }
        let i = (log(value / minValueMs) * invLogGamma).rounded(.up)
        guard i < Double(maxKey) else { return maxKey }  // also +∞ (a value near the largest double)
        return Swift.min(UInt64(Swift.max(i, 0)) + 1, maxKey)
    }

    @inline(__always) static func representative(ofKey key: Int) -> Double {
        guard key > 0 else { return 0 }
        return minValueMs * 2 * pow(gamma, Double(key - 1)) / (gamma + 1)
    }

    public mutating func add(_ value: Double, count n: UInt64 = 1) {
        guard value.isFinite else { return }
        add(value, key: Self.key(for: Swift.max(value, 0)), count: n)
    }

    /// Adds with a precomputed `key(for:)`, so one value fed to several tiers takes one log().
    @inline(__always) mutating func add(_ value: Double, key: UInt64, count n: UInt64 = 1) {
        guard n > 0, value.isFinite else { return }
        let v = Swift.max(value, 0)
        count += n
        sum += v * Double(n)
        if v < min { min = v }
        if v > max { max = v }
        addCount(Int(key), n)
    }

    /// Counts `n` more of key `k`: densely while the sketch is filling (or empty), else sorted in.
    @inline(__always) private mutating func addCount(_ k: Int, _ n: UInt64) {
        if entries.isEmpty || !dense.isEmpty, n < UInt64(UInt32.max / 2) {
            addDense(k, UInt32(n))
        } else {
            insert(key: UInt64(k), count: n)
        }
    }

    @inline(__always) private mutating func addDense(_ k: Int, _ n: UInt32) {
        let i = k - denseBase
        if i >= 0, i < dense.count, dense[i] <= UInt32.max / 2 {
            dense[i] &+= n
            return
        }
        addDenseSlow(k, n)
    }

    /// Adds `other`'s dense counts to this sketch's (widened once to cover them), key by key.
    private mutating func addDense(_ other: LatencySketch) {
        let lo = other.denseBase, hi = other.denseBase + other.dense.count
        if dense.isEmpty || lo < denseBase || hi > denseBase + dense.count {
            let newLo = dense.isEmpty ? lo : Swift.min(lo, denseBase)
            let newHi = dense.isEmpty ? hi : Swift.max(hi, denseBase + dense.count)
            var wider = [UInt32](repeating: 0, count: newHi - newLo)
            for (i, c) in dense.enumerated() { wider[denseBase - newLo + i] = c }
            dense = wider
            denseBase = newLo
        }
        let offset = lo - denseBase
        var overflow = false
        dense.withUnsafeMutableBufferPointer { d in
            other.dense.withUnsafeBufferPointer { o in
                for i in o.indices {
                    let (sum, over) = d[offset + i].addingReportingOverflow(o[i])
                    if over || sum > UInt32.max / 2 { overflow = true }
                    d[offset + i] = sum
                }
            }
        }
        // Counts near 2^31 in one key of one bucket (never in practice): the entries take them.
        if overflow { compact() }
    }

    /// Widens the dense range to cover `k` (with some slack, so a spreading distribution does
    /// not reallocate on every new key), or folds a nearly full count into the entries.
    private mutating func addDenseSlow(_ k: Int, _ n: UInt32) {
        if dense.isEmpty {
            denseBase = Swift.max(0, k - 8)
            dense = [UInt32](repeating: 0, count: Swift.min(Int(Self.maxKey) + 1, k + 9) - denseBase)
        } else if k < denseBase || k >= denseBase + dense.count {
            // Geometric slack: a spreading distribution reallocates a few times, not every 16 keys.
            let slack = 16
            let lo = k < denseBase ? Swift.max(0, k - slack) : denseBase
            let hi = k >= denseBase + dense.count ? Swift.min(Int(Self.maxKey) + 1, k + slack + 1) : denseBase + dense.count
            var wider = [UInt32](repeating: 0, count: hi - lo)
            for (i, c) in dense.enumerated() { wider[denseBase - lo + i] = c }
            dense = wider
            denseBase = lo
        } else {
            compact()  // a count near 2^32 (never in practice): the entries split it
            insert(key: UInt64(k), count: UInt64(n))
            return
        }
        dense[k - denseBase] &+= n
    }

    /// Folds the dense counts into the sorted entries (one merge pass) and frees them.
    mutating func compact() {
        guard !dense.isEmpty else { return }
        if entries.isEmpty {
            compactDenseOnly()
            return
        }
        var merged: [UInt32] = []
        merged.reserveCapacity(entries.count + dense.reduce(0) { $0 + ($1 > 0 ? 1 : 0) })
        forEachKey { k, c in Self.append(&merged, key: UInt32(k), count: c) }
        (entries, narrow) = SketchEntries.packed(SketchEntries.exactSize(merged))
        dense = []
        denseBase = 0
    }

    /// `compact` of a sketch that has only dense counts (a past second's bucket): one pass to
    /// count, one to fill an array of the right size. Both without a branch per key (most keys
    /// of a dense range are empty, in no pattern a predictor learns): every second, each
    /// endpoint's staged sketch comes through here.
    private mutating func compactDenseOnly() {
        let (n, units, largest, lastUsed) = dense.withUnsafeBufferPointer { d -> (Int, Int, UInt32, Int) in
            var n = 0
            var units = 0  // entries in the narrow layout
            var largest: UInt32 = 0
            var lastUsed = -1
            for i in d.indices {
                n &+= d[i] > 0 ? 1 : 0
                units &+= SketchEntries.narrowUnits(d[i])
                largest = Swift.max(largest, d[i])
                lastUsed = d[i] > 0 ? i : lastUsed
            }
            return (n, units, largest, lastUsed)
        }
        guard largest <= Self.countMask else {  // a key past 2^20 in one second (never in practice): split entries
            var merged: [UInt32] = []
            forEachKey { k, c in Self.append(&merged, key: UInt32(k), count: c) }
            entries = merged
            narrow = false
            dense = []
            denseBase = 0
            return
        }
        let base = UInt32(denseBase)
        if units < 2 * n {  // half the bytes or less: narrow (see `SketchEntries`)
            entries = dense.withUnsafeBufferPointer { d in
                SketchEntries.writingNarrow(units: units) { put in
                    for i in 0..<(lastUsed + 1) where d[i] > 0 { put(Int(base) + i, d[i]) }
                }
            }
            narrow = true
            dense = []
            denseBase = 0
            return
        }
        narrow = false
        entries = dense.withUnsafeBufferPointer { d in
            // Every key up to the last nonzero one is written, and only a nonzero one kept: before
            // that last one, fewer than n are kept, so the write stays inside.
            [UInt32](unsafeUninitializedCapacity: n) { out, used in
                var j = 0
                for i in 0..<(lastUsed + 1) {
                    out[j] = (base + UInt32(i)) << Self.keyShift | d[i]
                    j &+= d[i] > 0 ? 1 : 0
                }
                used = j
            }
        }
        dense = []
        denseBase = 0
    }

    /// Two ascending entry lists as one; a key's counts combine into one entry while they fit.
    private static func mergedEntries(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(Swift.max(a.count, b.count) + 16)
        var i = 0, j = 0
        while i < a.count || j < b.count {
            let e: UInt32
            if j == b.count || (i < a.count && a[i] >> keyShift <= b[j] >> keyShift) {
                e = a[i]
                i += 1
            } else {
                e = b[j]
                j += 1
            }
            if let last = out.last, last >> keyShift == e >> keyShift, (last & countMask) + (e & countMask) <= countMask {
                out[out.count - 1] = last + (e & countMask)
            } else {
                out.append(e)
            }
        }
        return SketchEntries.exactSize(out)
    }

    /// Appends `key` with `count`, split into entries of at most `countMask` each.
    private static func append(_ out: inout [UInt32], key: UInt32, count: UInt64) {
        var left = count
        while left > 0 {
            let take = Swift.min(left, UInt64(countMask))
            out.append(key << keyShift | UInt32(take))
            left -= take
        }
    }

    /// Every (key, count) in ascending key order, entries and dense counts together. A key may come
    /// twice in a row (a count past 2^20 spans entries).
    @inline(__always) func forEachKey(_ body: (Int, UInt64) -> Void) {
        if dense.isEmpty {
            forEachEntry { k, c in if c > 0 { body(k, UInt64(c)) } }
            return
        }
        forEachKeyMerged(body)
    }

    /// Every compacted entry's key and count in place, in either layout (see `SketchEntries.forEach`).
    @inline(__always) func forEachEntry(_ body: (Int, UInt32) -> Void) {
        entries.withUnsafeBufferPointer { SketchEntries.forEach($0, narrow: narrow, body) }
    }

    private func forEachKeyMerged(_ body: (Int, UInt64) -> Void) {
        let entries = SketchEntries.widened(entries, narrow: narrow)  // (both kinds at once: rare)
        var i = 0
        var d = 0
        while i < entries.count || d < dense.count {
            let ek = i < entries.count ? Int(entries[i] >> Self.keyShift) : Int.max
            while d < dense.count, dense[d] == 0 { d += 1 }
            let dk = d < dense.count ? denseBase + d : Int.max
            if ek == Int.max, dk == Int.max { break }
            if ek <= dk {
                var c = UInt64(entries[i] & Self.countMask)
                i += 1
                while i < entries.count, Int(entries[i] >> Self.keyShift) == ek {
                    c += UInt64(entries[i] & Self.countMask)
                    i += 1
                }
                if dk == ek {
                    c += UInt64(dense[d])
                    d += 1
                }
                body(ek, c)
            } else {
                body(dk, UInt64(dense[d]))
                d += 1
            }
        }
    }

    private mutating func insert(key: UInt64, count n: UInt64) {
        if narrow {
            // A late value into a sparse past bucket: widen, insert, pack again (a few hundred
            // entries at most; narrow entries have no key to search by).
            entries = SketchEntries.widened(entries, narrow: true)
            narrow = false
            insert(key: key, count: n)
            (entries, narrow) = SketchEntries.packed(entries)
            return
        }
        let k = UInt32(key)
        var lo = firstEntry(atLeast: k)
        var left = n
        // Fill this key's entries first, then add new ones (the common case: one entry per key).
        while lo < entries.count, entries[lo] >> Self.keyShift == k, left > 0 {
            let room = UInt64(Self.countMask - (entries[lo] & Self.countMask))
            let take = Swift.min(room, left)
            entries[lo] &+= UInt32(take)
            left -= take
            lo += 1
        }
        while left > 0 {
            let take = Swift.min(left, UInt64(Self.countMask))
            entries.insert(k << Self.keyShift | UInt32(take), at: lo)
            left -= take
            lo += 1
        }
    }

    /// Index of the first entry whose key is ≥ k (entries.count if none). Branch-free halving: the
    /// keys of successive events are random, so a branchy search mispredicted every other step.
    @inline(__always) private func firstEntry(atLeast k: UInt32) -> Int {
        entries.withUnsafeBufferPointer { e -> Int in
            var len = e.count
            guard len > 0, let p = e.baseAddress else { return 0 }
            var base = 0
            while len > 1 {
                let half = len >> 1
                base = p[base + half - 1] >> Self.keyShift < k ? base + half : base
                len -= half
            }
            return p[base] >> Self.keyShift < k ? base + 1 : base
        }
    }

    /// Adds every count of `other` (exact: the result equals a sketch fed both streams).
    public mutating func merge(_ other: LatencySketch) {
        guard !other.isEmpty else { return }
        if isEmpty {
            self = other
            return
        }
        if other.entries.isEmpty, !other.dense.isEmpty, entries.isEmpty || !dense.isEmpty {
            addDense(other)  // a staged second into a filling bucket: dense into dense
        } else if dense.isEmpty {
            // Into a compacted bucket (a flush after the bucket's tier moved on): one merge of two
            // sorted lists into an array of the right size, not an insert per key (each insert can
            // double the array's capacity, kept for the bucket's life).
            var o = other
            o.compact()
            (entries, narrow) = SketchEntries.packed(Self.mergedEntries(
                SketchEntries.widened(entries, narrow: narrow), SketchEntries.widened(o.entries, narrow: o.narrow)))
        } else {
            other.forEachKey { k, c in addCount(k, c) }
        }
        count += other.count
        sum += other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
    }

    /// Adds `other` to this sketch, stored compact (sorted entries) if this one is empty: a past
    /// second's bucket taking its staged invocations is final but for late arrivals, so it skips
    /// the dense stage and shares no storage with the stage that is reused.
    public mutating func mergeCompacted(_ other: LatencySketch) {
        guard isEmpty, entries.isEmpty, dense.isEmpty, other.entries.isEmpty else {
            merge(other)
            return
        }
        var copy = other
        copy.compact()
        self = copy
    }

    /// Empties the sketch but keeps its dense storage (the stage, refilled every second).
    mutating func removeAllKeepingStorage() {
        if entries.isEmpty, !dense.isEmpty {
            dense.withUnsafeMutableBufferPointer { d in
                for i in d.indices { d[i] = 0 }
            }
        } else {
            entries = []
            narrow = false
            dense = []
            denseBase = 0
        }
        count = 0
        sum = 0
        min = .infinity
        max = -.infinity
    }

    /// Gives back spare capacity; called once a bucket stops receiving most of its events.
    public mutating func trim() {
        compact()
        guard entries.capacity > entries.count + 2 else { return }
        let n = entries.count
        entries = entries.withUnsafeBufferPointer { src in
            [UInt32](unsafeUninitializedCapacity: n) { dst, used in
                _ = dst.initialize(from: src)
                used = n
            }
        }
    }

    /// Nearest-rank quantile: the smallest value with at least ⌈q·n⌉ samples at or below it.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        if q >= 1 { return max }
        let rank = Swift.max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        var found: Int?
        if dense.isEmpty {
            found = entries.withUnsafeBufferPointer { SketchEntries.firstKey($0, narrow: narrow, reaching: rank) }
        } else {
            forEachKey { k, c in
                guard found == nil else { return }
                seen += c
                if seen >= rank { found = k }
            }
        }
        guard let found else { return max }
        return Swift.min(Swift.max(Self.representative(ofKey: found), min), max)
    }

    /// How many values are at or below each bound (ms), as a histogram's cumulative buckets. A
    /// bucket of the sketch counts below a bound when the bound's own bucket is at or above it, so
    /// only values within one bucket (1.8 %) of a bound can land on the wrong side of it.
    public func cumulativeCounts(atOrBelow bounds: [Double]) -> [UInt64] {
        let keys = bounds.map { Int(Self.key(for: Swift.max($0.isFinite ? $0 : 0, 0))) }
        var out = [UInt64](repeating: 0, count: bounds.count)
        forEachKey { k, c in
            for j in keys.indices where k <= keys[j] { out[j] += c }
        }
        return out
    }

    /// Heap bytes held by this sketch (for memory accounting in benchmarks).
    public var heapBytes: Int { entries.capacity * 4 + dense.capacity * 4 }

    /// Equal contents (however they are stored).
    public static func == (a: LatencySketch, b: LatencySketch) -> Bool {
        guard a.count == b.count, a.sum == b.sum, a.min == b.min, a.max == b.max else { return false }
        func normalized(_ s: LatencySketch) -> (keys: [Int], counts: [UInt64]) {
            var keys: [Int] = [], counts: [UInt64] = []
            s.forEachKey { k, c in
                if keys.last == k { counts[counts.count - 1] += c } else { keys.append(k); counts.append(c) }
            }
            return (keys, counts)
        }
        let (ka, ca) = normalized(a), (kb, cb) = normalized(b)
        return ka == kb && ca == cb
    }
}

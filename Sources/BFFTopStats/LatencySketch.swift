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
/// Storage: one sorted `[UInt32]`, each entry `key << 20 | count`, so an idle sketch costs nothing
/// and a busy one 4 bytes per distinct bucket (a few hundred at most for real latency spreads).
/// A key whose count would pass 2^20 - 1 continues in a second entry with the same key.
public struct LatencySketch: Sendable, Equatable {
    public static let relativeAccuracy = 0.009
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let invLogGamma = 1 / log(gamma)
    static let minValueMs = 0.001
    static let maxKey: UInt64 = 4095
    static let keyShift: UInt32 = 20
    static let countMask: UInt32 = (1 << 20) - 1

    private(set) var entries: [UInt32] = []
    public private(set) var count: UInt64 = 0
    public private(set) var sum: Double = 0
    public private(set) var min: Double = .infinity
    public private(set) var max: Double = -.infinity

    public init() {}

    public var isEmpty: Bool { count == 0 }

    @inline(__always) static func key(for value: Double) -> UInt64 {
        guard value >= minValueMs else { return 0 }
        let i = (log(value / minValueMs) * invLogGamma).rounded(.up)
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
        insert(key: key, count: n)
    }

    private mutating func insert(key: UInt64, count n: UInt64) {
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
        for e in other.entries { insert(key: UInt64(e >> Self.keyShift), count: UInt64(e & Self.countMask)) }
        count += other.count
        sum += other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
    }

    /// Gives back spare capacity; called once a bucket stops receiving most of its events.
    public mutating func trim() {
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
        for e in entries {
            seen += UInt64(e & Self.countMask)
            if seen >= rank {
                return Swift.min(Swift.max(Self.representative(ofKey: Int(e >> Self.keyShift)), min), max)
            }
        }
        return max
    }

    /// Heap bytes held by this sketch (for memory accounting in benchmarks).
    public var heapBytes: Int { entries.capacity * 4 }
}

/// Dense scratch space for merging many sketches at once (one window of buckets).
/// Reused across queries so a window read allocates nothing.
public struct SketchAccumulator {
    private var counts = [UInt64](repeating: 0, count: Int(LatencySketch.maxKey) + 1)
    private var lo = Int.max
    private var hi = -1
    public private(set) var count: UInt64 = 0
    public private(set) var sum: Double = 0
    public private(set) var min: Double = .infinity
    public private(set) var max: Double = -.infinity

    public init() {}

    public mutating func reset() {
        if hi >= lo {
            for k in lo...hi { counts[k] = 0 }
        }
        lo = .max
        hi = -1
        count = 0
        sum = 0
        min = .infinity
        max = -.infinity
    }

    public mutating func add(_ s: LatencySketch) {
        guard !s.isEmpty else { return }
        for e in s.entries {
            let k = Int(e >> LatencySketch.keyShift)
            counts[k] &+= UInt64(e & LatencySketch.countMask)
            if k < lo { lo = k }
            if k > hi { hi = k }
        }
        count += s.count
        sum += s.sum
        min = Swift.min(min, s.min)
        max = Swift.max(max, s.max)
    }

    /// Several nearest-rank quantiles in one pass; `qs` must be ascending.
    public func quantiles(_ qs: [Double]) -> [Double?] {
        guard count > 0, hi >= lo else { return qs.map { _ in nil } }
        var out = [Double?](repeating: nil, count: qs.count)
        var seen: UInt64 = 0  // samples in buckets below k
        var k = lo
        for (i, q) in qs.enumerated() {
            if q >= 1 {
                out[i] = max
                continue
            }
            let rank = Swift.max(1, UInt64((q * Double(count)).rounded(.up)))
            while k <= hi, seen + counts[k] < rank {
                seen += counts[k]
                k += 1
            }
            out[i] = k <= hi ? Swift.min(Swift.max(LatencySketch.representative(ofKey: k), min), max) : max
        }
        return out
    }

    /// Non-empty buckets, ascending, as (lower, upper, count).
    public func histogram() -> [(lower: Double, upper: Double, count: UInt64)] {
        guard hi >= lo else { return [] }
        var out: [(Double, Double, UInt64)] = []
        for k in lo...hi where counts[k] > 0 {
            let upper = k == 0 ? LatencySketch.minValueMs : LatencySketch.minValueMs * pow(LatencySketch.gamma, Double(k - 1))
            let lower = k <= 1 ? 0 : upper / LatencySketch.gamma
            out.append((lower, upper, counts[k]))
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    public mutating func add(_ s: borrowing LatencySketch) {
        withUnsafePointer(to: s) { add($0) }
    }

    /// The same from a sketch in place (a bucket's, read through its pointer without a copy).
    mutating func add(_ p: UnsafePointer<LatencySketch>) {
        // Every field through `p.pointee`: binding the sketch to a local would copy it.
        guard p.pointee.count > 0 else { return }
        // Straight loops over both storages (a closure that mutates `counts` was twice as slow).
        // The bounds come from the ends of each (entries are sorted; a dense range may have zero
        // counts at its edges, which only widens the scan a little), not a branch per key.
        let base = p.pointee.denseBase
        var (lo, hi) = (self.lo, self.hi)
        counts.withUnsafeMutableBufferPointer { counts in
            p.pointee.entries.withUnsafeBufferPointer { entries in
                guard let (first, last) = SketchEntries.bounds(entries, narrow: p.pointee.narrow) else { return }
                lo = Swift.min(lo, first)
                hi = Swift.max(hi, last)
                SketchEntries.forEach(entries, narrow: p.pointee.narrow) { k, c in counts[k] &+= UInt64(c) }
            }
            p.pointee.dense.withUnsafeBufferPointer { dense in
                guard !dense.isEmpty else { return }
                lo = Swift.min(lo, base)
                hi = Swift.max(hi, base + dense.count - 1)
                for (i, c) in dense.enumerated() { counts[base + i] &+= UInt64(c) }
            }
        }
        (self.lo, self.hi) = (lo, hi)
        count += p.pointee.count
        sum += p.pointee.sum
        min = Swift.min(min, p.pointee.min)
        max = Swift.max(max, p.pointee.max)
    }

    /// Adds a window's running histogram (its sum is not kept: `sum` leaves it out) with the
    /// extremes of the values in it.
    mutating func add(_ h: SlidingHistogram, min lowest: Double, max highest: Double) {
        guard h.count > 0 else { return }
        let base = h.base
        var (lo, hi) = (self.lo, self.hi)
        counts.withUnsafeMutableBufferPointer { counts in
            h.counts.withUnsafeBufferPointer { src in
                var first = -1, last = -1
                for (i, c) in src.enumerated() where c > 0 {
                    counts[base + i] &+= c
                    if first < 0 { first = i }
                    last = i
                }
                if first >= 0 {
                    lo = Swift.min(lo, base + first)
                    hi = Swift.max(hi, base + last)
                }
            }
        }
        (self.lo, self.hi) = (lo, hi)
        count += h.count
        min = Swift.min(min, lowest)
        max = Swift.max(max, highest)
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

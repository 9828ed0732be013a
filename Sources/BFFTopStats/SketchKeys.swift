#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `LatencySketch.key(for:)` without a logarithm: every value's key from two table reads and one
/// comparison, equal to the formula's for every double (the tables are built from the formula).
///
/// The top bits of a positive double (exponent and first 7 mantissa bits) cut the number line into
/// sub-ranges less than 0.8 % wide, narrower than one sketch bucket (1.8 %), so a sub-range holds
/// at most one bucket boundary: its first value's key, plus one past that boundary. A log, a ceil
/// and a lazily initialised constant per event were half of pricing an invocation.
struct SketchKeyTable: Sendable {
    private static let subRangeShift: UInt64 = 45
    /// Sub-range index of the first entry of `startKeys`.
    private let firstSubRange: UInt64
    /// The key of each sub-range's first value (from the one holding `minValueMs` to the first
    /// whose keys are all `maxKey`).
    private let startKeys: [UInt16]
    /// `lowerBounds[k]`: the smallest double whose key is k (k ≥ 1); +∞ past `maxKey`.
    private let lowerBounds: [Double]

    static let shared = SketchKeyTable()

    init() {
        typealias S = LatencySketch
        firstSubRange = S.minValueMs.bitPattern >> Self.subRangeShift
        var starts: [UInt16] = []
        var range = firstSubRange
        while true {
            let k = S.exactKey(for: Swift.max(Double(bitPattern: range << Self.subRangeShift), S.minValueMs))
            starts.append(UInt16(k))
            if k >= S.maxKey { break }
            range += 1
        }
        var bounds = [Double](repeating: .infinity, count: Int(S.maxKey) + 2)
        bounds[0] = 0
        bounds[1] = S.minValueMs
        // Key k first appears in the sub-range before the first one that starts at k or above
        // (or at that one's first value): bisect the doubles in between.
        var r = 0
        for k in 2...Int(S.maxKey) {
            while Int(starts[r]) < k { r += 1 }
            var lo = r == 0 ? S.minValueMs.bitPattern : (firstSubRange + UInt64(r - 1)) << Self.subRangeShift
            var hi = (firstSubRange + UInt64(r)) << Self.subRangeShift
            while lo < hi {
                let mid = lo + (hi - lo) / 2
                if S.exactKey(for: Double(bitPattern: mid)) >= UInt64(k) { hi = mid } else { lo = mid + 1 }
            }
            bounds[k] = Double(bitPattern: lo)
        }
        startKeys = starts
        lowerBounds = bounds
    }

    /// The key of a finite value ≥ 0.
    @inline(always) func key(for value: Double) -> UInt64 {
        guard value >= LatencySketch.minValueMs else { return 0 }
        let r = Int(truncatingIfNeeded: (value.bitPattern >> Self.subRangeShift) &- firstSubRange)
        guard r < startKeys.count else { return LatencySketch.maxKey }
        return startKeys.withUnsafeBufferPointer { s in
            lowerBounds.withUnsafeBufferPointer { b in
                let k = UInt64(s[r])
                // As a 0/1 integer, not a branch: which side of the boundary a value falls is a coin toss.
                let past = value >= b[Int(k) + 1]
                return k &+ UInt64(unsafeBitCast(past, to: UInt8.self))
            }
        }
    }
}

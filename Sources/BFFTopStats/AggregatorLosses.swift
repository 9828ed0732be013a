/// Events the aggregator received and could not count, by reason: shown in the header and in
/// `report`, so that nothing it is given vanishes unseen. (Events past the endpoint cap are not
/// losses: they are counted in the overflow rows, see `Aggregator.overflowName`.)
public struct AggregatorLosses: Sendable, Equatable {
    /// Older than the history the aggregator keeps (`Aggregator.history` behind the newest time it
    /// has seen): no window could show them.
    public var tooOld = 0
    /// Claiming to end further ahead of their receive time than `maxFutureSkew`: a clock that is
    /// wrong by more than a skew, or a timestamp in the wrong unit.
    public var future = 0
    /// Counted when they arrived, then refused by every tier when their second was stored (time had
    /// moved past them in between).
    public var expired = 0

    public init() {}

    public var total: Int { tooOld + future + expired }

    /// "3 too old, 1 from the future": the non-zero reasons, for the header and reports.
    public var summary: String {
        var parts: [String] = []
        if tooOld > 0 { parts.append("\(tooOld) too old") }
        if future > 0 { parts.append("\(future) from the future") }
        if expired > 0 { parts.append("\(expired) expired") }
        return parts.joined(separator: ", ")
    }
}

/// About how many distinct names have been seen: a HyperLogLog of 4,096 registers (4 KiB, about
/// 1.6 % standard error), for the names past the endpoint cap, which must not be remembered one
/// by one (a million distinct names would be the memory the cap exists to bound).
struct DistinctEstimate: Sendable {
    private var registers = [UInt8](repeating: 0, count: 1 << Self.bits)
    private var exactSmall: Set<String> = []
    private static let bits = 12
    /// Up to this many, the names are kept and counted exactly (a handful past the cap is the
    /// common case, and an estimate of "3" should not read "≈3").
    private static let exactLimit = 256

    mutating func insert(_ name: String) {
        if exactSmall.count < Self.exactLimit { exactSmall.insert(name) }
        var h = Hasher()
        h.combine(name)
        let x = UInt64(bitPattern: Int64(h.finalize()))
        let index = Int(x >> UInt64(64 - Self.bits))
        let rest = x << UInt64(Self.bits) | (1 << UInt64(Self.bits - 1))  // the guard bit bounds the rank
        let rank = UInt8(rest.leadingZeroBitCount + 1)
        if rank > registers[index] { registers[index] = rank }
    }

    /// Whether `count` is exact.
    var isExact: Bool { exactSmall.count < Self.exactLimit }

    var count: Int {
        if isExact { return exactSmall.count }
        let m = Double(registers.count)
        var sum = 0.0
        var zeros = 0
        for r in registers {
            sum += 1 / Double(UInt64(1) << UInt64(r))
            if r == 0 { zeros += 1 }
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        var e = alpha * m * m / sum
        if e <= 2.5 * m, zeros > 0 { e = m * log(m / Double(zeros)) }  // linear counting for small sets
        return max(Self.exactLimit, Int(e.rounded()))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

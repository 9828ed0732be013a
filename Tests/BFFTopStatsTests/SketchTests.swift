import Foundation
import Testing
@testable import BFFTopStats

/// Exact nearest-rank quantile of sorted samples, computed independently of the sketch.
func exactQuantile(_ sorted: [Double], _ q: Double) -> Double {
    if q >= 1 { return sorted[sorted.count - 1] }
    let rank = max(1, Int((q * Double(sorted.count)).rounded(.up)))
    return sorted[rank - 1]
}

func logNormal(_ rng: inout SplitMix, median: Double, sigma: Double) -> Double {
    let u1 = max(Double(rng.next() % 1_000_000_000) / 1e9, 1e-12)
    let u2 = Double(rng.next() % 1_000_000_000) / 1e9
    let z = sqrt(-2 * log(u1)) * cos(2 * .pi * u2)
    return median * exp(sigma * z)
}

@Suite struct SketchTests {
    /// The table lookup must give the formula's key for every value: checked on each side of
    /// every bucket boundary (one ulp apart) and at random values over the whole range.
    @Test func tableKeysEqualTheFormula() {
        var checked = 0
        for k in 1...Int(LatencySketch.maxKey) {
            // Where the formula's key first reaches k, found independently by bisection on doubles.
            var lo = LatencySketch.minValueMs.bitPattern, hi = (1e40).bitPattern
            while lo < hi {
                let mid = lo + (hi - lo) / 2
                if LatencySketch.exactKey(for: Double(bitPattern: mid)) >= UInt64(k) { hi = mid } else { lo = mid + 1 }
            }
            for bits in [lo - 1, lo, lo + 1] {
                let v = Double(bitPattern: bits)
                #expect(LatencySketch.key(for: v) == LatencySketch.exactKey(for: v), "\(v)")
                checked += 1
            }
        }
        var rng = SplitMix(seed: 77)
        for _ in 0..<200_000 {
            // Log-uniform from 1e-5 ms to 1e35 ms, plus exact zeros and the minimum.
            let v = pow(10, -5 + Double(rng.next() % 40_000_000) / 1_000_000)
            #expect(LatencySketch.key(for: v) == LatencySketch.exactKey(for: v), "\(v)")
        }
        for v in [0, LatencySketch.minValueMs, LatencySketch.minValueMs.nextDown, 1, 1e300, .greatestFiniteMagnitude] {
            #expect(LatencySketch.key(for: v) == LatencySketch.exactKey(for: v), "\(v)")
        }
        #expect(checked == 3 * Int(LatencySketch.maxKey))
    }

    @Test func quantilesWithinOnePercentOfExact() {
        var rng = SplitMix(seed: 1)
        for (median, sigma, n) in [(40.0, 0.6, 10_000), (3.0, 2.0, 5_000), (900.0, 0.2, 1_001), (0.02, 1.0, 333)] {
            var s = LatencySketch()
            var xs: [Double] = []
            for _ in 0..<n {
                let v = logNormal(&rng, median: median, sigma: sigma)
                xs.append(v)
                s.add(v)
            }
            xs.sort()
            for q in [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
                guard let got = s.quantile(q) else { Issue.record("empty"); continue }
                let want = exactQuantile(xs, q)
                #expect(abs(got - want) / want <= 0.01, "q=\(q) median=\(median): got \(got), exact \(want)")
            }
            #expect(s.count == UInt64(n))
            #expect(s.max == xs.last)
            #expect(s.min == xs.first)
        }
    }

    /// A filling sketch counts densely and compacts later; late values go to the sorted entries.
    /// However the counts are stored, contents, quantiles and merges are the same.
    @Test func denseAndSortedStorageAgree() {
        var rng = SplitMix(seed: 9)
        var dense = LatencySketch(), sparse = LatencySketch(), mixed = LatencySketch()
        for i in 0..<20_000 {
            let v = i % 97 == 0 ? Double(rng.next() % 100_000) : logNormal(&rng, median: 35, sigma: 1.1)
            dense.add(v)
            sparse.add(v)
            sparse.compact()  // every later value takes the sorted path
            mixed.add(v)
            if i % 1000 == 999 { mixed.compact() }  // a bucket that moved on, then received late values
        }
        #expect(dense == sparse)
        #expect(mixed == sparse)
        for q in [0.001, 0.1, 0.5, 0.9, 0.99, 0.9999, 1.0] {
            #expect(dense.quantile(q) == sparse.quantile(q))
            #expect(mixed.quantile(q) == sparse.quantile(q))
        }
        var merged = LatencySketch()
        merged.add(1)
        merged.merge(dense)
        var merged2 = LatencySketch()
        merged2.add(1)
        merged2.compact()
        merged2.merge(sparse)
        #expect(merged == merged2)
        var acc1 = SketchAccumulator(), acc2 = SketchAccumulator()
        acc1.add(dense)
        acc2.add(sparse)
        #expect(acc1.quantiles([0.5, 0.99]) == acc2.quantiles([0.5, 0.99]))
        #expect(acc1.histogram().map(\.count) == acc2.histogram().map(\.count))
        dense.compact()
        #expect(dense == sparse)
        #expect(dense.heapBytes <= sparse.heapBytes + 64)
    }

    /// The ways a staged second reaches its buckets — dense into a filling bucket, into an empty
    /// one stored compact at once, into one already compacted (one sorted merge) — and the stage
    /// emptied for reuse all keep the counts exact, whatever the storage.
    @Test func stagedMergesAreExactInEveryStorage() {
        var rng = SplitMix(seed: 11)
        var reference = LatencySketch()
        var filling = LatencySketch(), compacted = LatencySketch(), fresh = LatencySketch()
        var stage = LatencySketch()
        for second in 0..<40 {
            for _ in 0..<(50 + second * 7) {
                let v = second % 9 == 0 ? Double(rng.next() % 50_000) : logNormal(&rng, median: 40, sigma: 0.9)
                stage.add(v)
                reference.add(v)
            }
            filling.merge(stage)
            compacted.merge(stage)
            compacted.compact()
            if second == 0 { fresh.mergeCompacted(stage) } else { fresh.merge(stage) }
            stage.removeAllKeepingStorage()
            #expect(stage.isEmpty && stage.quantile(0.5) == nil)
        }
        // Counts per key exactly; the sum (for the mean) was added up per second, so in another order.
        func keys(_ s: LatencySketch) -> [Int: UInt64] {
            var out: [Int: UInt64] = [:]
            s.forEachKey { k, c in out[k, default: 0] += c }
            return out
        }
        for s in [filling, compacted, fresh] {
            #expect(keys(s) == keys(reference))
            #expect(s.count == reference.count && s.min == reference.min && s.max == reference.max)
            #expect(abs(s.sum - reference.sum) <= 1e-9 * reference.sum)
            for q in [0.01, 0.5, 0.99, 1.0] { #expect(s.quantile(q) == reference.quantile(q)) }
        }
        // Counts past an entry's 2^20 limit split into entries of the same key when merged sorted.
        var big = LatencySketch(), other = LatencySketch(), expected = LatencySketch()
        big.add(10, count: 1_000_000)
        big.compact()
        other.add(10, count: 600_000)
        other.add(20, count: 3)
        expected.add(10, count: 1_600_000)
        expected.add(20, count: 3)
        big.merge(other)
        #expect(big == expected)
        #expect(big.quantile(0.5) == expected.quantile(0.5))
    }

    @Test func mergeIsExact() {
        var rng = SplitMix(seed: 2)
        var a = LatencySketch(), b = LatencySketch(), all = LatencySketch()
        for i in 0..<5000 {
            let v = logNormal(&rng, median: 50, sigma: 1)
            if i % 3 == 0 { a.add(v) } else { b.add(v) }
            all.add(v)
        }
        var m = a
        m.merge(b)
        #expect(m.entries == all.entries)
        #expect(m.count == all.count)
        var acc = SketchAccumulator()
        acc.add(a)
        acc.add(b)
        let qs = acc.quantiles([0.5, 0.9, 0.99, 1])
        #expect(qs[0] == all.quantile(0.5))
        #expect(qs[1] == all.quantile(0.9))
        #expect(qs[2] == all.quantile(0.99))
        #expect(qs[3] == all.max)
    }

    @Test func accumulatorResetForgetsEverything() {
        var s = LatencySketch()
        s.add(10)
        var acc = SketchAccumulator()
        acc.add(s)
        acc.reset()
        #expect(acc.count == 0)
        #expect(acc.quantiles([0.5]) == [nil])
        #expect(acc.histogram().isEmpty)
    }

    @Test func zeroAndHugeValues() {
        var s = LatencySketch()
        s.add(0)
        s.add(0)
        s.add(3_600_000)
        #expect(s.quantile(0.5) == 0)
        #expect(s.quantile(1) == 3_600_000)
        let q99 = s.quantile(0.99) ?? 0
        #expect(abs(q99 - 3_600_000) / 3_600_000 <= 0.01)
    }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

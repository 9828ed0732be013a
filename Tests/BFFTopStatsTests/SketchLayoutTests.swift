import Testing
@testable import BFFTopStats

/// The two layouts of a compacted sketch (`SketchEntries`): whichever is chosen, every reader sees
/// the counts the values gave, key by key, computed here from the values themselves.
@Suite struct SketchLayoutTests {
    /// Counts per key of `values`, straight from the key function (the truth a sketch must keep).
    private func truth(_ values: [(Double, UInt64)]) -> [Int: UInt64] {
        var out: [Int: UInt64] = [:]
        for (v, n) in values { out[Int(LatencySketch.key(for: v)), default: 0] += n }
        return out
    }

    private func keys(_ s: LatencySketch) -> [Int: UInt64] {
        var out: [Int: UInt64] = [:]
        s.forEachKey { k, c in out[k, default: 0] += c }
        return out
    }

    /// Random key lists, counts from 1 to past a narrow entry's 15 (and one past a wide entry's
    /// 2^20), through `packed` and back: the same counts per key, the layout the smaller one, the
    /// key bounds right, and a wide list back from `widened` exactly as it went in.
    @Test func packingKeepsEveryCountAndPicksTheSmallerLayout() {
        var rng = SplitMix(seed: 21)
        var sawNarrow = false, sawWide = false, sawOdd = false
        for round in 0..<400 {
            var key = Int(rng.next() % 50)
            var wide: [UInt32] = []
            var expected: [Int: UInt64] = [:]
            for _ in 0..<(1 + Int(rng.next() % 60)) {
                key += 1 + Int(rng.next() % (round % 3 == 0 ? 40 : 2))
                guard key <= Int(LatencySketch.maxKey) else { break }
                let count = UInt32(round % 5 == 0 ? 1 + rng.next() % 200 : 1 + rng.next() % 16)
                wide.append(UInt32(key) << SketchEntries.wideShift | count)
                expected[key] = UInt64(count)
            }
            let (stored, narrow) = SketchEntries.packed(wide)
            var units = 0
            for x in wide { units += (Int(x & SketchEntries.wideCountMask) + 14) / 15 }
            #expect(narrow == (2 * units < 4 * wide.count), "round \(round)")
            #expect(stored.count * 4 <= wide.count * 4)
            var seen: [Int: UInt64] = [:]
            var lastKey = -1, ascending = true
            stored.withUnsafeBufferPointer { e in
                SketchEntries.forEach(e, narrow: narrow) { k, c in
                    ascending = ascending && k >= lastKey
                    lastKey = k
                    if c > 0 { seen[k, default: 0] += UInt64(c) }
                }
                let b = SketchEntries.bounds(e, narrow: narrow)
                #expect(b?.low == expected.keys.min() && b?.high == expected.keys.max())
            }
            #expect(ascending)
            #expect(seen == expected, "round \(round)")
            #expect(SketchEntries.widened(stored, narrow: narrow) == wide)
            sawNarrow = sawNarrow || narrow
            sawWide = sawWide || !narrow
            sawOdd = sawOdd || (narrow && units % 2 == 1)
        }
        #expect(sawNarrow && sawWide && sawOdd)
    }

    /// A sparse bucket (tens of values: a 1 s bucket, or a minute at a few a second) goes narrow
    /// and takes half the bytes or less; a busy one (hundreds a key) stays wide. Both keep every
    /// count, and quantiles equal the same values' in a never-compacted sketch.
    @Test func sparseSketchesGoNarrowBusyOnesStayWide() {
        var rng = SplitMix(seed: 5)
        for (n, narrowExpected) in [(20, true), (1200, true), (200_000, false)] {
            var values: [(Double, UInt64)] = []
            var s = LatencySketch(), reference = LatencySketch()
            for _ in 0..<n {
                let v = logNormal(&rng, median: 45, sigma: 0.5)
                values.append((v, 1))
                s.add(v)
                reference.add(v)
            }
            s.compact()
            #expect(s.narrow == narrowExpected, "\(n) values")
            #expect(keys(s) == truth(values))
            if narrowExpected {
                var distinct = Set<Int>()
                for (v, _) in values { distinct.insert(Int(LatencySketch.key(for: v))) }
                #expect(s.heapBytes <= distinct.count * 4 / 2 + 4 + distinct.count / 2, "\(n) values: \(s.heapBytes) bytes")
            }
            for q in [0.0, 0.01, 0.5, 0.9, 0.99, 1.0] { #expect(s.quantile(q) == reference.quantile(q)) }
            var a1 = SketchAccumulator(), a2 = SketchAccumulator()
            a1.add(s)
            a2.add(reference)
            #expect(a1.quantiles([0.5, 0.99]) == a2.quantiles([0.5, 0.99]))
            #expect(a1.histogram().map(\.count) == a2.histogram().map(\.count))
        }
    }

    /// Late values into a narrow past bucket (one at a time, some far outside its range, some with
    /// counts past 15), a compacted bucket merged into it, and the bucket trimmed: the counts stay
    /// exact, and the bucket narrow while that is smaller.
    @Test func lateValuesAndMergesIntoANarrowBucketStayExact() {
        var rng = SplitMix(seed: 8)
        var values: [(Double, UInt64)] = []
        /// `n` log-normal values into a sketch, compacted (a past bucket), and into `values`.
        func pastBucket(_ n: Int, median: Double, sigma: Double) -> LatencySketch {
            var s = LatencySketch()
            for _ in 0..<n {
                let v = logNormal(&rng, median: median, sigma: sigma)
                values.append((v, 1))
                s.add(v)
            }
            s.compact()
            return s
        }
        var bucket = pastBucket(60, median: 30, sigma: 0.7)
        #expect(bucket.narrow)
        for (i, v) in [0.0005, 29.0, 31.5, 90_000, 30.2, 30.2, 12.0].enumerated() {
            let n: UInt64 = i == 3 ? 40 : 1
            values.append((v, n))
            bucket.add(v, count: n)
            #expect(keys(bucket) == truth(values), "late value \(v)")
        }
        bucket.merge(pastBucket(30, median: 80, sigma: 0.3))
        bucket.trim()
        #expect(keys(bucket) == truth(values))
        #expect(bucket.narrow)
        #expect(bucket.count == values.reduce(0) { $0 + $1.1 })
    }
}

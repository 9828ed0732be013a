/// Sorting times for `SortedTimes`: the late starts that wait between two catch-ups, a few
/// hundred values within a few seconds of each other. A comparison sort branches on every
/// comparison and mispredicts about half of them on such data; a radix sort on the bit patterns
/// does not branch on the data at all.
enum TimeSort {
    /// Sorts ascending. Non-negative finite doubles order like their bit patterns, and values
    /// within a few seconds of each other differ only in their low 24–40 bits, so a few passes of
    /// 8 bits over `pattern - smallest pattern` do it. Anything else (negative, NaN, ∞, a wide
    /// spread, a short list) takes the standard library's sort.
    static func sort(_ a: inout [Double]) {
        guard a.count >= 64 else {
            insertionSort(&a)
            return
        }
        var lo = UInt64.max, hi = UInt64.min
        var special = false
        for v in a {
            let b = v.bitPattern
            lo = min(lo, b)
            hi = max(hi, b)
            special = special || !v.isFinite || b >> 63 != 0
        }
        let spread = hi &- lo
        guard !special, spread < 1 << 48 else {
            a.sort()
            return
        }
        let passes = (64 - spread.leadingZeroBitCount + 7) / 8
        guard passes > 0 else { return }  // all equal
        let n = a.count
        a.withUnsafeMutableBufferPointer { values in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * n) { scratch in
                guard let v = values.baseAddress, let s = scratch.baseAddress else { return }
                var src = s, dst = s + n
                for i in 0..<n { src[i] = v[i].bitPattern &- lo }
                withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { countBuffer in
                    guard let counts = countBuffer.baseAddress else { return }
                    for pass in 0..<passes {
                        let shift = UInt64(pass * 8)
                        counts.update(repeating: 0, count: 256)
                        for i in 0..<n { counts[Int((src[i] >> shift) & 0xFF)] += 1 }
                        var total = 0
                        for d in 0..<256 {
                            let c = counts[d]
                            counts[d] = total
                            total += c
                        }
                        for i in 0..<n {
                            let d = Int((src[i] >> shift) & 0xFF)
                            dst[counts[d]] = src[i]
                            counts[d] += 1
                        }
                        swap(&src, &dst)
                    }
                }
                for i in 0..<n { v[i] = Double(bitPattern: src[i] &+ lo) }
            }
        }
    }

    /// Short lists: fewer moves than the setup of anything cleverer.
    private static func insertionSort(_ a: inout [Double]) {
        guard a.count > 1 else { return }
        // NaN never compares: the standard sort's order for it is not one this can keep.
        if a.contains(where: { $0.isNaN }) {
            a.sort()
            return
        }
        a.withUnsafeMutableBufferPointer { p in
            for i in 1..<p.count {
                let x = p[i]
                var j = i
                while j > 0, p[j - 1] > x {
                    p[j] = p[j - 1]
                    j -= 1
                }
                p[j] = x
            }
        }
    }
}

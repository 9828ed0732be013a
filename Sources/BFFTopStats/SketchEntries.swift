/// The compacted form of a `LatencySketch`'s counts: entries sorted by key in one `[UInt32]`, in
/// whichever of two layouts is smaller for that sketch:
/// - **wide**: an entry is a UInt32, `key << 20 | count` (counts up to 2^20 − 1);
/// - **narrow**: an entry is a UInt16, `key << 4 | count` (counts up to 15), two to a UInt32, low
///   half first. A larger count continues in further entries of the same key, and an odd number
///   of entries ends with a zero count of the last key.
///
/// Keys are at most 4095 (`LatencySketch.maxKey`), so both layouts hold any key. Narrow suits the
/// many sparse sketches an hour of history holds (every 1 s bucket, and 10 s and 1 min buckets at
/// tens of invocations a second: a few per key): it halves them. Busy sketches, hundreds a key,
/// stay wide. Readers take both through `forEach`, which yields keys in ascending order; a key
/// may come more than once in a row, and a narrow list may yield a zero count.
enum SketchEntries {
    static let wideShift: UInt32 = 20
    static let wideCountMask: UInt32 = (1 << 20) - 1
    static let narrowCountMax: UInt32 = 15

    /// Every entry's key and count, in order. One loop per layout, neither with a branch per entry.
    @inline(__always)
    static func forEach(_ e: UnsafeBufferPointer<UInt32>, narrow: Bool, _ body: (Int, UInt32) -> Void) {
        if narrow {
            for x in e {
                body(Int((x & 0xFFFF) >> 4), x & 0xF)
                body(Int(x >> 20), (x >> 16) & 0xF)
            }
        } else {
            for x in e { body(Int(x >> wideShift), x & wideCountMask) }
        }
    }

    /// The lowest and highest key (nil when there are no entries). A narrow list's padding
    /// repeats the last key, so the last word's high half is always the highest.
    @inline(__always)
    static func bounds(_ e: UnsafeBufferPointer<UInt32>, narrow: Bool) -> (low: Int, high: Int)? {
        guard let f = e.first, let l = e.last else { return nil }
        return narrow ? (Int((f & 0xFFFF) >> 4), Int(l >> 20)) : (Int(f >> wideShift), Int(l >> wideShift))
    }

    /// The key where the running count first reaches `rank` (nil if it never does).
    static func firstKey(_ e: UnsafeBufferPointer<UInt32>, narrow: Bool, reaching rank: UInt64) -> Int? {
        var seen: UInt64 = 0
        if narrow {
            for x in e {
                seen += UInt64(x & 0xF)
                if seen >= rank { return Int((x & 0xFFFF) >> 4) }
                seen += UInt64((x >> 16) & 0xF)
                if seen >= rank { return Int(x >> 20) }
            }
        } else {
            for x in e {
                seen += UInt64(x & wideCountMask)
                if seen >= rank { return Int(x >> wideShift) }
            }
        }
        return nil
    }

    /// The entries in the wide layout, one per key while its count fits (an exact-size copy of a
    /// narrow list; a wide one as it is).
    static func widened(_ entries: [UInt32], narrow: Bool) -> [UInt32] {
        guard narrow else { return entries }
        var out: [UInt32] = []
        out.reserveCapacity(entries.count * 2)
        entries.withUnsafeBufferPointer { e in
            forEach(e, narrow: true) { k, c in
                guard c > 0 else { return }
                if let last = out.last, Int(last >> wideShift) == k, (last & wideCountMask) + c <= wideCountMask {
                    out[out.count - 1] = last + c
                } else {
                    out.append(UInt32(k) << wideShift | c)
                }
            }
        }
        return exactSize(out)
    }

    /// Narrow entries a count takes (0 for 0; no branch).
    @inline(__always) static func narrowUnits(_ count: UInt32) -> Int { Int((count &+ 14) / 15) }

    /// Wide entries as they are best stored: narrow when that takes fewer bytes.
    static func packed(_ wide: [UInt32]) -> (entries: [UInt32], narrow: Bool) {
        var units = 0
        for x in wide { units += narrowUnits(x & wideCountMask) }
        guard units < 2 * wide.count else { return (wide, false) }
        let narrow = writingNarrow(units: units) { put in
            for x in wide { put(Int(x >> wideShift), x & wideCountMask) }
        }
        return (narrow, true)
    }

    /// A narrow list of `units` entries from `fill`, which passes each key (ascending) and its
    /// count to the writer it is given; counts above 15 are split, and an odd list is padded.
    static func writingNarrow(units: Int, _ fill: (_ put: (Int, UInt32) -> Void) -> Void) -> [UInt32] {
        [UInt32](unsafeUninitializedCapacity: (units + 1) / 2) { out, used in
            var u = 0
            var lastKey: UInt32 = 0
            func unit(_ v: UInt32) {
                guard u < 2 * out.count else { return }  // never: `units` counted what `fill` writes
                if u & 1 == 0 { out[u >> 1] = v } else { out[u >> 1] |= v << 16 }
                u += 1
            }
            fill { key, count in
                var left = count
                lastKey = UInt32(key) << 4
                while left > narrowCountMax {
                    unit(lastKey | narrowCountMax)
                    left -= narrowCountMax
                }
                if left > 0 { unit(lastKey | left) }
            }
            if u & 1 == 1 { unit(lastKey) }
            used = u / 2
        }
    }

    /// A copy without spare capacity: a bucket keeps its entries for the rest of its life.
    static func exactSize(_ a: [UInt32]) -> [UInt32] {
        a.withUnsafeBufferPointer { src in
            [UInt32](unsafeUninitializedCapacity: src.count) { dst, used in
                _ = dst.initialize(from: src)
                used = src.count
            }
        }
    }
}

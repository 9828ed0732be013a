#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names (endpoints, services) interned from raw UTF-8 bytes to dense ids 0, 1, 2, … in order of
/// first appearance, so a hot decoder refers to a name by id and builds its `String` only once.
/// Open addressing over a power-of-two table; the bytes live in one arena.
public struct NameTable: Sendable {
    private struct Entry {
        var hash: UInt64
        var offset: Int
        var length: Int
    }

    private var slots = [Int32](repeating: -1, count: 256)
    private var entries: [Entry] = []
    private var arena: [UInt8] = []
    public private(set) var names: [String] = []
    /// Names beyond this many are not added (`id` returns nil): a table fed by a socket stays
    /// bounded whatever a client sends.
    private let limit: Int

    public init(limit: Int = .max) {
        self.limit = limit
    }

    public var count: Int { names.count }

    /// The id of these bytes, adding them (as a validated UTF-8 `String`) when new. Nil when the
    /// bytes are not valid UTF-8 or the name is absurdly long; the caller takes its slow path.
    @inline(always)
    mutating func id(_ p: UnsafeRawPointer, _ n: Int) -> Int32? {
        let h = Self.hash(p, n)
        // Through buffer pointers: two names per replayed line, bounds checks and a `memcmp` call
        // per lookup were a tenth of the decoding.
        let (found, free) = slots.withUnsafeBufferPointer { sl in
            entries.withUnsafeBufferPointer { en in
                arena.withUnsafeBytes { ar -> (Int32, Int) in
                    let mask = sl.count - 1
                    var s = Int(truncatingIfNeeded: h) & mask
                    while true {
                        let id = sl[s]
                        if id < 0 { return (-1, s) }
                        let e = en[Int(id)]
                        if e.hash == h, e.length == n, let a = ar.baseAddress, Self.same(a + e.offset, p, n) { return (id, s) }
                        s = (s + 1) & mask
                    }
                }
            }
        }
        if found >= 0 { return found }
        return insert(p, n, hash: h, slot: free)
    }

    /// Whether `n` bytes at `a` and `b` are equal: a word at a time, the last word overlapping.
    @inline(always) private static func same(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        if n >= 8 {
            var i = 0
            while i + 8 < n {
                if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
                i += 8
            }
            return a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        return partialWord(a, n) == partialWord(b, n)
    }

    /// The `n` < 8 bytes at `p` as one word (two overlapping 4-byte loads when n ≥ 4).
    @inline(always) private static func partialWord(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
        if n >= 4 {
            return UInt64(p.loadUnaligned(as: UInt32.self)) | UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) << 32
        }
        var w: UInt64 = 0
        for i in 0..<n { w |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << UInt64(i * 8) }
        return w
    }

    private mutating func insert(_ p: UnsafeRawPointer, _ n: Int, hash h: UInt64, slot: Int) -> Int32? {
        guard names.count < limit, n <= 1024, let name = String(validating: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self) else { return nil }
        let id = Int32(names.count)
        names.append(name)
        entries.append(Entry(hash: h, offset: arena.count, length: n))
        arena.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
        slots[slot] = id
        if names.count * 4 > slots.count { grow() }  // at most a quarter full: probes rarely collide
        return id
    }

    private mutating func grow() {
        var bigger = [Int32](repeating: -1, count: slots.count * 2)
        let mask = bigger.count - 1
        for id in entries.indices {
            var s = Int(truncatingIfNeeded: entries[id].hash) & mask
            while bigger[s] >= 0 { s = (s + 1) & mask }
            bigger[s] = Int32(id)
        }
        slots = bigger
    }

    /// 8 bytes at a time, multiply-mixed (wyhash-like): names are short, so this is a few cycles.
    /// The last word overlaps the one before it (no byte loop for the tail).
    @inline(always) static func hash(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
        var i = 0
        while i + 8 < n {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        // MurmurHash3's finaliser: every input bit reaches the low bits the table slots use (names
        // often differ only in their last bytes, which a bare multiply leaves in the high bits).
        h ^= n >= 8 ? p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) : partialWord(p, n)
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 33)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names (endpoints, services) interned from raw UTF-8 bytes to dense ids 0, 1, 2, … in order of
/// first appearance, so a hot decoder refers to a name by id and builds its `String` only once.
/// Open addressing over a power-of-two table; the bytes live in one arena.
public struct NameTable: Sendable {
    private var slots = [Int32](repeating: -1, count: 256)
    private var hashes: [UInt64] = []
    private var offsets: [Int] = []
    private var lengths: [Int] = []
    private var arena: [UInt8] = []
    public private(set) var names: [String] = []

    public init() {}

    public var count: Int { names.count }

    /// The id of these bytes, adding them (as a validated UTF-8 `String`) when new. Nil when the
    /// bytes are not valid UTF-8 or the name is absurdly long; the caller takes its slow path.
    @inline(__always)
    public mutating func id(_ p: UnsafeRawPointer, _ n: Int) -> Int32? {
        let h = Self.hash(p, n)
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = slots[s]
            if id < 0 { break }
            if hashes[Int(id)] == h, lengths[Int(id)] == n, sameBytes(Int(id), p, n) { return id }
            s = (s + 1) & mask
        }
        return insert(p, n, hash: h, slot: s)
    }

    @inline(__always) private func sameBytes(_ id: Int, _ p: UnsafeRawPointer, _ n: Int) -> Bool {
        n == 0 || arena.withUnsafeBytes { a in a.baseAddress.map { memcmp($0 + offsets[id], p, n) == 0 } ?? false }
    }

    private mutating func insert(_ p: UnsafeRawPointer, _ n: Int, hash h: UInt64, slot: Int) -> Int32? {
        guard n <= 1024, let name = String(validating: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self) else { return nil }
        let id = Int32(names.count)
        names.append(name)
        hashes.append(h)
        offsets.append(arena.count)
        lengths.append(n)
        arena.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
        slots[slot] = id
        if names.count * 4 > slots.count { grow() }  // at most a quarter full: probes rarely collide
        return id
    }

    private mutating func grow() {
        var bigger = [Int32](repeating: -1, count: slots.count * 2)
        let mask = bigger.count - 1
        for id in names.indices {
            var s = Int(truncatingIfNeeded: hashes[id]) & mask
            while bigger[s] >= 0 { s = (s + 1) & mask }
            bigger[s] = Int32(id)
        }
        slots = bigger
    }

    /// 8 bytes at a time, multiply-mixed (wyhash-like): names are short, so this is a few cycles.
    @inline(__always) static func hash(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
        var i = 0
        while i + 8 <= n {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift += 8
            i += 1
        }
        // MurmurHash3's finaliser: every input bit reaches the low bits the table slots use (names
        // often differ only in their last bytes, which a bare multiply leaves in the high bits).
        h ^= tail
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 33)
    }
}

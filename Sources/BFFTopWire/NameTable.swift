#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names (endpoints, services) interned from raw UTF-8 bytes to dense ids 0, 1, 2, … in order of
/// first appearance, so a hot decoder refers to a name by id and builds its `String` only once.
/// Open addressing over a power-of-two table; the bytes live in one arena.
///
/// The tables are raw memory in a class (copied before a write when shared, so the struct keeps
/// value semantics): a lookup through three arrays' `withUnsafeBufferPointer` closures stayed a
/// call per name, a tenth of replay's reading.
public struct NameTable: Sendable {
    struct Entry {
        var hash: UInt64
        var offset: Int
        var length: Int
    }

    private var storage = Storage(slotCount: 256)
    public private(set) var names: [String] = []
    /// Names beyond this many are not added (`id` returns nil): a table fed by a socket stays
    /// bounded whatever a client sends.
    private let limit: Int
    /// With a finite `limit`, the names' bytes stop at 32 a name on average (64 KiB for a
    /// connection's 2,048): a connection that sends long names cannot make the engine, the
    /// recorder and its decoder each hold megabytes for it.
    private let byteLimit: Int

    public init(limit: Int = .max) {
        self.limit = limit
        byteLimit = limit == .max ? .max : limit.multipliedReportingOverflow(by: 32).overflow ? .max : limit * 32
    }

    public var count: Int { names.count }

    /// The id of these bytes, adding them (as a validated UTF-8 `String`) when new. Nil when the
    /// bytes are not valid UTF-8 or the name is absurdly long; the caller takes its slow path.
    @inline(always)
    mutating func id(_ p: UnsafeRawPointer, _ n: Int) -> Int32? {
        let h = Self.hash(p, n)
        let st = storage
        let mask = st.slotCount - 1
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = st.slots[s]
            if id < 0 { break }
            let e = st.entries[Int(id)]
            if e.hash == h, e.length == n, Self.same(st.arena + e.offset, p, n) { return id }
            s = (s + 1) & mask
        }
        return insert(p, n, hash: h, slot: s)
    }

    /// Whether `n` bytes at `a` and `b` are equal: a word at a time, the last word overlapping.
    @inline(always) static func same(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
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
        guard names.count < limit, n <= 1024, storage.arenaCount + n <= byteLimit, let name = String(validating: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self) else { return nil }
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        let id = Int32(names.count)
        names.append(name)
        storage.append(Entry(hash: h, offset: storage.arenaCount, length: n), bytes: p, slot: slot, id: id)
        if names.count * 4 > storage.slotCount { storage.grow() }  // at most a quarter full: probes rarely collide
        return id
    }

    /// Slots (entry ids, -1 free), entries and the name bytes, in memory this class owns.
    final class Storage: @unchecked Sendable {
        private(set) var slots: UnsafeMutablePointer<Int32>
        private(set) var slotCount: Int
        private(set) var entries: UnsafeMutablePointer<Entry>
        private var entryCapacity = 64
        private(set) var entryCount = 0
        private(set) var arena: UnsafeMutablePointer<UInt8>
        private var arenaCapacity = 4096
        private(set) var arenaCount = 0

        init(slotCount: Int) {
            self.slotCount = slotCount
            slots = .allocate(capacity: slotCount)
            slots.initialize(repeating: -1, count: slotCount)
            entries = .allocate(capacity: entryCapacity)
            arena = .allocate(capacity: arenaCapacity)
        }

        deinit {
            slots.deallocate()
            entries.deallocate()
            arena.deallocate()
        }

        func copy() -> Storage {
            let c = Storage(slotCount: slotCount)
            c.slots.update(from: slots, count: slotCount)
            c.reserve(entries: entryCount, bytes: arenaCount)
            c.entries.initialize(from: entries, count: entryCount)
            c.entryCount = entryCount
            c.arena.initialize(from: arena, count: arenaCount)
            c.arenaCount = arenaCount
            return c
        }

        func append(_ e: Entry, bytes p: UnsafeRawPointer, slot: Int, id: Int32) {
            reserve(entries: entryCount + 1, bytes: arenaCount + e.length)
            (entries + entryCount).initialize(to: e)
            entryCount += 1
            (arena + arenaCount).update(from: p.assumingMemoryBound(to: UInt8.self), count: e.length)
            arenaCount += e.length
            slots[slot] = id
        }

        private func reserve(entries needed: Int, bytes: Int) {
            entries = Self.room(entries, count: entryCount, capacity: &entryCapacity, needed: needed)
            arena = Self.room(arena, count: arenaCount, capacity: &arenaCapacity, needed: bytes)
        }

        /// `p`, or its `count` elements moved to an allocation of at least `needed` (doubling).
        private static func room<T>(_ p: UnsafeMutablePointer<T>, count: Int, capacity: inout Int, needed: Int) -> UnsafeMutablePointer<T> {
            guard needed > capacity else { return p }
            capacity = max(needed, capacity * 2)
            let bigger = UnsafeMutablePointer<T>.allocate(capacity: capacity)
            bigger.moveInitialize(from: p, count: count)
            p.deallocate()
            return bigger
        }

        func grow() {
            let count = slotCount * 2
            let bigger = UnsafeMutablePointer<Int32>.allocate(capacity: count)
            bigger.initialize(repeating: -1, count: count)
            let mask = count - 1
            for id in 0..<entryCount {
                var s = Int(truncatingIfNeeded: entries[id].hash) & mask
                while bigger[s] >= 0 { s = (s + 1) & mask }
                bigger[s] = Int32(id)
            }
            slots.deallocate()
            slots = bigger
            slotCount = count
        }
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

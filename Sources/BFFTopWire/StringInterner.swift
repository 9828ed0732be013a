#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small cache from raw UTF-8 bytes to a shared `String`, so the endpoint and service names that
/// repeat on every line are allocated once per connection instead of once per event.
/// A fixed-size, direct-mapped table: a collision simply replaces the older entry.
struct StringInterner {
    private static let slots = 512
    private var hashes = [UInt64](repeating: 0, count: slots)
    private var strings = [String?](repeating: nil, count: slots)

    @inline(always) private static func hash(_ p: UnsafeRawPointer, _ n: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<n {
            h ^= UInt64(p.load(fromByteOffset: i, as: UInt8.self))
            h = h &* 0x100_0000_01b3
        }
        return h | 1  // never 0, which marks an empty slot
    }

    mutating func lookup(_ p: UnsafeRawPointer, _ n: Int) -> String? {
        guard n <= 256 else { return nil }
        let h = Self.hash(p, n)
        let slot = Int(h % UInt64(Self.slots))
        guard hashes[slot] == h, var s = strings[slot] else { return nil }
        let same = s.withUTF8 { u -> Bool in
            guard u.count == n else { return false }
            guard let b = u.baseAddress else { return n == 0 }
            return memcmp(b, p, n) == 0
        }
        return same ? s : nil
    }

    mutating func insert(_ value: String, _ p: UnsafeRawPointer, _ n: Int) {
        guard n <= 256 else { return }
        let h = Self.hash(p, n)
        let slot = Int(h % UInt64(Self.slots))
        hashes[slot] = h
        strings[slot] = value
    }
}

/// DogStatsD's hot case read straight from the packet's bytes: a timing (`ms`, `h`, `d`) of one
/// value, tagged with an endpoint, whose status (if any) is a success. It becomes `PackedInvocation`s
/// with names interned in this reader's `NameTable`, so no `String`, array or tag tuple is built per
/// message. Everything else — counters, gauges, several values, failures, raw metrics, events,
/// service checks, odd numbers, invalid UTF-8, a full name table — returns false, and the caller
/// reads the message with `DogStatsDParser` and `DogStatsDMapper` (which give the same events, or
/// the reasons). Tests and the fuzz target check that what this accepts, the general path reads
/// identically.
public struct DogStatsDPacker: Sendable {
    public private(set) var names: NameTable
    /// Every name the mapper compares with, in one block of bytes (no array per key to retain
    /// per message); the lists below are spans of it.
    private let keys: [UInt8]
    /// The tag names looked for, endpoint tags first, then status, cold-start and service, each
    /// group in the mapper's order of preference.
    private let tagKeys: [Key]
    private let endpointCount: Int, statusCount: Int, coldCount: Int
    private let prefix: Key
    private let dropped: Key
    /// Configured names that are not ASCII compare as Unicode in the mapper: such a mapper packs nothing.
    private let usable: Bool

    private struct Key {
        var start: Int
        var count: Int
        /// Endpoint tags: whether the tag names a function.
        var function = false
    }

    /// `nameLimit`: distinct names interned (messages naming others take the general path).
    public init(mapper: DogStatsDMapper, nameLimit: Int = 2048) {
        names = NameTable(limit: nameLimit)
        var bytes: [UInt8] = []
        func add(_ s: String, function: Bool = false) -> Key {
            let k = Key(start: bytes.count, count: s.utf8.count, function: function)
            bytes += s.utf8
            return k
        }
        tagKeys = mapper.endpointTags.map { add($0, function: mapper.functionTags.contains($0)) }
            + mapper.statusTags.map { add($0) } + mapper.coldStartTags.map { add($0) } + [add("service")]
        (endpointCount, statusCount, coldCount) = (mapper.endpointTags.count, mapper.statusTags.count, mapper.coldStartTags.count)
        prefix = add(mapper.prefix)
        dropped = add("datadog.dogstatsd.client.packets_dropped")
        keys = bytes
        let configured = mapper.endpointTags + mapper.statusTags + mapper.coldStartTags + [mapper.prefix]
        usable = configured.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
    }

    /// A span of the message: [start, end) offsets.
    private struct Span {
        var start: Int
        var end: Int
        var isEmpty: Bool { start >= end }
    }

    /// Reads one message (without its newline) received at `now`; appends its invocations to `out`
    /// (one per sample-rate copy) and returns true, or returns false having appended nothing.
    public mutating func pack(_ m: UnsafeRawBufferPointer, at now: Double, into out: inout [PackedInvocation]) -> Bool {
        guard usable, let base = m.baseAddress, m.count > 2, Self.isASCII(m) else { return false }
        let (keys, tagKeys) = (self.keys, self.tagKeys)
        return keys.withUnsafeBytes { k in
            tagKeys.withUnsafeBufferPointer { t in
                withUnsafeTemporaryAllocation(of: Span.self, capacity: t.count) { found in
                    pack(base, m.count, at: now, keys: k.baseAddress!, tagKeys: t, found: found.baseAddress!, into: &out)
                }
            }
        }
    }

    private mutating func pack(_ base: UnsafeRawPointer, _ count: Int, at now: Double, keys kb: UnsafeRawPointer,
                               tagKeys: UnsafeBufferPointer<Key>, found: UnsafeMutablePointer<Span>, into out: inout [PackedInvocation]) -> Bool {
        let n = count
        @inline(always) func byte(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }
        if byte(0) == 0x5F { return false }  // _e{, _sc|: events and service checks
        // name:value|type[|field…]
        var colon = -1
        var bar = -1
        for i in 0..<n {
            let b = byte(i)
            if b == 0x3A, colon < 0 { colon = i }
            if b == 0x7C {
                bar = i
                break
            }
        }
        guard colon > 0, bar > colon + 1 else { return false }
        let name = Span(start: 0, end: colon)
        if starts(base, name, with: kb + dropped.start, dropped.count) { return false }
        if prefix.count > 0 {
            guard starts(base, name, with: kb + prefix.start, prefix.count) else { return false }
        }
        // One value: a second one (name:1:2) takes the general path.
        let valueSpan = Span(start: colon + 1, end: bar)
        guard let value = number(base, valueSpan) else { return false }
        // The type.
        var typeEnd = bar + 1
        while typeEnd < n, byte(typeEnd) != 0x7C { typeEnd += 1 }
        let scale: Double
        switch typeEnd - bar - 1 {
        case 2 where byte(bar + 1) == 0x6D && byte(bar + 2) == 0x73: scale = 1  // ms
        case 1 where byte(bar + 1) == 0x68 || byte(bar + 1) == 0x64:  // h, d
            guard let s = unitScale(base, name) else { return false }
            scale = s
        default: return false
        }
        // Fields: the last sample rate, the last tag list and timestamp count, as in the parser.
        var rate = 1.0
        var tags: Span?
        var timestamp: Double?
        var f = typeEnd
        while f < n {
            let start = f + 1
            var end = start
            while end < n, byte(end) != 0x7C { end += 1 }
            if end > start {
                switch byte(start) {
                case 0x40:  // @
                    guard let r = number(base, Span(start: start + 1, end: end)), r > 0, r <= 1 else { return false }
                    rate = r
                case 0x23: tags = Span(start: start + 1, end: end)  // #
                case 0x54:  // T
                    guard let t = number(base, Span(start: start + 1, end: end)) else { return false }
                    timestamp = t
                default: break
                }
            }
            f = end
        }
        guard let tags else { return false }
        // Each looked-for tag's first occurrence (absent: start -1), in one pass over the list.
        findTags(base, tags, keys: kb, tagKeys, found: found)
        // The endpoint: the first endpoint tag (in the mapper's order) whose first occurrence has a value.
        var endpoint: Span?
        var isFunction = false
        for j in 0..<endpointCount where found[j].start >= 0 && !found[j].isEmpty {
            endpoint = found[j]
            isFunction = tagKeys[j].function
            break
        }
        guard let endpoint else { return false }
        // A status: the first status tag that is a whole number 100…999; only successes are packed.
        var status: Int16 = -1
        for j in endpointCount..<(endpointCount + statusCount) where found[j].start >= 0 {
            switch statusCode(base, found[j]) {
            case .notANumber: continue
            case .unsure: return false
            case .code(let c):
                guard (100...999).contains(c) else { continue }
                guard c < 500, c != 429, c != 408 else { return false }  // failures carry a message: general path
                status = Int16(c)
            }
            break
        }
        var cold = false
        let coldStart = endpointCount + statusCount
        for j in coldStart..<(coldStart + coldCount) where found[j].start >= 0 && equals(base, found[j], "true") {
            cold = true
            break
        }
        var service: Int32 = -1
        let serviceIndex = coldStart + coldCount
        if found[serviceIndex].start >= 0 {
            guard let id = intern(base, found[serviceIndex]) else { return false }
            service = id
        }
        guard let endpointID = internEndpoint(base, endpoint) else { return false }
        let ms = value * scale
        let t = timestamp ?? now
        let ts = t - ms / 1000
        guard ts >= 0, ts < WireLimits.maxTimestamp, ms >= 0, ms <= WireLimits.maxFigure else { return false }
        var p = PackedInvocation(receivedAtRaw: .nan, ts: ts, durationMs: ms, endpoint: endpointID, service: service, kind: isFunction ? .function : .route)
        p.status = status
        p.coldStart = cold
        // 1 / rate is at most 100 before converting (as the mapper).
        let copies = max(1, Int(min(100, (1 / rate).rounded())))
        for _ in 0..<copies { out.append(p) }
        return true
    }

    // MARK: bytes

    /// Only ASCII messages: the general parser splits and compares `Character`s, and a combining
    /// mark after a `|`, `,` or `:` joins it into another one.
    @inline(always) private static func isASCII(_ m: UnsafeRawBufferPointer) -> Bool {
        guard let p = m.baseAddress else { return true }
        var i = 0
        var high: UInt64 = 0
        while i + 8 <= m.count {
            high |= p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < m.count {
            high |= UInt64(p.load(fromByteOffset: i, as: UInt8.self))
            i += 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }

    private func starts(_ base: UnsafeRawPointer, _ s: Span, with p: UnsafeRawPointer, _ count: Int) -> Bool {
        s.end - s.start >= count && memcmp(base + s.start, p, count) == 0
    }

    private func equals(_ base: UnsafeRawPointer, _ s: Span, _ literal: StaticString) -> Bool {
        guard s.end - s.start == literal.utf8CodeUnitCount else { return false }
        return memcmp(base + s.start, literal.utf8Start, literal.utf8CodeUnitCount) == 0
    }

    /// A plain decimal the whole span holds (Clinger's fast path, as the recording decoder reads
    /// numbers); nil for anything else, which the general parser then judges.
    private func number(_ base: UnsafeRawPointer, _ s: Span) -> Double? {
        guard !s.isEmpty else { return nil }
        var c = FastCursor(p: base + s.start, end: base + s.end)
        guard let v = c.number(), c.atEnd else { return nil }
        return v
    }

    private enum StatusCode {
        case code(Int)
        /// Not an integer at all: `Int(…)` is nil, the next status key is tried.
        case notANumber
        /// Signs, long runs: the general path decides.
        case unsure
    }

    private func statusCode(_ base: UnsafeRawPointer, _ s: Span) -> StatusCode {
        guard !s.isEmpty else { return .notANumber }
        var v = 0
        for i in s.start..<s.end {
            let d = base.load(fromByteOffset: i, as: UInt8.self) &- 0x30
            if d >= 10 { return i == s.start && (d &+ 0x30 == 0x2B || d &+ 0x30 == 0x2D) ? .unsure : .notANumber }
            if s.end - s.start > 9 { return .unsure }
            v = v * 10 + Int(d)
        }
        return .code(v)
    }

    /// For each looked-for tag name, the value of its first occurrence in a `#tag,tag` list (a tag
    /// without `:` has an empty value; start -1: absent). Empty tags (`,,`) are skipped, as `split` does.
    @inline(always)
    private func findTags(_ base: UnsafeRawPointer, _ tags: Span, keys kb: UnsafeRawPointer, _ tagKeys: UnsafeBufferPointer<Key>,
                          found: UnsafeMutablePointer<Span>) {
        for j in tagKeys.indices { found[j] = Span(start: -1, end: -1) }
        var t = tags.start
        while t < tags.end {
            var end = t
            var colon = -1
            while end < tags.end {
                let b = base.load(fromByteOffset: end, as: UInt8.self)
                if b == 0x2C { break }
                if b == 0x3A, colon < 0 { colon = end }
                end += 1
            }
            if end > t {
                let keyEnd = colon < 0 ? end : colon
                let n = keyEnd - t
                let first = base.load(fromByteOffset: t, as: UInt8.self)
                for j in tagKeys.indices {
                    let k = tagKeys[j]
                    guard k.count == n, found[j].start < 0, n == 0 || kb.load(fromByteOffset: k.start, as: UInt8.self) == first,
                          NameTable.same(base + t, kb + k.start, n) else { continue }
                    found[j] = colon < 0 ? Span(start: end, end: end) : Span(start: colon + 1, end: end)
                }
            }
            t = end + 1
        }
    }


    private mutating func intern(_ base: UnsafeRawPointer, _ s: Span) -> Int32? {
        names.id(base + s.start, s.end - s.start)
    }

    /// Datadog clients write `GET /x` as `GET_/x`: the endpoint is interned with its space back
    /// (`DogStatsDMapper.unsanitized`).
    private mutating func internEndpoint(_ base: UnsafeRawPointer, _ s: Span) -> Int32? {
        let n = s.end - s.start
        let p = base + s.start
        for method in DogStatsDMapper.methods {
            let k = method.utf8CodeUnitCount
            guard n > k + 1, memcmp(p, method.utf8Start, k) == 0, p.load(fromByteOffset: k, as: UInt8.self) == 0x5F,
                  p.load(fromByteOffset: k + 1, as: UInt8.self) == 0x2F else { continue }
            guard n <= 1024 else { return nil }
            return withUnsafeTemporaryAllocation(byteCount: n, alignment: 1) { buf -> Int32? in
                guard let b = buf.baseAddress else { return nil }
                memcpy(b, p, n)
                b.storeBytes(of: 0x20, toByteOffset: k, as: UInt8.self)
                return names.id(UnsafeRawPointer(b), n)
            }
        }
        return names.id(p, n)
    }

    /// Milliseconds per unit of a histogram or distribution, from its name's suffix, as
    /// `DogStatsDMapper.millisecondsPerUnit` reads the lowercased name; nil for names that are
    /// not ASCII (the general path lowercases them).
    private func unitScale(_ base: UnsafeRawPointer, _ s: Span) -> Double? {
        let n = s.end - s.start
        let tail = min(n, 16)
        var lower = [UInt8](repeating: 0, count: tail)
        for i in 0..<tail {
            let b = base.load(fromByteOffset: s.end - tail + i, as: UInt8.self)
            guard b < 0x80 else { return nil }
            lower[i] = b >= 0x41 && b <= 0x5A ? b | 0x20 : b
        }
        for i in s.start..<(s.end - tail) where base.load(fromByteOffset: i, as: UInt8.self) >= 0x80 { return nil }
        return DogStatsDMapper.millisecondsPerUnit(String(decoding: lower, as: UTF8.self))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import CBFFTopSys

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A successful invocation read straight from a recording line: plain values only (names are
/// `NameTable` ids, an in-flight id indexes a side list), so batches of them cross threads and
/// are copied without reference counting. Its error text and trace id are not kept:
/// only failures' are shown, and failures take the general path.
public struct PackedInvocation: Sendable, Equatable {
    // Optional figures are stored as NaN-for-none: batches of these are written by one thread and
    // read by another millions of times a second, and 88 bytes move faster than 144.
    private var receivedAtRaw: Double
    public var ts: Double
    public var durationMs: Double
    private var billedRaw: Double
    private var memoryRaw: Double
    private var maxMemoryRaw: Double
    private var initRaw: Double
    private var timeoutRaw: Double
    public var endpoint: Int32
    /// -1: none.
    public var service: Int32 = -1
    public var parent: Int32 = -1
    /// Index into the in-flight ids that travel with the batch; -1: none.
    public var id: Int32 = -1
    /// HTTP status; -1: none.
    public var status: Int16 = -1
    public var kind: EndpointKind
    public var arch: Architecture?
    public var coldStart: Bool
    public var test: Bool

    public init(receivedAt: Double?, ts: Double, durationMs: Double, billedMs: Double?, memoryMB: Double?, maxMemoryMB: Double?,
                initMs: Double?, timeoutMs: Double?, endpoint: Int32, service: Int32 = -1, parent: Int32 = -1, id: Int32 = -1,
                status: Int? = nil, kind: EndpointKind, arch: Architecture?, coldStart: Bool, test: Bool) {
        self.status = status.map { Int16(clamping: $0) } ?? -1
        receivedAtRaw = receivedAt ?? .nan
        self.ts = ts
        self.durationMs = durationMs
        billedRaw = billedMs ?? .nan
        memoryRaw = memoryMB ?? .nan
        maxMemoryRaw = maxMemoryMB ?? .nan
        initRaw = initMs ?? .nan
        timeoutRaw = timeoutMs ?? .nan
        self.endpoint = endpoint
        self.service = service
        self.parent = parent
        self.id = id
        self.kind = kind
        self.arch = arch
        self.coldStart = coldStart
        self.test = test
    }

    /// When bfftop received it (`rt`), in recordings.
    public var receivedAt: Double? { receivedAtRaw.isNaN ? nil : receivedAtRaw }
    public var billedMs: Double? { billedRaw.isNaN ? nil : billedRaw }
    public var memoryMB: Double? { memoryRaw.isNaN ? nil : memoryRaw }
    public var maxMemoryMB: Double? { maxMemoryRaw.isNaN ? nil : maxMemoryRaw }
    public var initMs: Double? { initRaw.isNaN ? nil : initRaw }
    public var timeoutMs: Double? { timeoutRaw.isNaN ? nil : timeoutRaw }

    public static func == (a: Self, b: Self) -> Bool {
        a.receivedAt == b.receivedAt && a.ts == b.ts && a.durationMs == b.durationMs && a.billedMs == b.billedMs
            && a.memoryMB == b.memoryMB && a.maxMemoryMB == b.maxMemoryMB && a.initMs == b.initMs && a.timeoutMs == b.timeoutMs
            && a.endpoint == b.endpoint && a.service == b.service && a.parent == b.parent && a.id == b.id
            && a.status == b.status && a.kind == b.kind
            && a.arch == b.arch && a.coldStart == b.coldStart && a.test == b.test
    }

    /// Replay's clock: receive time in recordings, else the end of the invocation (as `WireEvent`).
    @inline(__always) public var time: Double { receivedAtRaw.isNaN ? ts + durationMs / 1000 : receivedAtRaw }

    /// The same invocation as the general decoder builds it (outcome ok; no error or trace:
    /// only successful invocations take this path).
    public func invocation(names: [String], ids: [String]) -> Invocation {
        Invocation(
            ts: ts, service: service >= 0 ? names[Int(service)] : nil, endpoint: names[Int(endpoint)], kind: kind,
            durationMs: durationMs, billedMs: billedMs, memoryMB: memoryMB, maxMemoryMB: maxMemoryMB,
            coldStart: coldStart, initMs: initMs, outcome: .ok, status: status >= 0 ? Int(status) : nil, timeoutMs: timeoutMs,
            parent: parent >= 0 ? names[Int(parent)] : nil, arch: arch, id: id >= 0 ? ids[Int(id)] : nil, test: test)
    }
}

/// The fast path for the lines bfftop writes itself: a flat JSON object whose strings have no
/// escapes and whose numbers have no exponent, describing a successful invocation. Anything else
/// (other event types, failures with their messages, headers, unusual JSON, every invalid line)
/// returns nil and goes to `NativeDecoder`, which gives the same events and the real error
/// messages. Accepting exactly what the general decoder accepts, with the same values, is what the
/// tests check; replay's throughput is what this buys (no `String` per field, no token objects).
public struct RecordingFastDecoder: Sendable {
    public internal(set) var names: NameTable
    let keys = CanonicalKeys()
    /// Lines whose error text or trace id is set are left to the general decoder (live ingest:
    /// events are recorded as received, so nothing may be dropped). Replay drops them: nothing
    /// aggregates a successful invocation's error text or trace id.
    let keepsEveryField: Bool

    /// `nameLimit`: how many distinct names to intern (lines with others take the general path).
    public init(nameLimit: Int = .max, keepsEveryField: Bool = false) {
        names = NameTable(limit: nameLimit)
        self.keepsEveryField = keepsEveryField
    }

    /// Decodes `line`; an in-flight id is appended to `ids` (and the result indexes it).
    public mutating func decode(_ line: UnsafeRawBufferPointer, ids: inout [String]) -> PackedInvocation? {
        guard let base = line.baseAddress else { return nil }
        let idCount = ids.count
        if let packed = decodeCanonical(line, ids: &ids) { return packed }
        if ids.count > idCount { ids.removeSubrange(idCount...) }
        var f = FastFields()
        var c = FastCursor(p: base, end: base + line.count)
        c.skipSpace()
        guard c.take(0x7B) else { return nil }  // {
        c.skipSpace()
        if !c.take(0x7D) {
            while true {
                guard let key = c.key() else { return nil }
                c.skipSpace()
                guard c.take(0x3A) else { return nil }  // :
                c.skipSpace()
                guard let value = c.value() else { return nil }
                guard assign(&f, key: key, value: value, ids: &ids) else { return nil }
                c.skipSpace()
                if c.take(0x2C) {
                    c.skipSpace()
                    continue
                }
                guard c.take(0x7D) else { return nil }
                break
            }
        }
        c.skipSpace()
        guard c.atEnd else { return nil }
        return f.build()
    }

    private mutating func assign(_ f: inout FastFields, key k: FastKey, value v: FastValue, ids: inout [String]) -> Bool {
        // Keys compared as little-endian words of their bytes (see `FastKey`): one integer compare each.
        switch (k.count, k.w0) {
        case (1, 0x76): return v.number(&f.version)  // v
        case (2, 0x7374): return v.number(&f.ts)  // ts
        case (2, 0x7472): return v.number(&f.rt)  // rt
        case (2, 0x6469):  // id
            switch v {
            case .null: f.id = -1
            case .string(let s):
                guard let text = s.string else { return false }
                f.id = Int32(ids.count)
                ids.append(text)
            default: return false  // numeric ids: the general decoder turns them into text
            }
            return true
        case (4, 0x6570_7974):  // type
            guard case .string(let s) = v, s.is("invocation") else { return false }
            f.isInvocation = true
            return true
        case (4, 0x646E_696B):  // kind
            switch v {
            case .null: f.kind = nil
            case .string(let s) where s.is("route"): f.kind = .route
            case .string(let s) where s.is("function"): f.kind = .function
            default: return false
            }
            return true
        case (4, 0x6863_7261):  // arch
            switch v {
            case .null: f.arch = nil
            case .string(let s) where s.is("x86_64") || s.is("x86") || s.is("amd64"): f.arch = .x86_64
            case .string(let s) where s.is("arm64") || s.is("aarch64"): f.arch = .arm64
            default: return false
            }
            return true
        case (4, 0x7473_6574): return v.bool(&f.test)  // test
        case (5, 0x74_6E75_6F63), (5, 0x65_756C_6176), (5, 0x74_696D_696C):  // count, value, limit
            var ignored: Double?
            return v.number(&ignored)
        case (5, 0x72_6F72_7265): return keepsEveryField ? v.isNull : v.isStringOrNull  // error
        case (6, 0x7375_7461_7473): return v.number(&f.status)  // status
        case (6, 0x746E_6572_6170): return name(v, &f.parent)  // parent
        case (7, 0x65_6369_7672_6573): return name(v, &f.service)  // service
        case (7, 0x73_6D5F_7469_6E69): return v.number(&f.initMs)  // init_ms
        case (7, 0x65_6D6F_6374_756F):  // outcome
            switch v {
            case .null: f.outcome = .absent
            case .string(let s): f.outcome = s.is("ok") ? .ok : .other
            default: return false
            }
            return true
        case (8, 0x746E_696F_7064_6E65):  // endpoint
            if case .string(let s) = v, s.count == 0 { return false }  // "must not be empty"
            return name(v, &f.endpoint)
        case (8, 0x6469_5F65_6361_7274): return keepsEveryField ? v.isNull : v.isStringOrNull  // trace_id
        case (9, 0x6D5F_6465_6C6C_6962) where k.w1 == 0x73: return v.number(&f.billedMs)  // billed_ms
        case (9, 0x6D5F_7972_6F6D_656D) where k.w1 == 0x62: return v.number(&f.memoryMB)  // memory_mb
        case (10, 0x6174_735F_646C_6F63) where k.w1 == 0x7472: return v.bool(&f.coldStart)  // cold_start
        case (10, 0x5F74_756F_656D_6974) where k.w1 == 0x736D: return v.number(&f.timeoutMs)  // timeout_ms
        case (11, 0x6E6F_6974_6172_7564) where k.w1 == 0x73_6D5F: return v.number(&f.durationMs)  // duration_ms
        case (11, 0x6174_735F_646C_6F63) where k.w1 == 0x73_7472:  // cold_starts
            var ignored: Double?
            return v.number(&ignored)
        case (13, 0x6F6D_656D_5F78_616D) where k.w1 == 0x62_6D5F_7972: return v.number(&f.maxMemoryMB)  // max_memory_mb
        case (16, 0x725F_706F_7466_6662) where k.w1 == 0x676E_6964_726F_6365: return false  // bfftop_recording: a header
        default: return true  // unknown keys with scalar values are ignored, as by the general decoder
        }
    }

    mutating func name(_ v: FastValue, _ out: inout Int32) -> Bool {
        switch v {
        case .null:
            out = -1
            return true
        case .string(let s):
            guard let id = names.id(s.start, s.count) else { return false }
            out = id
            return true
        default:
            return false
        }
    }
}

/// Fields as read, before the checks the general decoder makes.
struct FastFields {
    enum OutcomeField { case absent, ok, other }
    var version: Double?
    var isInvocation = false
    var ts: Double?
    var rt: Double?
    var endpoint: Int32 = -1
    var service: Int32 = -1
    var parent: Int32 = -1
    var id: Int32 = -1
    var kind: EndpointKind?
    var arch: Architecture?
    var durationMs: Double?
    var billedMs: Double?
    var memoryMB: Double?
    var maxMemoryMB: Double?
    var initMs: Double?
    var timeoutMs: Double?
    var status: Double?
    var coldStart: Bool?
    var test: Bool?
    var outcome = OutcomeField.absent

    /// Nil unless the general decoder would accept the line as a successful invocation.
    func build() -> PackedInvocation? {
        guard version == 1, isInvocation, let ts, ts.isFinite, ts >= 0, endpoint >= 0, let durationMs, durationMs >= 0 else { return nil }
        guard (billedMs ?? 0) >= 0, (memoryMB ?? 0) >= 0, (maxMemoryMB ?? 0) >= 0, (initMs ?? 0) >= 0, (timeoutMs ?? 0) >= 0 else { return nil }
        if let status { guard status == status.rounded(), status >= 0, status < 1000 else { return nil } }
        switch outcome {
        case .ok: break
        case .absent: guard (status ?? 0) < 500 else { return nil }
        case .other: return nil
        }
        return PackedInvocation(
            receivedAt: rt, ts: ts, durationMs: durationMs, billedMs: billedMs, memoryMB: memoryMB, maxMemoryMB: maxMemoryMB,
            initMs: initMs, timeoutMs: timeoutMs, endpoint: endpoint, service: service, parent: parent, id: id,
            status: status.map { Int($0) },
            kind: kind ?? .route, arch: arch, coldStart: coldStart ?? (initMs != nil), test: test ?? false)
    }
}

/// Bytes of the line, by pointer.
struct FastSpan {
    let start: UnsafeRawPointer
    let count: Int

    /// Byte by byte, inlined: keys are short and most comparisons end at the first byte, where a
    /// call to `memcmp` per candidate key cost more than the rest of the line.
    @inline(__always) func `is`(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        for i in 0..<count where start.load(fromByteOffset: i, as: UInt8.self) != l[i] { return false }
        return true
    }

    var string: String? { String(validating: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self) }
}

/// A key, with its first 16 bytes as two little-endian words (zero-padded) for matching.
struct FastKey {
    let count: Int
    let w0: UInt64
    let w1: UInt64
}

enum FastValue {
    case string(FastSpan)
    case number(Double)
    case bool(Bool)
    case null

    @inline(__always) func number(_ out: inout Double?) -> Bool {
        switch self {
        case .number(let d): out = d
        case .null: out = nil
        default: return false
        }
        return true
    }

    @inline(__always) func bool(_ out: inout Bool?) -> Bool {
        switch self {
        case .bool(let b): out = b
        case .null: out = nil
        default: return false
        }
        return true
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    var isStringOrNull: Bool {
        switch self {
        case .string, .null: true
        default: false
        }
    }
}

/// The read position. Each method works on a local copy of `p` and stores it once at the end:
/// loads through raw pointers may alias the cursor, so a loop that advanced `p` in place would
/// store and reload it every byte.
struct FastCursor {
    var p: UnsafeRawPointer
    let end: UnsafeRawPointer

    var atEnd: Bool { p == end }

    @inline(__always) func peek() -> UInt8? { p < end ? p.load(as: UInt8.self) : nil }

    @inline(__always) mutating func take(_ byte: UInt8) -> Bool {
        guard p < end, p.load(as: UInt8.self) == byte else { return false }
        p += 1
        return true
    }

    @inline(__always) mutating func skipSpace() {
        var q = p
        while q < end {
            let b = q.load(as: UInt8.self)
            guard b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A else { break }
            q += 1
        }
        p = q
    }

    /// A string without escapes or control characters (nil otherwise: the general path decides).
    /// Eight bytes at a time where the line allows: the first quote, backslash or control byte is
    /// the lowest flagged byte of the word (the zero-byte test has no false positives below it).
    @inline(__always) mutating func plainString() -> FastSpan? {
        guard take(0x22) else { return nil }
        return stringBody()
    }

    /// The rest of a string whose opening quote is behind the cursor (see `plainString`).
    @inline(__always) mutating func stringBody() -> FastSpan? {
        let start = p
        var q = p
        let end = self.end
        while end - q >= 8 {
            let w = q.loadUnaligned(as: UInt64.self)
            let flagged = Self.zeroByte(w ^ 0x2222_2222_2222_2222) | Self.zeroByte(w ^ 0x5C5C_5C5C_5C5C_5C5C)
                | ((w &- 0x2020_2020_2020_2020) & ~w & 0x8080_8080_8080_8080)
            if flagged != 0 {
                q += flagged.trailingZeroBitCount >> 3
                return close(start, at: q)
            }
            q += 8
        }
        while q < end {
            let b = q.load(as: UInt8.self)
            if b == 0x22 || b == 0x5C || b < 0x20 { return close(start, at: q) }
            q += 1
        }
        p = q
        return nil
    }

    /// At the first special byte of a string: its end if that is a quote.
    @inline(__always) mutating func close(_ start: UnsafeRawPointer, at q: UnsafeRawPointer) -> FastSpan? {
        p = q
        guard q.load(as: UInt8.self) == 0x22 else { return nil }
        p = q + 1
        return FastSpan(start: start, count: q - start)
    }

    @inline(__always) private static func zeroByte(_ x: UInt64) -> UInt64 {
        (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
    }

    /// A key and its words (see `FastKey`).
    @inline(__always) mutating func key() -> FastKey? {
        guard let s = plainString() else { return nil }
        let n = s.count
        if n <= 16, end - s.start >= 16 {
            let lo = s.start.loadUnaligned(as: UInt64.self)
            let hi = s.start.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let w0 = n >= 8 ? lo : lo & ((1 << UInt64(n * 8)) - 1)
            let w1 = n >= 16 ? hi : n <= 8 ? 0 : hi & ((1 << UInt64((n - 8) * 8)) - 1)
            return FastKey(count: n, w0: w0, w1: w1)
        }
        var w0: UInt64 = 0
        var w1: UInt64 = 0
        for i in 0..<min(n, 16) {
            let b = UInt64(s.start.load(fromByteOffset: i, as: UInt8.self))
            if i < 8 { w0 |= b << UInt64(i * 8) } else { w1 |= b << UInt64((i - 8) * 8) }
        }
        return FastKey(count: n, w0: w0, w1: w1)
    }

    @inline(__always) mutating func value() -> FastValue? {
        guard let b = peek() else { return nil }
        switch b {
        case 0x22: return plainString().map(FastValue.string)
        case 0x30...0x39: return number().map(FastValue.number)
        case 0x74: return literal(0x6575_7274, 4) ? .bool(true) : nil  // true
        case 0x66: return literal(0x65_736C_6166, 5) ? .bool(false) : nil  // false
        case 0x6E: return literal(0x6C6C_756E, 4) ? .null : nil  // null
        default: return nil  // negative numbers, objects, arrays: the general path
        }
    }

    /// The `n` bytes at the cursor as a little-endian word equal `word`.
    @inline(__always) private mutating func literal(_ word: UInt64, _ n: Int) -> Bool {
        guard end - p >= n else { return false }
        var w: UInt64 = 0
        for i in 0..<n { w |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << UInt64(i * 8) }
        guard w == word else { return false }
        p += n
        return true
    }

    /// Non-negative decimals that Clinger's fast path reads exactly (as `JSONScanner` does);
    /// exponents, leading zeros and long mantissas are left to the general path.
    @inline(__always) mutating func number() -> Double? {
        var q = p
        let end = self.end
        defer { p = q }
        var mantissa: UInt64 = 0
        let intStart = q
        Self.digits(&q, end, into: &mantissa)
        var digits = q - intStart
        guard digits > 0 else { return nil }
        if digits > 1, intStart.load(as: UInt8.self) == 0x30 { return nil }
        var fraction = 0
        if q < end, q.load(as: UInt8.self) == 0x2E {
            q += 1
            let fractionStart = q
            Self.digits(&q, end, into: &mantissa)
            fraction = q - fractionStart
            digits += fraction
            guard fraction > 0 else { return nil }
        }
        if q < end, q.load(as: UInt8.self) | 0x20 == 0x65 { return nil }  // e / E
        guard digits <= 18, mantissa < (1 << 53), fraction <= 22 else { return nil }
        let m = Double(mantissa)
        return fraction == 0 ? m : m / exactPowerOf10(fraction)
    }

    /// Appends the run of decimal digits at `q` to `value` (wrapping past 19 digits, which the
    /// caller then refuses), eight at a time where the line allows.
    @inline(__always) private static func digits(_ q: inout UnsafeRawPointer, _ end: UnsafeRawPointer, into value: inout UInt64) {
        while end - q >= 8 {
            let w = q.loadUnaligned(as: UInt64.self)
            // Non-digit bytes are nonzero here; the lowest one is exact (a carry only moves upward).
            let high = w & 0xF0F0_F0F0_F0F0_F0F0
            let bumped = (w &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0
            let nonDigit = (high ^ 0x3030_3030_3030_3030) | (bumped ^ 0x3030_3030_3030_3030)
            let n = nonDigit == 0 ? 8 : nonDigit.trailingZeroBitCount >> 3
            guard n > 0 else { return }
            // The n digits, most significant first in memory, moved to the top of the word.
            var v = (w &- 0x3030_3030_3030_3030) << UInt64((8 - n) * 8)
            v = (v &* 10) &+ (v >> 8)  // pairs: first*10 + second in each 16-bit lane
            v = ((v & 0x00FF_00FF_00FF_00FF) &* (100 << 16 + 1)) >> 16  // fours
            v = ((v & 0x0000_FFFF_0000_FFFF) &* (10_000 << 32 + 1)) >> 32  // eight
            value = value &* exactPowerOf10Int(n) &+ v
            q += n
            if n < 8 { return }
        }
        while q < end {
            let d = q.load(as: UInt8.self) &- 0x30
            guard d < 10 else { return }
            value = value &* 10 &+ UInt64(d)
            q += 1
        }
    }
}

/// 10^n for 0 ≤ n ≤ 8, as an integer.
@inline(__always) private func exactPowerOf10Int(_ n: Int) -> UInt64 { bt_pow10_u64(UInt32(truncatingIfNeeded: n)) }

/// 10^n for 0 ≤ n ≤ 22, each exactly representable.
@inline(__always) func exactPowerOf10(_ n: Int) -> Double { bt_pow10_f64(UInt32(truncatingIfNeeded: n)) }

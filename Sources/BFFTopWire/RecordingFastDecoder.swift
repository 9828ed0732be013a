#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A successful invocation read straight from a recording line: plain values only (names are
/// `NameTable` ids, an in-flight id indexes a side list), so batches of them cross threads and
/// are copied without reference counting. Its status code, error text and trace id are not kept:
/// only failures' are shown, and failures take the general path.
public struct PackedInvocation: Sendable, Equatable {
    /// When bfftop received it (`rt`), in recordings.
    public var receivedAt: Double?
    public var ts: Double
    public var durationMs: Double
    public var billedMs: Double?
    public var memoryMB: Double?
    public var maxMemoryMB: Double?
    public var initMs: Double?
    public var timeoutMs: Double?
    public var endpoint: Int32
    /// -1: none.
    public var service: Int32 = -1
    public var parent: Int32 = -1
    /// Index into the in-flight ids that travel with the batch; -1: none.
    public var id: Int32 = -1
    public var kind: EndpointKind
    public var arch: Architecture?
    public var coldStart: Bool
    public var test: Bool

    /// Replay's clock: receive time in recordings, else the end of the invocation (as `WireEvent`).
    @inline(__always) public var time: Double { receivedAt ?? (ts + durationMs / 1000) }

    /// The same invocation as the general decoder builds it (outcome ok; no error or trace:
    /// only successful invocations take this path).
    public func invocation(names: [String], ids: [String]) -> Invocation {
        Invocation(
            ts: ts, service: service >= 0 ? names[Int(service)] : nil, endpoint: names[Int(endpoint)], kind: kind,
            durationMs: durationMs, billedMs: billedMs, memoryMB: memoryMB, maxMemoryMB: maxMemoryMB,
            coldStart: coldStart, initMs: initMs, outcome: .ok, timeoutMs: timeoutMs,
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
    public private(set) var names = NameTable()

    public init() {}

    /// Decodes `line`; an in-flight id is appended to `ids` (and the result indexes it).
    public mutating func decode(_ line: UnsafeRawBufferPointer, ids: inout [String]) -> PackedInvocation? {
        guard let base = line.baseAddress else { return nil }
        var f = FastFields()
        var c = Cursor(p: base, end: base + line.count)
        c.skipSpace()
        guard c.take(0x7B) else { return nil }  // {
        c.skipSpace()
        if !c.take(0x7D) {
            while true {
                guard let key = c.plainString() else { return nil }
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

    private mutating func assign(_ f: inout FastFields, key k: Span, value v: Value, ids: inout [String]) -> Bool {
        switch k.count {
        case 1:
            if k.is("v") { return v.number(&f.version) }
        case 2:
            if k.is("ts") { return v.number(&f.ts) }
            if k.is("rt") { return v.number(&f.rt) }
            if k.is("id") {
                switch v {
                case .null: f.id = -1
                case .string(let s):
                    guard let text = s.string else { return false }
                    f.id = Int32(ids.count)
                    ids.append(text)
                default: return false  // numeric ids: the general decoder turns them into text
                }
                return true
            }
        case 4:
            if k.is("type") {
                guard case .string(let s) = v, s.is("invocation") else { return false }
                f.isInvocation = true
                return true
            }
            if k.is("kind") {
                switch v {
                case .null: f.kind = nil
                case .string(let s) where s.is("route"): f.kind = .route
                case .string(let s) where s.is("function"): f.kind = .function
                default: return false
                }
                return true
            }
            if k.is("arch") {
                switch v {
                case .null: f.arch = nil
                case .string(let s) where s.is("x86_64") || s.is("x86") || s.is("amd64"): f.arch = .x86_64
                case .string(let s) where s.is("arm64") || s.is("aarch64"): f.arch = .arm64
                default: return false
                }
                return true
            }
            if k.is("test") { return v.bool(&f.test) }
        case 5:
            if k.is("count") || k.is("value") || k.is("limit") {
                var ignored: Double?
                return v.number(&ignored)
            }
            if k.is("error") { return v.isStringOrNull }
        case 6:
            if k.is("status") { return v.number(&f.status) }
            if k.is("parent") { return name(v, &f.parent) }
        case 7:
            if k.is("service") { return name(v, &f.service) }
            if k.is("init_ms") { return v.number(&f.initMs) }
            if k.is("outcome") {
                switch v {
                case .null: f.outcome = .absent
                case .string(let s): f.outcome = s.is("ok") ? .ok : .other
                default: return false
                }
                return true
            }
        case 8:
            if k.is("endpoint") {
                if case .string(let s) = v, s.count == 0 { return false }  // "must not be empty"
                return name(v, &f.endpoint)
            }
            if k.is("trace_id") { return v.isStringOrNull }
        case 9:
            if k.is("billed_ms") { return v.number(&f.billedMs) }
            if k.is("memory_mb") { return v.number(&f.memoryMB) }
        case 10:
            if k.is("cold_start") { return v.bool(&f.coldStart) }
            if k.is("timeout_ms") { return v.number(&f.timeoutMs) }
        case 11:
            if k.is("duration_ms") { return v.number(&f.durationMs) }
            if k.is("cold_starts") {
                var ignored: Double?
                return v.number(&ignored)
            }
        case 13:
            if k.is("max_memory_mb") { return v.number(&f.maxMemoryMB) }
        case 16:
            if k.is("bfftop_recording") { return false }  // a header line
        default:
            break
        }
        return true  // unknown keys with scalar values are ignored, as by the general decoder
    }

    private mutating func name(_ v: Value, _ out: inout Int32) -> Bool {
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
private struct FastFields {
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
            kind: kind ?? .route, arch: arch, coldStart: coldStart ?? (initMs != nil), test: test ?? false)
    }
}

/// Bytes of the line, by pointer.
private struct Span {
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

private enum Value {
    case string(Span)
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

    var isStringOrNull: Bool {
        switch self {
        case .string, .null: true
        default: false
        }
    }
}

private struct Cursor {
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
        while p < end {
            let b = p.load(as: UInt8.self)
            guard b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A else { return }
            p += 1
        }
    }

    /// A string without escapes or control characters (nil otherwise: the general path decides).
    @inline(__always) mutating func plainString() -> Span? {
        guard take(0x22) else { return nil }
        let start = p
        while p < end {
            let b = p.load(as: UInt8.self)
            if b == 0x22 {
                let s = Span(start: start, count: p - start)
                p += 1
                return s
            }
            if b == 0x5C || b < 0x20 { return nil }
            p += 1
        }
        return nil
    }

    @inline(__always) mutating func value() -> Value? {
        guard let b = peek() else { return nil }
        switch b {
        case 0x22: return plainString().map(Value.string)
        case 0x30...0x39: return number().map(Value.number)
        case 0x74: return literal("true") ? .bool(true) : nil
        case 0x66: return literal("false") ? .bool(false) : nil
        case 0x6E: return literal("null") ? .null : nil
        default: return nil  // negative numbers, objects, arrays: the general path
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard end - p >= n, memcmp(p, word.utf8Start, n) == 0 else { return false }
        p += n
        return true
    }

    /// Non-negative decimals that Clinger's fast path reads exactly (as `JSONScanner` does);
    /// exponents, leading zeros and long mantissas are left to the general path.
    @inline(__always) mutating func number() -> Double? {
        var mantissa: UInt64 = 0
        var digits = 0
        let intStart = p
        while p < end {
            let d = p.load(as: UInt8.self) &- 0x30
            guard d < 10 else { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            digits += 1
            p += 1
        }
        if digits > 1, intStart.load(as: UInt8.self) == 0x30 { return nil }
        var fraction = 0
        if p < end, p.load(as: UInt8.self) == 0x2E {
            p += 1
            while p < end {
                let d = p.load(as: UInt8.self) &- 0x30
                guard d < 10 else { break }
                mantissa = mantissa &* 10 &+ UInt64(d)
                digits += 1
                fraction += 1
                p += 1
            }
            guard fraction > 0 else { return nil }
        }
        if p < end, p.load(as: UInt8.self) | 0x20 == 0x65 { return nil }  // e / E
        guard digits <= 18, mantissa < (1 << 53), fraction <= 22 else { return nil }
        let m = Double(mantissa)
        return fraction == 0 ? m : m / JSONScanner.powersOf10[fraction]
    }
}

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
        var packed = PackedInvocation.unread
        return decode(line, ids: &ids, into: &packed) ? packed : nil
    }

    /// As `decode(_:ids:)`, written into `packed` (the caller's storage; see `decodeCanonical`).
    @inline(__always) public mutating func decode(_ line: UnsafeRawBufferPointer, ids: inout [String], into packed: inout PackedInvocation) -> Bool {
        let idCount = ids.count
        if decodeCanonical(line, ids: &ids, into: &packed) { return true }
        if ids.count > idCount { ids.removeSubrange(idCount...) }
        guard let p = decodeFlat(line, ids: &ids) else { return false }
        packed = p
        return true
    }

    /// Any flat line of a successful invocation (keys in any order, spaces allowed).
    private mutating func decodeFlat(_ line: UnsafeRawBufferPointer, ids: inout [String]) -> PackedInvocation? {
        guard let base = line.baseAddress else { return nil }
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
        case (5, 0x74_6E75_6F63): return v.isNull  // count: an invocation standing for several is the general decoder's
        case (5, 0x65_756C_6176), (5, 0x74_696D_696C):  // value, limit
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
        // span_id, parent_span_id: spans are kept for waterfalls, which the packed path does not carry.
        case (7, 0x64_695F_6E61_7073): return v.isNull  // span_id
        case (14, 0x735F_746E_6572_6170) where k.w1 == 0x6469_5F6E_6170: return v.isNull  // parent_span_id
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
        guard version == 1, isInvocation, let ts, ts.isFinite, ts >= 0, ts < WireLimits.maxTimestamp, endpoint >= 0, let durationMs else { return nil }
        if let rt { guard rt >= 0, rt < WireLimits.maxTimestamp else { return nil } }
        typealias L = WireLimits
        guard L.admits(figure: durationMs), L.admits(figure: billedMs), L.admits(figure: memoryMB), L.admits(figure: maxMemoryMB),
              L.admits(figure: initMs), L.admits(figure: timeoutMs) else { return nil }
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

/// Decodes bfftop's native protocol v1: one JSON object per line (see docs/protocol.md).
///
/// Not thread-safe: each connection owns one decoder, so its string cache needs no lock.
public final class NativeDecoder {
    public static let protocolVersion = 1
    private var interner = StringInterner()

    public init() {}

    public func decode(_ line: String) -> Result<WireEvent, DecodeError> {
        var copy = line
        return copy.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    public func decode(_ line: UnsafeRawBufferPointer) -> Result<WireEvent, DecodeError> {
        do {
            return .success(try decodeOrThrow(line))
        } catch {
            return .failure(error)
        }
    }

    public func decodeOrThrow(_ line: UnsafeRawBufferPointer) throws(DecodeError) -> WireEvent {
        try fields(line).build()
    }

    /// A line of a recording: the header, or an event with the time bfftop received it (`rt`).
    public enum RecordingLine: Equatable, Sendable {
        case header
        case event(WireEvent, receivedAt: Double?)
    }

    public func decodeRecordingLine(_ line: UnsafeRawBufferPointer) throws(DecodeError) -> RecordingLine {
        let f = try fields(line)
        if f.recordingHeader { return .header }
        if let rt = f.rt, !(rt >= 0 && rt < WireLimits.maxTimestamp) {
            throw DecodeError("field \"rt\" must be Unix seconds, got \(formatNumber(rt))")
        }
        return .event(try f.build(), receivedAt: f.rt)
    }

    private func fields(_ line: UnsafeRawBufferPointer) throws(DecodeError) -> Fields {
        var s = JSONScanner(line)
        let reader = JSONScanner(line)  // read-only twin: the closure may not capture `s` while it scans
        var f = Fields()
        try s.forEachMember { (ks: Int, ke: Int, value: JSONToken) throws(DecodeError) in
            try assign(&f, scanner: reader, ks, ke, value)
        }
        try s.expectEnd()
        return f
    }

    // MARK: - Field assignment

    private func assign(_ f: inout Fields, scanner s: JSONScanner, _ ks: Int, _ ke: Int, _ v: JSONToken) throws(DecodeError) {
        // Dispatch on length first: most keys differ in length, so this is usually one memcmp.
        switch ke - ks {
        case 1:
            if s.equals(ks, ke, "v") { f.version = try number(v, "v", s) }
        case 2:
            if s.equals(ks, ke, "ts") { f.ts = try number(v, "ts", s) } else if s.equals(ks, ke, "id") {
                f.id = try idValue(v, s)
            } else if s.equals(ks, ke, "rt") {
                f.rt = try number(v, "rt", s)
            }
        case 4:
            if s.equals(ks, ke, "type") { f.type = try string(v, "type", s, intern: true) } else if s.equals(ks, ke, "kind") {
                f.kind = try string(v, "kind", s, intern: true)
            } else if s.equals(ks, ke, "arch") {
                f.arch = try string(v, "arch", s, intern: true)
            } else if s.equals(ks, ke, "test") {
                f.test = try bool(v, "test", s)
            }
        case 5:
            if s.equals(ks, ke, "count") { f.count = try number(v, "count", s) } else if s.equals(ks, ke, "inits") {
                f.inits = try number(v, "inits", s)
            }
            if s.equals(ks, ke, "value") { f.value = try number(v, "value", s) } else if s.equals(ks, ke, "limit") {
                f.limit = try number(v, "limit", s)
            } else if s.equals(ks, ke, "error") {
                f.error = try string(v, "error", s, intern: true)
            }
        case 6:
            if s.equals(ks, ke, "status") { f.status = try number(v, "status", s) } else if s.equals(ks, ke, "parent") {
                f.parent = try string(v, "parent", s, intern: true)
            }
        case 7:
            if s.equals(ks, ke, "service") { f.service = try string(v, "service", s, intern: true) } else if s.equals(ks, ke, "outcome") {
                f.outcome = try string(v, "outcome", s, intern: true)
            } else if s.equals(ks, ke, "init_ms") {
                f.initMs = try number(v, "init_ms", s)
            } else if s.equals(ks, ke, "untimed") {
                f.untimed = try bool(v, "untimed", s)
            } else if s.equals(ks, ke, "span_id") {
                f.spanID = try string(v, "span_id", s, intern: false)
            }
        case 8:
            if s.equals(ks, ke, "endpoint") { f.endpoint = try string(v, "endpoint", s, intern: true) } else if s.equals(ks, ke, "trace_id") {
                f.traceID = try string(v, "trace_id", s, intern: false)
            }
        case 9:
            if s.equals(ks, ke, "billed_ms") { f.billedMs = try number(v, "billed_ms", s) } else if s.equals(ks, ke, "memory_mb") {
                f.memoryMB = try number(v, "memory_mb", s)
            }
        case 10:
            if s.equals(ks, ke, "cold_start") { f.coldStart = try bool(v, "cold_start", s) } else if s.equals(ks, ke, "timeout_ms") {
                f.timeoutMs = try number(v, "timeout_ms", s)
            }
        case 11:
            if s.equals(ks, ke, "duration_ms") { f.durationMs = try number(v, "duration_ms", s) } else if s.equals(ks, ke, "cold_starts") {
                f.coldStarts = try number(v, "cold_starts", s)
            }
        case 13:
            if s.equals(ks, ke, "max_memory_mb") { f.maxMemoryMB = try number(v, "max_memory_mb", s) }
        case 14:
            if s.equals(ks, ke, "parent_span_id") { f.parentSpanID = try string(v, "parent_span_id", s, intern: false) }
        case 16:
            if s.equals(ks, ke, "bfftop_recording") { f.recordingHeader = true }
        default:
            break  // unknown fields are ignored
        }
    }

    private func number(_ v: JSONToken, _ key: String, _ s: JSONScanner) throws(DecodeError) -> Double? {
        switch v {
        case .number(let d): return d
        case .null: return nil
        default: throw DecodeError("field \"\(key)\" must be a number, got \(v.typeName)")
        }
    }

    private func bool(_ v: JSONToken, _ key: String, _ s: JSONScanner) throws(DecodeError) -> Bool? {
        switch v {
        case .bool(let b): return b
        case .null: return nil
        default: throw DecodeError("field \"\(key)\" must be true or false, got \(v.typeName)")
        }
    }

    private func string(_ v: JSONToken, _ key: String, _ s: JSONScanner, intern: Bool) throws(DecodeError) -> String? {
        switch v {
        case .string(let start, let end, let escaped):
            if intern, !escaped, let base = s.bytes.baseAddress {
                if let cached = interner.lookup(base + start, end - start) { return cached }
                let value = try s.string(start: start, end: end, escaped: false)
                interner.insert(value, base + start, end - start)
                return value
            }
            return try s.string(start: start, end: end, escaped: escaped)
        case .null: return nil
        default: throw DecodeError("field \"\(key)\" must be a string, got \(v.typeName)")
        }
    }

    private func idValue(_ v: JSONToken, _ s: JSONScanner) throws(DecodeError) -> String? {
        if case .number(let d) = v, d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return try string(v, "id", s, intern: false)
    }
}

/// The fields of one line, collected before validation.
private struct Fields {
    var version: Double?
    var type: String?
    var ts: Double?
    var endpoint: String?
    var service: String?
    var kind: String?
    var durationMs: Double?
    var billedMs: Double?
    var memoryMB: Double?
    var maxMemoryMB: Double?
    var coldStart: Bool?
    var initMs: Double?
    var outcome: String?
    var status: Double?
    var error: String?
    var timeoutMs: Double?
    var traceID: String?
    var spanID: String?
    var parentSpanID: String?
    var parent: String?
    var arch: String?
    var id: String?
    var value: Double?
    var limit: Double?
    var count: Double?
    var coldStarts: Double?
    var inits: Double?
    var untimed: Bool?
    var test: Bool?
    /// Receive time, in recordings.
    var rt: Double?
    var recordingHeader = false

    func build() throws(DecodeError) -> WireEvent {
        guard let version else { throw DecodeError("missing \"v\":1 (protocol version)") }
        guard version == Double(NativeDecoder.protocolVersion) else {
            throw DecodeError("unsupported protocol version \(formatNumber(version)) (this bfftop speaks v1)")
        }
        guard let type else { throw DecodeError("missing required field \"type\"") }
        guard let ts else { throw DecodeError("missing required field \"ts\"") }
        guard ts.isFinite, ts >= 0 else { throw DecodeError("field \"ts\" must be Unix seconds ≥ 0") }
        guard ts < WireLimits.maxTimestamp else {
            throw DecodeError("field \"ts\" must be Unix seconds, got \(formatNumber(ts)) (milliseconds?)")
        }
        guard let endpoint else { throw DecodeError("missing required field \"endpoint\"") }
        guard !endpoint.isEmpty else { throw DecodeError("field \"endpoint\" must not be empty") }
        let kind = try parseKind()
        switch type {
        case "invocation":
            return .invocation(try invocation(ts: ts, endpoint: endpoint, kind: kind ?? .route))
        case "start":
            guard let id else { throw DecodeError("missing required field \"id\" for a start event") }
            return .start(InFlightStart(ts: ts, endpoint: endpoint, id: id, service: service, kind: kind))
        case "concurrency":
            guard let value else { throw DecodeError("missing required field \"value\" for a concurrency event") }
            guard value >= 0, value <= Double(WireLimits.maxCount) else { throw DecodeError("field \"value\" must be 0 … 1e9, got \(formatNumber(value))") }
            if let limit, !(limit >= 0 && limit <= Double(WireLimits.maxCount)) {
                throw DecodeError("field \"limit\" must be 0 … 1e9, got \(formatNumber(limit))")
            }
            return .concurrency(ConcurrencyGauge(ts: ts, endpoint: endpoint, value: value, limit: limit, service: service, kind: kind))
        case "outcomes":
            let cold = coldStarts ?? 0
            guard cold >= 0, cold == cold.rounded(), cold <= 1e9 else { throw DecodeError("field \"cold_starts\" must be a whole number ≥ 0") }
            let initCount = inits ?? 0
            guard initCount >= 0, initCount == initCount.rounded(), initCount <= 1e9 else { throw DecodeError("field \"inits\" must be a whole number ≥ 0") }
            if initCount > 0 {
                guard initMs != nil, WireLimits.admits(figure: initMs) else {
                    throw DecodeError("an outcomes event with \"inits\" needs \"init_ms\", a figure from 0 to 1e10 (how long each took)")
                }
            } else if initMs != nil {
                throw DecodeError("field \"init_ms\" on an outcomes event needs \"inits\" (how many initializations took that long)")
            }
            guard WireLimits.admits(figure: maxMemoryMB) else { throw DecodeError("field \"max_memory_mb\" must be a figure from 0 to 1e10") }
            // Events that only bring figures (cold starts, init times, memory) count no requests.
            let figuresOnly = cold > 0 || initCount > 0 || maxMemoryMB != nil
            guard let count, count >= (figuresOnly ? 0 : 1), count == count.rounded(), count <= 1e9 else {
                throw DecodeError("field \"count\" must be a whole number ≥ 1 for an outcomes event")
            }
            guard let o = outcome.flatMap(Outcome.init(name:)), o != .ok || count == 0 else {
                throw DecodeError("field \"outcome\" must be error, timeout or throttle for an outcomes event")
            }
            return .outcomes(OutcomeCount(ts: ts, endpoint: endpoint, kind: kind, outcome: o, count: Int(count), service: service, coldStarts: Int(cold),
                                          untimed: untimed ?? false, inits: Int(initCount), initMs: initCount > 0 ? initMs : nil,
                                          maxMemoryMB: maxMemoryMB))
        default:
            throw DecodeError("unknown event type \"\(type)\" (expected invocation, start, concurrency or outcomes)")
        }
    }

    private func parseKind() throws(DecodeError) -> EndpointKind? {
        switch kind {
        case nil: return nil
        case "route": return .route
        case "function": return .function
        case let other?: throw DecodeError("field \"kind\" must be \"route\" or \"function\", got \"\(other)\"")
        }
    }

    private func invocation(ts: Double, endpoint: String, kind: EndpointKind) throws(DecodeError) -> Invocation {
        guard let durationMs else { throw DecodeError("missing required field \"duration_ms\"") }
        try figure(durationMs, "duration_ms")
        try figure(billedMs, "billed_ms")
        try figure(memoryMB, "memory_mb")
        try figure(maxMemoryMB, "max_memory_mb")
        try figure(initMs, "init_ms")
        try figure(timeoutMs, "timeout_ms")
        var statusCode: Int?
        if let status {
            guard status == status.rounded(), status >= 0, status < 1000 else {
                throw DecodeError("field \"status\" must be an HTTP status code, got \(formatNumber(status))")
            }
            statusCode = Int(status)
        }
        let resolvedOutcome: Outcome
        if let outcome {
            guard let o = Outcome(name: outcome) else {
                throw DecodeError("field \"outcome\" must be ok, error, timeout or throttle, got \"\(outcome)\"")
            }
            resolvedOutcome = o
        } else {
            resolvedOutcome = (statusCode ?? 0) >= 500 ? .error : .ok
        }
        var architecture: Architecture?
        switch arch {
        case nil: architecture = nil
        case "x86_64", "x86", "amd64": architecture = .x86_64
        case "arm64", "aarch64": architecture = .arm64
        case let other?: throw DecodeError("field \"arch\" must be \"x86_64\" or \"arm64\", got \"\(other)\"")
        }
        var span: SpanContext?
        if let spanID {
            guard let traceID else { throw DecodeError("field \"span_id\" needs \"trace_id\" (the trace it belongs to)") }
            guard let s = SpanContext(traceID: traceID, spanID: spanID, parentSpanID: parentSpanID) else {
                throw DecodeError("fields \"trace_id\" and \"span_id\" must not be empty")
            }
            span = s
        } else if parentSpanID != nil {
            throw DecodeError("field \"parent_span_id\" needs \"span_id\" (this invocation's own span)")
        }
        var many: Int?
        if let count {
            guard let n = WireLimits.integer(count, in: 1...WireLimits.maxCount) else {
                throw DecodeError("field \"count\" must be a whole number 1 … 1e9 for an invocation (how many alike), got \(formatNumber(count))")
            }
            many = n
        }
        var inv = Invocation(
            ts: ts, service: service, endpoint: endpoint, kind: kind, durationMs: durationMs, billedMs: billedMs,
            memoryMB: memoryMB, maxMemoryMB: maxMemoryMB, coldStart: coldStart ?? (initMs != nil),
            initMs: initMs, outcome: resolvedOutcome, status: statusCode, error: error, timeoutMs: timeoutMs,
            traceID: traceID, parent: parent, arch: architecture, id: id, test: test ?? false, span: span)
        inv.count = many
        return inv
    }
}

/// A duration, size or limit: 0 … `WireLimits.maxFigure`.
@inline(always) private func figure(_ v: Double?, _ name: StaticString) throws(DecodeError) {
    guard let v else { return }
    if v < 0 { throw DecodeError("field \"\(name)\" must be ≥ 0") }
    if v > WireLimits.maxFigure { throw DecodeError("field \"\(name)\" must be at most 1e10, got \(formatNumber(v))") }
}

/// A number as a person reads it in an error message: whole numbers without ".0".
public func formatNumber(_ d: Double) -> String {
    d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
}

#if canImport(Glibc)
import Glibc
#endif
/// The socket's control channel (docs/protocol.md): an emitter declares the endpoints it can run,
/// bfftop asks it to run one, the emitter answers on the same connection.
///
///     emitter → bfftop  {"v":1,"type":"invokable","endpoints":["GET /api/slots","booking-create"]}
///     bfftop → emitter  {"v":1,"type":"invoke","id":"7","endpoint":"GET /api/slots","payload":"{…}"}
///     emitter → bfftop  {"v":1,"type":"invoke_result","id":"7","status":200,"outcome":"ok","duration_ms":84.2,
///                        "bytes":512,"cold_start":false,"error":null}
///
/// `bfftop snapshot` (or any script) asks for what the dashboard shows, as one JSON line:
///
///     client → bfftop  {"v":1,"type":"snapshot_request"}
///     bfftop → client  {"v":1,"type":"snapshot","now":…,"window":"1m","totals":{…},"endpoints":[…],"alarms":[…]}
public enum ControlMessage: Equatable, Sendable {
    case invokable([String])
    case result(id: String, ControlReply)
    case snapshotRequest
}

/// Why an emitter behind the control channel gave no reply.
public enum ControlFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case noEmitter(endpoint: String)
    case timeout(seconds: Double)
    case disconnected
    case noReply

    public var description: String {
        switch self {
        case .noEmitter(let e): "no connected emitter can run \(e) any more"
        case .timeout(let s): "timed out after \(s < 10 ? String(s) : String(Int(s))) s"
        case .disconnected: "the emitter disconnected before answering"
        case .noReply: "no reply"
        }
    }
}

/// Emitters on the dashboard's socket that run endpoints on request: the socket layer serves it, the
/// invocation runner uses it, neither knows the other.
public protocol ControlChannel: Sendable {
    func canInvoke(_ endpoint: String) -> Bool
    /// Blocks until the emitter answers or `timeout` passes.
    func invoke(_ endpoint: String, payload: String?, timeout: Double) -> Result<ControlReply, ControlFailure>
}

/// A reply from an emitter to an invoke request.
public struct ControlReply: Sendable, Equatable {
    public var status: Int?
    public var outcome: Outcome
    public var durationMs: Double
    public var bytes: Int
    public var coldStart: Bool?
    public var error: String?

    public init(status: Int? = nil, outcome: Outcome, durationMs: Double, bytes: Int = 0, coldStart: Bool? = nil, error: String? = nil) {
        self.status = status
        self.outcome = outcome
        self.durationMs = durationMs
        self.bytes = bytes
        self.coldStart = coldStart
        self.error = error
    }
}

public enum ControlCodec {
    /// Cheap test first (most lines are events): only lines naming a control type are parsed.
    public static func decode(_ line: UnsafeRawBufferPointer) -> Result<ControlMessage, DecodeError>? {
        guard bytesContain(line, "\"invokable\"") || bytesContain(line, "\"invoke_result\"") || bytesContain(line, "\"snapshot_request\"") else { return nil }
        var s = JSONScanner(line)
        let r = JSONScanner(line)
        var type: String?
        var id: String?
        var endpoints: [String] = []
        var reply = ControlReply(outcome: .ok, durationMs: 0)
        var outcomeGiven = false
        do {
            s.skipWhitespace()
            try s.forEachMember { (ks: Int, ke: Int, v: JSONToken) throws(DecodeError) in
                let key = try r.string(start: ks, end: ke, escaped: false)
                switch (key, v) {
                case ("type", .string(let a, let b, let e)): type = try r.string(start: a, end: b, escaped: e)
                case ("id", .string(let a, let b, let e)): id = try r.string(start: a, end: b, escaped: e)
                case ("id", .number(let d)):
                    guard let n = WireLimits.integer(d, in: -(1 << 53)...(1 << 53)) else {
                        throw DecodeError("field \"id\" must be a string or a whole number, got \(formatNumber(d))")
                    }
                    id = String(n)
                case ("endpoints", .array(let a, let b)): endpoints = try strings(line, a, b)
                case ("status", .number(let d)):
                    guard let st = WireLimits.integer(d, in: 0...999) else {
                        throw DecodeError("field \"status\" must be an HTTP status code, got \(formatNumber(d))")
                    }
                    reply.status = st
                case ("outcome", .string(let a, let b, let e)):
                    let o = try r.string(start: a, end: b, escaped: e)
                    guard let out = Outcome(name: o) else { throw DecodeError("outcome must be ok, error, timeout or throttle, got \"\(o)\"") }
                    reply.outcome = out
                    outcomeGiven = true
                case ("duration_ms", .number(let d)):
                    guard WireLimits.admits(figure: d) else {
                        throw DecodeError("field \"duration_ms\" must be 0 … 1e10, got \(formatNumber(d))")
                    }
                    reply.durationMs = d
                case ("bytes", .number(let d)):
                    guard let n = WireLimits.count(d) else {
                        throw DecodeError("field \"bytes\" must be a count of bytes (0 … 1e9), got \(formatNumber(d))")
                    }
                    reply.bytes = n
                case ("cold_start", .bool(let b)): reply.coldStart = b
                case ("error", .string(let a, let b, let e)): reply.error = try r.string(start: a, end: b, escaped: e)
                default: break
                }
            }
        } catch {
            return .failure(error)
        }
        switch type {
        case "invokable": return .success(.invokable(endpoints))
        case "snapshot_request": return .success(.snapshotRequest)
        case "invoke_result":
            guard let id else { return .failure(DecodeError("invoke_result without an id")) }
            if !outcomeGiven, let st = reply.status { reply.outcome = st >= 400 ? .error : .ok }
            return .success(.result(id: id, reply))
        default: return nil
        }
    }

    static func strings(_ line: UnsafeRawBufferPointer, _ a: Int, _ b: Int) throws(DecodeError) -> [String] {
        var out: [String] = []
        try JSONScanner.forEachElement(line, a, b) { (x: Int, y: Int) throws(DecodeError) in
            var s = JSONScanner(UnsafeRawBufferPointer(rebasing: line[x..<y]))
            guard case .string(let p, let q, let e) = try s.scanValue(depth: 1) else { throw DecodeError("endpoints must be strings") }
            out.append(try s.string(start: p, end: q, escaped: e))
        }
        return out
    }

    /// An `invoke` request, as an emitter reads it: (id, endpoint, payload).
    public static func decodeRequest(_ line: String) -> (id: String, endpoint: String, payload: String?)? {
        var copy = line
        return copy.withUTF8 { buf -> (String, String, String?)? in
            let bytes = UnsafeRawBufferPointer(buf)
            var s = JSONScanner(bytes)
            let r = JSONScanner(bytes)
            var type: String?, id: String?, endpoint: String?, payload: String?
            do {
                s.skipWhitespace()
                try s.forEachMember { (ks: Int, ke: Int, v: JSONToken) throws(DecodeError) in
                    guard case .string(let a, let b, let e) = v else { return }
                    let value = try r.string(start: a, end: b, escaped: e)
                    if r.equals(ks, ke, "type") { type = value }
                    if r.equals(ks, ke, "id") { id = value }
                    if r.equals(ks, ke, "endpoint") { endpoint = value }
                    if r.equals(ks, ke, "payload") { payload = value }
                }
            } catch {
                return nil
            }
            guard type == "invoke", let id, let endpoint else { return nil }
            return (id, endpoint, payload)
        }
    }

    public static func invoke(id: String, endpoint: String, payload: String?) -> String {
        var w = JSONObjectWriter()
        w.number("v", 1)
        w.string("type", "invoke")
        w.string("id", id)
        w.string("endpoint", endpoint)
        if let payload { w.string("payload", payload) }
        return w.finish()
    }

    public static func invokable(_ endpoints: [String]) -> String {
        "{\"v\":1,\"type\":\"invokable\",\"endpoints\":[" + endpoints.map { JSONObjectWriter.quote($0) }.joined(separator: ",") + "]}"
    }

    public static func result(id: String, _ r: ControlReply) -> String {
        var w = JSONObjectWriter()
        w.number("v", 1)
        w.string("type", "invoke_result")
        w.string("id", id)
        if let s = r.status { w.number("status", Double(s)) }
        w.string("outcome", r.outcome.description)
        w.fixed("duration_ms", r.durationMs, decimals: 3)
        w.number("bytes", Double(r.bytes))
        if let c = r.coldStart { w.bool("cold_start", c) }
        if let e = r.error { w.string("error", e) }
        return w.finish()
    }
}

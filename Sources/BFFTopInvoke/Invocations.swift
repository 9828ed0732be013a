import BFFTopWire
import FoundationEssentials

/// One finished test invocation, as the invocations pane and `bfftop invoke` show it.
public struct InvocationRecord: Sendable, Equatable {
    public var id: Int
    public var plan: Int
    public var time: Double
    public var endpoint: String
    public var target: String
    public var status: Int?
    public var outcome: Outcome
    public var latencyMs: Double
    public var bytes: Int
    /// Known for Lambda targets (from the REPORT in the log tail) and emitters that say so.
    public var coldStart: Bool?
    public var error: String?
    /// What the function itself reported (Lambda log tail), for the dashboard's figures.
    public var report: Invocation?
    /// Whether the dashboard should count it (the target's `record`); emitters report their own.
    public var feed = false

    public init(id: Int, plan: Int, time: Double, endpoint: String, target: String, status: Int? = nil, outcome: Outcome,
                latencyMs: Double, bytes: Int, coldStart: Bool? = nil, error: String? = nil, report: Invocation? = nil, feed: Bool = false) {
        self.id = id
        self.plan = plan
        self.time = time
        self.endpoint = endpoint
        self.target = target
        self.status = status
        self.outcome = outcome
        self.latencyMs = latencyMs
        self.bytes = bytes
        self.coldStart = coldStart
        self.error = error
        self.report = report
        self.feed = feed
    }

    public var succeeded: Bool { outcome == .ok }

    /// What the dashboard counts: the function's own REPORT when there is one, else the client's measurement.
    public var dashboardEvent: Invocation {
        if let report { return report }
        return Invocation(ts: time, endpoint: endpoint, kind: target.hasPrefix("λ") ? .function : .route, durationMs: latencyMs,
                          coldStart: coldStart ?? false, outcome: outcome, status: status, error: error, test: true)
    }
}

enum Base64 {
    static func decode(_ s: String) -> [UInt8]? {
        Data(base64Encoded: s.trimmedWhitespace).map { Array($0) }
    }
}

/// What an invocation returned, turned into a record: status → outcome, Lambda's function error
/// header and log tail (REPORT: duration, billed, memory, cold start) decoded.
public enum InvocationOutcome {
    public static func record(_ r: Result<HTTPResponse, InvokeFailure>, endpoint: String, target: InvokeTarget, id: Int, plan: Int,
                              started: Double) -> InvocationRecord {
        var rec = InvocationRecord(id: id, plan: plan, time: started, endpoint: endpoint, target: target.summary, status: nil,
                                   outcome: .error, latencyMs: 0, bytes: 0, coldStart: nil, error: nil, report: nil)
        switch r {
        case .failure(let f):
            rec.error = f.description
            rec.outcome = { if case .timeout = f { return .timeout }; return .error }()
            rec.latencyMs = (wallClock() - started) * 1000
        case .success(let resp):
            rec.status = resp.status
            rec.latencyMs = resp.latencyMs
            rec.bytes = resp.bytes
            rec.outcome = resp.status == 429 ? .throttle : (resp.status == 504 || resp.status == 408) ? .timeout : resp.status >= 400 ? .error : .ok
            if rec.outcome != .ok { rec.error = "HTTP \(resp.status)" + snippet(resp.body) }
            if case .lambda(let l) = target { lambda(resp, l, &rec, endpoint: endpoint) }
        }
        return rec
    }

    static func snippet(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(160), as: UTF8.self).split(whereSeparator: \.isNewline).joined(separator: " ")
        return text.isEmpty ? "" : ": " + text
    }

    /// `X-Amz-Function-Error: Unhandled` and the body's errorMessage make it an error; the REPORT
    /// line of `X-Amz-Log-Result` (base64) gives what the function ran and whether it was cold.
    static func lambda(_ resp: HTTPResponse, _ l: LambdaTarget, _ rec: inout InvocationRecord, endpoint: String) {
        if let fnError = resp.header("X-Amz-Function-Error") {
            rec.outcome = .error
            let body = String(decoding: resp.body.prefix(300), as: UTF8.self)
            rec.error = "function error (\(fnError)): \(body)"
            if body.contains("Task timed out") || body.contains("Sandbox.Timedout") { rec.outcome = .timeout }
        }
        guard let b64 = resp.header("X-Amz-Log-Result"), let bytes = Base64.decode(b64) else { return }
        let tail = String(decoding: bytes, as: UTF8.self)
        var decoder = FunctionLogDecoder(format: .text, defaultFunction: endpoint, clock: { wallClock() })
        for line in tail.split(separator: "\n") {
            var s = String(line)
            if case .invocations(let invs) = s.withUTF8({ decoder.decode(UnsafeRawBufferPointer($0)) }), var inv = invs.last {
                inv.endpoint = endpoint
                inv.test = true
                if rec.outcome != .ok, inv.outcome == .ok { inv.outcome = rec.outcome }
                if inv.outcome != .ok, inv.error == nil { inv.error = rec.error }
                rec.report = inv
                rec.coldStart = inv.coldStart
                if inv.outcome == .timeout { rec.outcome = .timeout }
            }
        }
    }
}

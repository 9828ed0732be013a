/// AWS Lambda Telemetry API events (and Lambda's JSON log format, which uses the same shapes):
/// one event per line, or a JSON array of them (the batches an extension receives).
///
/// `platform.report` becomes an invocation (duration, billed duration, memory, init/restore duration
/// ⇒ cold start, status timeout/error, X-Ray trace); `platform.initStart` names the function for the
/// reports after it. Other event types are recognised and not aggregated.
public struct TelemetryDecoder {
    public enum Line: Equatable, Sendable {
        case events([Invocation])
        case other
        /// Not Telemetry API JSON at all.
        case notTelemetry
    }

    /// Function name from the last `platform.initStart`, else the caller's.
    public private(set) var functionName: String?

    public init() {}

    public mutating func decode(_ line: UnsafeRawBufferPointer, defaultFunction: String) -> Line {
        var s = JSONScanner(line)
        s.skipWhitespace()
        guard s.pos < line.count else { return .notTelemetry }
        do {
            if line[s.pos] == UInt8(ascii: "[") {
                guard case .array(let a, let b) = try s.scanValue(depth: 0) else { return .notTelemetry }
                var out: [Invocation] = []
                var any = false
                try JSONScanner.forEachElement(line, a, b) { (x: Int, y: Int) throws(DecodeError) in
                    if let r = try event(UnsafeRawBufferPointer(rebasing: line[x..<y]), defaultFunction) {
                        any = true
                        if let inv = r { out.append(inv) }
                    }
                }
                return any ? (out.isEmpty ? .other : .events(out)) : .notTelemetry
            }
            guard let r = try event(line, defaultFunction) else { return .notTelemetry }
            return r.map { .events([$0]) } ?? .other
        } catch {
            return .notTelemetry
        }
    }

    /// nil: not a telemetry event; .some(nil): one we do not aggregate; .some(inv): a report.
    private mutating func event(_ bytes: UnsafeRawBufferPointer, _ defaultFunction: String) throws(DecodeError) -> Invocation?? {
        var s = JSONScanner(bytes)
        let r = JSONScanner(bytes)
        var type: String?
        var time: Double?
        var record: (Int, Int)?
        try s.forEachMember { (ks: Int, ke: Int, v: JSONToken) throws(DecodeError) in
            if r.equals(ks, ke, "type"), case .string(let a, let b, let esc) = v { type = try r.string(start: a, end: b, escaped: esc) }
            if r.equals(ks, ke, "time"), case .string(let a, let b, _) = v {
                time = LambdaTextDecoder.parseISO8601(Substring(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[a..<b]), as: UTF8.self)))
            }
            if r.equals(ks, ke, "record"), case .object(let a, let b) = v { record = (a, b) }
        }
        guard let type, type.hasPrefix("platform.") || type == "function" || type == "extension" else { return nil }
        guard let record else { return .some(nil) }
        let rec = UnsafeRawBufferPointer(rebasing: bytes[record.0..<record.1])
        switch type {
        case "platform.initStart":
            let f = try fields(rec)
            if let name = f.strings["functionName"] { functionName = name }
            return .some(nil)
        case "platform.report":
            guard let time else { return .some(nil) }
            let f = try fields(rec)
            guard let duration = f.metrics["durationMs"] else { return .some(nil) }
            let initMs = f.metrics["initDurationMs"] ?? f.metrics["restoreDurationMs"]
            let status = f.strings["status"] ?? "success"
            let outcome: Outcome = status == "timeout" ? .timeout : (status == "success" ? .ok : .error)
            var inv = Invocation(
                ts: time - duration / 1000, endpoint: functionName ?? defaultFunction, kind: .function, durationMs: duration,
                billedMs: f.metrics["billedDurationMs"], memoryMB: f.metrics["memorySizeMB"], maxMemoryMB: f.metrics["maxMemoryUsedMB"],
                coldStart: initMs != nil, initMs: initMs, outcome: outcome,
                error: outcome == .ok ? nil : (f.strings["errorType"] ?? "status: \(status)"), traceID: f.trace,
                id: f.strings["requestId"])
            if inv.outcome == .ok, let used = inv.maxMemoryMB, let size = inv.memoryMB, used >= size {
                inv.outcome = .error
                inv.error = "Runtime.OutOfMemory (max memory used = memory size)"
            }
            return .some(inv)
        default:
            return .some(nil)
        }
    }

    private struct RecordFields {
        var strings: [String: String] = [:]
        var metrics: [String: Double] = [:]
        var trace: String?
    }

    private func fields(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> RecordFields {
        var out = RecordFields()
        var s = JSONScanner(bytes)
        let r = JSONScanner(bytes)
        try s.forEachMember { (ks: Int, ke: Int, v: JSONToken) throws(DecodeError) in
            let key = try r.string(start: ks, end: ke, escaped: false)
            switch v {
            case .string(let a, let b, let esc): out.strings[key] = try r.string(start: a, end: b, escaped: esc)
            case .object(let a, let b) where key == "metrics" || key == "tracing":
                let inner = try fields(UnsafeRawBufferPointer(rebasing: bytes[a..<b]))
                if key == "metrics" { out.metrics = inner.metrics } else { out.trace = inner.strings["value"] }
            case .number(let d): out.metrics[key] = d
            default: break
            }
        }
        return out
    }
}

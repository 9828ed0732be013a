/// Reads what real functions already log, line by line, whatever tool exported or tailed it:
/// CloudWatch plain text (REPORT, INIT_REPORT, `Task timed out`, application lines), the prefixes of
/// `aws logs tail`, `sam logs`, `awslogs get` and `serverless logs`, Telemetry API JSON, and the JSON of
/// `aws logs get-log-events` / `filter-log-events` (pretty-printed or compact) and subscription payloads.
///
/// Stateful because real logs spread one invocation over several lines: a timeout or an out-of-memory
/// message in the application log, or a failed INIT_REPORT, marks the REPORT that follows it (by request
/// id, else by log stream); `serverless logs` prints a REPORT's figures on the line after it; a line
/// without a time of its own takes the last time seen.
public struct FunctionLogDecoder {
    public enum Format: String, CaseIterable, Sendable {
        case auto
        /// CloudWatch plain text, with or without tool prefixes.
        case text
        /// Telemetry API events or Lambda's JSON log format.
        case telemetry
        /// `aws logs get-log-events` / `filter-log-events` output and subscription payloads.
        case cloudwatchJSON = "cloudwatch-json"
        /// CloudWatch Embedded Metric Format (aws-embedded-metrics, Powertools).
        case emf
    }

    public enum Line: Equatable, Sendable {
        case invocations([Invocation])
        /// Events that are not invocations, or a mix (EMF: latency samples, outcome counts, cold starts).
        case events([WireEvent])
        /// Recognised, nothing to aggregate: START/END, application logs, JSON structure.
        case other
        /// JSON none of the formats understands.
        case unrecognised
    }

    public let format: Format
    public var defaultFunction: String
    /// Time for a REPORT when no line so far carried one (live input); nil drops such REPORTs.
    public var clock: (() -> Double)?
    private var telemetry = TelemetryDecoder()
    private var lastTime: Double?
    private var functionFromGroup: String?
    /// `serverless logs` REPORT line whose figures come on the next line.
    private var splitReport: [Substring: Substring]?
    private var marks = Marks()
    // Pretty-printed CloudWatch JSON: properties seen so far in the current event object.
    private var jsonTime: Double?
    private var jsonStream: String?

    public init(format: Format = .auto, defaultFunction: String, clock: (() -> Double)? = nil) {
        self.format = format
        self.defaultFunction = defaultFunction
        self.clock = clock
    }

    public var function: String { telemetry.functionName ?? functionFromGroup ?? defaultFunction }

    /// A line that came with a time of its own (an OTLP log record's): a line without a time in
    /// its text takes it, rather than the last time an earlier line carried.
    public mutating func decode(_ line: UnsafeRawBufferPointer, at time: Double) -> Line {
        lastTime = time
        return decode(line)
    }

    /// The line's invocations and events. A line with any outside `WireLimits` (a garbled figure, a
    /// time in the wrong unit) is unrecognised whole, so the reader counts it instead of losing
    /// part of it unseen.
    public mutating func decode(_ line: UnsafeRawBufferPointer) -> Line {
        switch decodeUnchecked(line) {
        case .invocations(let invs):
            return invs.isEmpty || !invs.allSatisfy(WireLimits.admits) ? .unrecognised : .invocations(invs)
        case .events(let evs):
            return evs.allSatisfy(WireLimits.admits) ? .events(evs) : .unrecognised
        case let other:
            return other
        }
    }

    private mutating func decodeUnchecked(_ line: UnsafeRawBufferPointer) -> Line {
        guard let first = line.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return .other }
        let isJSON = line[first] == UInt8(ascii: "{") || line[first] == UInt8(ascii: "[")
            || line[first] == UInt8(ascii: "}") || line[first] == UInt8(ascii: "]") || line[first] == UInt8(ascii: "\"")
        if !isJSON {
            guard format == .auto || format == .text else { return .unrecognised }
            return text(Substring(String(decoding: line, as: UTF8.self)), time: nil, stream: nil)
        }
        if format == .auto || format == .emf, let emf = EMFDecoder.decode(line) {
            guard case .success(let events) = emf else { return .unrecognised }
            return events.isEmpty ? .other : .events(events)
        }
        if format == .auto || format == .telemetry {
            var t = telemetry
            let r = t.decode(line, defaultFunction: functionFromGroup ?? defaultFunction)
            if r != .notTelemetry {
                telemetry = t
                if case .events(let invs) = r {
                    lastTime = invs.map(\.endTs).max() ?? lastTime
                    return .invocations(invs.map { marks.apply(to: $0, stream: nil) })
                }
                return .other
            }
        }
        guard format == .auto || format == .cloudwatchJSON else { return .unrecognised }
        return cloudWatchJSON(line, first: first)
    }

    // MARK: plain text

    private mutating func text(_ raw: Substring, time: Double?, stream: String?, request: String? = nil) -> Line {
        let prefix = LambdaTextDecoder.stripPrefix(raw)
        if let f = prefix.function { functionFromGroup = String(f) }
        let stream = stream ?? prefix.stream.map(String.init)
        let time = time ?? prefix.time
        if let time { lastTime = time }
        let message = prefix.message
        if message.hasPrefix("REPORT ") {
            let fields = LambdaTextDecoder.keyValues(message.dropFirst(7))
            guard fields["Duration"] != nil else {
                splitReport = fields
                return .other
            }
            return report(fields, time: time, stream: stream)
        }
        if var fields = splitReport, message.hasPrefix("Duration:") {
            splitReport = nil
            LambdaTextDecoder.keyValues(message, into: &fields)
            return report(fields, time: time, stream: stream)
        }
        splitReport = nil
        if message.hasPrefix("INIT_REPORT ") {
            let f = Self.initReport(message.dropFirst(12))
            if let status = f.status, status != "success" {
                marks.initFailed(InitFailure(phase: f.phase ?? "init", status: status, errorType: f.errorType, initMs: f.initMs),
                                 stream: stream)
            }
            return .other
        }
        if let r = message.firstRange(of: "Task timed out after ") {
            let seconds = message[r.upperBound...].prefix { $0.isNumber || $0 == "." }
            marks.timedOut("Task timed out after \(seconds) seconds", request: request ?? Self.requestID(in: message), stream: stream)
        } else if let oom = LambdaTextDecoder.outOfMemoryMarkers.first(where: { message.contains($0) }) {
            marks.outOfMemory(oom, request: request ?? Self.requestID(in: message), stream: stream)
        } else if lastTime == nil || prefix.time == nil, let t = Self.applicationLineTime(message) {
            lastTime = t  // `ISO\treqId\tLEVEL\tmessage` from a runtime's console
        }
        return .other
    }

    private mutating func report(_ fields: [Substring: Substring], time: Double?, stream: String?) -> Line {
        // A REPORT whose figures cannot be read is counted, not passed over.
        guard var inv = LambdaTextDecoder.report(fields, function: function) else { return .unrecognised }
        guard let end = time ?? lastTime ?? clock?() else { return .other }
        inv.ts = end - inv.durationMs / 1000
        return .invocations([marks.apply(to: inv, stream: stream)])
    }

    /// `Init Duration: 229.04 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError`;
    /// real logs separate these by tabs or by spaces, so values end where the next known key starts.
    static func initReport(_ s: Substring) -> (initMs: Double?, phase: String?, status: String?, errorType: String?) {
        let keys = ["Init Duration:", "Phase:", "Status:", "Error Type:"]
        var found: [(key: String, range: Range<Substring.Index>)] = []
        for k in keys { if let r = s.firstRange(of: k) { found.append((k, r)) } }
        found.sort { $0.range.lowerBound < $1.range.lowerBound }
        var values: [String: String] = [:]
        for (i, f) in found.enumerated() {
            let end = i + 1 < found.count ? found[i + 1].range.lowerBound : s.endIndex
            values[f.key] = String(s[f.range.upperBound..<end].trimmingCharacters)
        }
        return (values["Init Duration:"].flatMap { LambdaTextDecoder.number(Substring($0)) }, values["Phase:"], values["Status:"], values["Error Type:"])
    }

    /// The first UUID-shaped token: Lambda request ids.
    static func requestID(in s: Substring) -> String? {
        for token in s.split(whereSeparator: { $0 == " " || $0 == "\t" }) where token.utf8.count == 36 {
            if token.filter({ $0 == "-" }).count == 4, token.allSatisfy({ $0.isHexDigit || $0 == "-" }) { return String(token) }
        }
        return nil
    }

    static func applicationLineTime(_ s: Substring) -> Double? {
        guard let tab = s.firstIndex(of: "\t") else { return nil }
        return LambdaTextDecoder.parseISO8601(s[..<tab])
    }

    // MARK: CloudWatch JSON

    private mutating func cloudWatchJSON(_ line: UnsafeRawBufferPointer, first: Int) -> Line {
        var s = JSONScanner(line)
        s.pos = first
        if line[first] == UInt8(ascii: "{"), let whole = try? s.scanValue(depth: 0), case .object = whole {
            return cloudWatchObject(line, from: first)
        }
        // Pretty-printed output: one `"key": value,` per line, or structure (`{`, `},`, `"events": [`).
        s.pos = first
        guard line[first] == UInt8(ascii: "\""), case .string(let ka, let kb, let kesc)? = try? s.scanValue(depth: 0) else {
            return Self.isStructure(line, from: first) ? .other : .unrecognised
        }
        s.skipWhitespace()
        guard s.pos < line.count, line[s.pos] == UInt8(ascii: ":") else { return .unrecognised }
        s.pos += 1
        s.skipWhitespace()
        guard s.pos < line.count, line[s.pos] != UInt8(ascii: "["), line[s.pos] != UInt8(ascii: "{") else { return .other }
        guard let key = try? s.string(start: ka, end: kb, escaped: kesc), let value = try? s.scanValue(depth: 1) else { return .unrecognised }
        return property(key, value, s)
    }

    private mutating func property(_ key: String, _ value: JSONToken, _ s: JSONScanner) -> Line {
        switch (key, value) {
        case ("timestamp", .number(let ms)):
            jsonTime = ms / 1000
        case ("logStreamName", .string(let a, let b, let e)), ("logStream", .string(let a, let b, let e)):
            jsonStream = try? s.string(start: a, end: b, escaped: e)
        case ("logGroup", .string(let a, let b, let e)), ("logGroupName", .string(let a, let b, let e)):
            if let g = try? s.string(start: a, end: b, escaped: e), g.hasPrefix("/aws/lambda/") {
                functionFromGroup = String(g.dropFirst(12))
            }
        case ("message", .string(let a, let b, let e)):
            guard let m = try? s.string(start: a, end: b, escaped: e) else { return .unrecognised }
            let time = jsonTime
            jsonTime = nil
            return message(m, time: time, request: nil)
        default:
            break
        }
        return .other
    }

    /// A CloudWatch event's message: Lambda text, or Telemetry-shaped JSON when the log format is JSON.
    private mutating func message(_ m: String, time: Double?, request: String?) -> Line {
        if m.first == "{" {
            var copy = m
            if let emf = copy.withUTF8({ EMFDecoder.decode(UnsafeRawBufferPointer($0)) }) {
                guard case .success(let events) = emf else { return .unrecognised }
                return events.isEmpty ? .other : .events(events)
            }
            let r = copy.withUTF8 { telemetry.decode(UnsafeRawBufferPointer($0), defaultFunction: functionFromGroup ?? defaultFunction) }
            if case .events(let invs) = r { return .invocations(invs.map { marks.apply(to: $0, stream: jsonStream) }) }
            if r == .other { return .other }
        }
        return text(Substring(m.trimmingTrailingNewlines), time: time, stream: jsonStream, request: request)
    }

    /// A whole object on one line: `{"events":[…]}`, a subscription payload `{"logGroup":…,"logEvents":[…]}`,
    /// one event `{"timestamp":…,"message":…}`, or an application's JSON log line.
    private mutating func cloudWatchObject(_ line: UnsafeRawBufferPointer, from first: Int) -> Line {
        var s = JSONScanner(UnsafeRawBufferPointer(rebasing: line[first...]))
        let r = s
        var events: (Int, Int)?
        var message: (String, Double?)?
        var request: String?
        var recognised = false
        var invocations: [Invocation] = []
        do {
            try s.forEachMember { (ks: Int, ke: Int, v: JSONToken) throws(DecodeError) in
                let key = try r.string(start: ks, end: ke, escaped: false)
                if key == "events" || key == "logEvents", case .array(let a, let b) = v { events = (a, b) }
                if key == "message", case .string(let a, let b, let e) = v { message = (try r.string(start: a, end: b, escaped: e), message?.1) }
                if key == "timestamp", case .number(let ms) = v { message = (message?.0 ?? "", ms / 1000) }
                if key == "requestId", case .string(let a, let b, let e) = v { request = try r.string(start: a, end: b, escaped: e) }
                if ["logGroup", "logGroupName", "logStreamName", "logStream"].contains(key) {
                    recognised = true
                    _ = property(key, v, r)
                }
            }
        } catch {
            return .unrecognised
        }
        if let (a, b) = events {
            var inner = JSONScanner(UnsafeRawBufferPointer(rebasing: r.bytes[a..<b]))
            inner.pos = 1
            while true {
                inner.skipWhitespace()
                guard inner.pos < b - a, inner.bytes[inner.pos] == UInt8(ascii: "{") else { break }
                let start = inner.pos
                guard (try? inner.scanValue(depth: 1)) != nil else { return .unrecognised }
                let element = UnsafeRawBufferPointer(rebasing: inner.bytes[start..<inner.pos])
                if case .invocations(let invs) = cloudWatchObject(element, from: 0) { invocations += invs }
                inner.skipWhitespace()
                if inner.pos < b - a, inner.bytes[inner.pos] == UInt8(ascii: ",") { inner.pos += 1 }
            }
            return invocations.isEmpty ? .other : .invocations(invocations)
        }
        if let (m, time) = message, !m.isEmpty { return self.message(m, time: time, request: request) }
        // An application's own JSON log line (Lambda JSON log format, Powertools): look for OOM/timeouts.
        let body = String(decoding: line, as: UTF8.self)
        if let oom = LambdaTextDecoder.outOfMemoryMarkers.first(where: { body.contains($0) }) {
            marks.outOfMemory(oom, request: Self.requestID(in: Substring(body.replacingQuotes)), stream: nil)
            return .other
        }
        return recognised || body.contains("\"level\"") || body.contains("\"requestId\"") ? .other : .unrecognised
    }

    static func isStructure(_ line: UnsafeRawBufferPointer, from first: Int) -> Bool {
        line[first...].allSatisfy { [UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"),
                                     UInt8(ascii: ","), 0x20, 0x09, 0x0D].contains($0) }
    }
}

/// Marks left by earlier lines for the REPORT that closes an invocation: by request id where the line
/// had one, else for the next REPORT of the same log stream. Bounded: real logs always close with a REPORT.
struct Marks {
    private struct Mark {
        var outcome: Outcome?
        var error: String?
        var initFailure: InitFailure?
    }

    private var byRequest: [String: Mark] = [:]
    private var byStream: [String: Mark] = [:]

    mutating func timedOut(_ message: String, request: String?, stream: String?) {
        update(request: request, stream: stream) {
            $0.outcome = .timeout
            $0.error = message
        }
    }

    mutating func outOfMemory(_ marker: String, request: String?, stream: String?) {
        update(request: request, stream: stream) {
            if $0.outcome != .timeout { $0.outcome = .error }
            $0.error = "out of memory: \(marker)"
        }
    }

    mutating func initFailed(_ f: InitFailure, stream: String?) {
        update(request: nil, stream: stream) { $0.initFailure = f }
    }

    private mutating func update(request: String?, stream: String?, _ body: (inout Mark) -> Void) {
        if byRequest.count + byStream.count > 10_000 {
            byRequest.removeAll()
            byStream.removeAll()
        }
        if let request {
            body(&byRequest[request, default: Mark()])
        } else {
            body(&byStream[stream ?? "", default: Mark()])
        }
    }

    mutating func apply(to invocation: Invocation, stream: String?) -> Invocation {
        var inv = invocation
        var marks: [Mark] = []
        if let id = inv.id, let m = byRequest.removeValue(forKey: id) { marks.append(m) }
        if let m = byStream.removeValue(forKey: stream ?? "") { marks.append(m) }
        for m in marks {
            if let f = m.initFailure {
                inv.coldStart = true
                inv.initMs = inv.initMs ?? f.initMs
                let what = "init \(f.status)" + (f.errorType.map { ": \($0)" } ?? "") + " (phase \(f.phase))"
                if f.phase == "invoke", inv.outcome == .ok { inv.outcome = f.status == "timeout" ? .timeout : .error }
                if inv.outcome != .ok { inv.error = inv.error.map { "\(what); \($0)" } ?? what }
            }
            if let o = m.outcome, inv.outcome == .ok || (o == .timeout && inv.outcome == .error) {
                inv.outcome = o
                inv.error = m.error
            } else if let e = m.error, inv.outcome != .ok, inv.error?.hasPrefix("Status:") ?? true {
                inv.error = e
            }
        }
        return inv
    }
}

struct InitFailure {
    var phase: String
    var status: String
    var errorType: String?
    var initMs: Double?
}

extension Substring {
    var trimmingCharacters: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}

extension String {
    var trimmingTrailingNewlines: Substring {
        var s = Substring(self)
        while let l = s.last, l == "\n" || l == "\r" { s = s.dropLast() }
        return s
    }

    var replacingQuotes: String { String(map { $0 == "\"" ? " " : $0 }) }
}

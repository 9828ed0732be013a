/// DogStatsD messages (docs.datadoghq.com/extend/dogstatsd/datagram_shell), parsed as the Datadog agent
/// does: `name:value[:value…]|type[|@rate][|#tag,tag][|c:…][|T<ts>]…` with unknown fields ignored,
/// `_e{len,len}:title|text|…` events and `_sc|name|status|…` service checks.
public enum DogStatsDMessage: Equatable, Sendable {
    case metric(DogStatsDMetric)
    case event(title: String)
    case serviceCheck(name: String, status: Int)
}

public struct DogStatsDMetric: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case count = "c", gauge = "g", timer = "ms", histogram = "h", distribution = "d", set = "s"
    }

    public var name: String
    public var values: [Double]
    public var kind: Kind
    public var sampleRate: Double
    /// `key:value` tags split at the first colon; a tag without one has an empty value.
    public var tags: [(key: String, value: String)]
    public var timestamp: Double?

    public static func == (a: DogStatsDMetric, b: DogStatsDMetric) -> Bool {
        a.name == b.name && a.values == b.values && a.kind == b.kind && a.sampleRate == b.sampleRate
            && a.tags.map(\.key) == b.tags.map(\.key) && a.tags.map(\.value) == b.tags.map(\.value) && a.timestamp == b.timestamp
    }

    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }

    public init(name: String, values: [Double], kind: Kind, sampleRate: Double = 1, tags: [(key: String, value: String)] = [], timestamp: Double? = nil) {
        self.name = name
        self.values = values
        self.kind = kind
        self.sampleRate = sampleRate
        self.tags = tags
        self.timestamp = timestamp
    }
}

public enum DogStatsDParser {
    /// Every message of a packet (split on `\n`, trailing `\r` dropped, empty lines skipped).
    public static func parsePacket(_ bytes: UnsafeRawBufferPointer, _ body: (Result<DogStatsDMessage, DecodeError>) -> Void) {
        forEachMessage(bytes) { body(parse($0)) }
    }

    /// The messages of a packet as bytes: split on `\n`, a trailing `\r` dropped, empty lines skipped.
    @inline(__always) public static func forEachMessage(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        while start < bytes.count {
            var end = memchr(base + start, 0x0A, bytes.count - start).map { UnsafeRawPointer($0) - base } ?? bytes.count
            let next = end + 1
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            if end > start { body(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) }
            start = next
        }
    }

    /// One message's bytes (invalid UTF-8 replaced, as the agent reads it).
    public static func parse(_ message: UnsafeRawBufferPointer) -> Result<DogStatsDMessage, DecodeError> {
        parse(Substring(String(decoding: message, as: UTF8.self)))
    }

    public static func parse(_ line: Substring) -> Result<DogStatsDMessage, DecodeError> {
        if line.hasPrefix("_e{") { return event(line) }
        if line.hasPrefix("_sc|") { return serviceCheck(line) }
        let fields = line.split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count >= 2 else { return .failure(DecodeError("no | in a DogStatsD metric")) }
        guard let colon = fields[0].firstIndex(of: ":") else { return .failure(DecodeError("no : between name and value")) }
        let name = fields[0][..<colon]
        guard !name.isEmpty else { return .failure(DecodeError("empty metric name")) }
        guard let kind = DogStatsDMetric.Kind(rawValue: String(fields[1])) else {
            return .failure(DecodeError("unknown metric type \"\(fields[1])\" (c, g, ms, h, d, s)"))
        }
        var values: [Double] = []
        for v in fields[0][fields[0].index(after: colon)...].split(separator: ":") where !v.isEmpty {
            if kind == .set {
                values.append(1)
                break
            }
            guard let d = Double(v), d.isFinite else { return .failure(DecodeError("not a number: \"\(v)\"")) }
            values.append(d)
        }
        guard !values.isEmpty else { return .failure(DecodeError("no value")) }
        var m = DogStatsDMetric(name: String(name), values: values, kind: kind, sampleRate: 1, tags: [], timestamp: nil)
        for f in fields.dropFirst(2) {
            if f.hasPrefix("@") {
                guard let r = Double(f.dropFirst()), r > 0, r <= 1 else { return .failure(DecodeError("bad sample rate \"\(f)\"")) }
                m.sampleRate = r
            } else if f.hasPrefix("#") {
                m.tags = f.dropFirst().split(separator: ",").map { t in
                    guard let c = t.firstIndex(of: ":") else { return (String(t), "") }
                    return (String(t[..<c]), String(t[t.index(after: c)...]))
                }
            } else if f.hasPrefix("T"), let ts = Double(f.dropFirst()) {
                m.timestamp = ts
            }
            // c: (container), e: (external), card: and anything newer: ignored, as the agent does.
        }
        return .success(.metric(m))
    }

    static func event(_ line: Substring) -> Result<DogStatsDMessage, DecodeError> {
        guard let close = line.firstIndex(of: "}"), let colon = line[close...].firstIndex(of: ":") else {
            return .failure(DecodeError("malformed event header"))
        }
        let lens = line[line.index(line.startIndex, offsetBy: 3)..<close].split(separator: ",")
        guard lens.count == 2, let tl = Int(lens[0]), tl > 0, Int(lens[1]) != nil else { return .failure(DecodeError("malformed event lengths")) }
        let body = Array(line[line.index(after: colon)...].utf8)
        guard body.count >= tl else { return .failure(DecodeError("event title shorter than its length")) }
        return .success(.event(title: String(decoding: body[0..<tl], as: UTF8.self)))
    }

    static func serviceCheck(_ line: Substring) -> Result<DogStatsDMessage, DecodeError> {
        let f = line.split(separator: "|", omittingEmptySubsequences: false)
        guard f.count >= 3, !f[1].isEmpty, let status = Int(f[2]), (0...3).contains(status) else {
            return .failure(DecodeError("malformed service check (_sc|name|0-3|…)"))
        }
        return .success(.serviceCheck(name: String(f[1]), status: status))
    }
}

/// How DogStatsD metrics become bfftop events (changeable in the config's `[dogstatsd]`):
/// timers, histograms and distributions are latency samples of the endpoint named by the first
/// endpoint tag present; `status` tags give the outcome, `cold_start:true` a cold start; counters
/// named like errors/timeouts/throttles count failed invocations; gauges named like concurrency or
/// active requests are concurrency. Anything else is a raw metric.
public struct DogStatsDMapper: Sendable, Equatable {
    public var endpointTags = ["endpoint", "route", "http.route", "resource", "resource_name", "functionname", "function", "function_name"]
    /// Tags naming a function (the endpoint's kind is `function`).
    public var functionTags = ["functionname", "function", "function_name"]
    public var statusTags = ["status", "http.status_code", "status_code", "http_status"]
    public var coldStartTags = ["cold_start", "coldstart"]
    /// Prefix a metric name must have to be mapped at all (empty: all).
    public var prefix = ""

    public init() {}

    public enum Mapped: Equatable, Sendable {
        case events([WireEvent])
        case raw
        /// datadogpy's own telemetry: packets it dropped before sending.
        case clientDropped(Int)
        /// A metric whose values cannot be figures bfftop aggregates (a count of 1e19, a duration of
        /// 1e300): refused whole, with the reason, and counted as malformed.
        case refused(DecodeError)
    }

    public func map(_ m: DogStatsDMetric, at now: Double) -> Mapped {
        if m.name.hasPrefix("datadog.dogstatsd.client.packets_dropped") {
            guard m.kind == .count else { return .raw }
            guard let n = WireLimits.count(m.values.reduce(0, +)) else { return .refused(Self.outOfRange(m)) }
            return .clientDropped(n)
        }
        guard prefix.isEmpty || m.name.hasPrefix(prefix) else { return .raw }
        guard let (tagKey, rawEndpoint) = endpointTags.lazy.compactMap({ k in m.tag(k).map { (k, $0) } }).first(where: { !$0.1.isEmpty }) else {
            return .raw
        }
        let endpoint = Self.unsanitized(rawEndpoint)
        let kind: EndpointKind = functionTags.contains(tagKey) ? .function : .route
        // An HTTP status, or none: a tag of "9102" or "-1" says nothing about the outcome.
        let status = statusTags.lazy.compactMap { m.tag($0).flatMap { Int($0) }.flatMap { (100...999).contains($0) ? $0 : nil } }.first
        let cold = coldStartTags.contains { m.tag($0) == "true" }
        let t = m.timestamp ?? now
        let lower = m.name.lowercased()
        // 1 / rate is at most 100 before converting: a rate of 5e-324 makes it infinite.
        let copies = max(1, Int(min(100, (1 / m.sampleRate).rounded())))
        switch m.kind {
        case .timer, .histogram, .distribution:
            let scale = m.kind == .timer ? 1.0 : Self.millisecondsPerUnit(lower)
            var out: [WireEvent] = []
            for v in m.values {
                let ms = v * scale
                let outcome: Outcome = status.map { $0 == 429 ? .throttle : ($0 == 504 || $0 == 408) ? .timeout : $0 >= 500 ? .error : .ok } ?? .ok
                let inv = Invocation(ts: t - ms / 1000, service: m.tag("service"), endpoint: endpoint, kind: kind, durationMs: ms,
                                     coldStart: cold, outcome: outcome, status: status, error: outcome == .ok ? nil : status.map { "HTTP \($0)" })
                guard WireLimits.admits(inv) else { return .refused(Self.outOfRange(m)) }  // a garbled value or timestamp
                for _ in 0..<copies { out.append(.invocation(inv)) }
            }
            return .events(out)
        case .count:
            let outcome: Outcome? = lower.contains("throttl") ? .throttle : lower.contains("timeout") ? .timeout : lower.contains("error") ? .error : nil
            guard let outcome else { return .raw }
            guard let n = WireLimits.count(m.values.reduce(0, +) * Double(copies)), t >= 0, t < WireLimits.maxTimestamp else {
                return .refused(Self.outOfRange(m))
            }
            guard n > 0 else { return .events([]) }
            return .events([.outcomes(OutcomeCount(ts: t, endpoint: endpoint, kind: kind, outcome: outcome, count: n))])
        case .gauge:
            guard ["concurrency", "active_requests", "in_flight", "inflight", "concurrent"].contains(where: { lower.contains($0) }),
                  let v = m.values.last else { return .raw }
            guard v >= 0, v <= Double(WireLimits.maxCount), t >= 0, t < WireLimits.maxTimestamp else { return .refused(Self.outOfRange(m)) }
            return .events([.concurrency(ConcurrencyGauge(ts: t, endpoint: endpoint, value: v, service: m.tag("service"), kind: kind))])
        case .set:
            return .raw
        }
    }

    static func outOfRange(_ m: DogStatsDMetric) -> DecodeError {
        let values = m.values.prefix(3).map { formatNumber($0) }.joined(separator: ":")
        if let t = m.timestamp, !(t >= 0 && t < WireLimits.maxTimestamp) {
            return DecodeError("timestamp T\(formatNumber(t)) of \(m.name) is not Unix seconds")
        }
        return DecodeError("value \(values) of \(m.name) is out of range (counts 0 … 1e9, durations 0 … 1e10 ms)")
    }

    /// Datadog clients turn spaces in tag values into `_`: `GET_/api/slots` is the route `GET /api/slots`
    /// (so it lines up with the same route reported natively).
    static func unsanitized(_ v: String) -> String {
        for m in methods {
            let method = m.description
            if v.hasPrefix(method + "_/") { return method + " " + v.dropFirst(method.count + 1) }
        }
        return v
    }

    static let methods: [StaticString] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    /// Histograms and distributions carry no unit: names say seconds (`…_seconds`, `….duration.s`) or
    /// nanoseconds (`…_ns`); otherwise milliseconds.
    static func millisecondsPerUnit(_ name: String) -> Double {
        if name.hasSuffix("seconds") || name.hasSuffix("_s") || name.hasSuffix(".s") { return 1000 }
        if name.hasSuffix("_ns") || name.hasSuffix(".ns") || name.hasSuffix("nanoseconds") { return 1e-6 }
        if name.hasSuffix("_us") || name.hasSuffix("microseconds") { return 1e-3 }
        return 1
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import FoundationEssentials

/// OTLP trace export bodies in JSON (`POST /v1/traces`, `application/json`, as the Node SDK's
/// `@opentelemetry/exporter-trace-otlp-http` sends them): protobuf's JSON mapping with OTLP's rules
/// (hex ids, integer enums, 64-bit integers as decimal strings, unknown fields ignored).
///
/// Spans become invocations by the OpenTelemetry semantic conventions:
/// - a SERVER span with `http.route`: the route `METHOD /route`, its status and duration;
/// - a span with `graphql.operation.name`: its own endpoint (`query GetSlots`), under the route
///   whose SERVER span it descends from in the same export, as Apollo Studio splits `POST /graphql`;
/// - a SERVER span of a function (`faas.name` on the span or its resource): a function invocation
///   with its cold start, memory (`faas.max_memory`, bytes) and request id, called by the route it
///   descends from in the same export.
/// Other spans (clients, internals) are not endpoints. A span that claims to be one of these but
/// cannot be read (no times, absurd figures) is rejected with the reason.
public enum OTLPTraces {
    public struct Decoded: Sendable {
        public var invocations: [Invocation] = []
        /// Spans that should have been invocations but could not be read, with the first reason.
        public var rejected = 0
        public var firstRejection: String?
        /// Every span in the export, endpoints or not.
        public var spans = 0
    }

    /// Decodes one export request body. Throws for a body that is not an OTLP JSON export.
    public static func decode(json body: [UInt8]) throws(DecodeError) -> Decoded {
        let request: ExportRequest
        do {
            request = try JSONDecoder().decode(ExportRequest.self, from: Data(body))
        } catch {
            throw DecodeError("not an OTLP JSON trace export: \(Self.reason(error))")
        }
        var out = Decoded()
        for rs in request.resourceSpans ?? [] {
            let resource = Attributes(rs.resource?.attributes ?? [])
            let spans = (rs.scopeSpans ?? []).flatMap { $0.spans ?? [] }
            out.spans += spans.count
            // Which route each span's server ancestor is, within this export (parents first or not).
            var byID: [String: Span] = [:]
            for s in spans { if let id = s.spanId { byID[id] = s } }
            func routeAncestor(of s: Span) -> String? {
                var seen = 0
                var cur = s.parentSpanId.flatMap { byID[$0] }
                while let c = cur, seen < 64 {
                    if c.isServer, let r = Attributes(c.attributes ?? []).route { return r }
                    cur = c.parentSpanId.flatMap { byID[$0] }
                    seen += 1
                }
                return nil
            }
            for s in spans {
                let a = Attributes(s.attributes ?? [])
                let faasName = a.string("faas.name") ?? (s.isServer ? resource.string("faas.name") : nil)
                let kind: EndpointKind
                let endpoint: String
                if let op = a.string("graphql.operation.name"), !op.isEmpty {
                    kind = .route
                    endpoint = "\(a.string("graphql.operation.type") ?? "operation") \(op)"
                } else if s.isServer, let f = faasName, !f.isEmpty {
                    kind = .function
                    endpoint = f
                } else if s.isServer, let r = a.route {
                    kind = .route
                    endpoint = r
                } else {
                    continue
                }
                // Durations from the integer nanoseconds (as doubles of Unix seconds they would lose
                // a tenth of a microsecond).
                guard let startNs = s.startTimeUnixNano?.raw, let endNs = s.endTimeUnixNano?.raw, startNs > 0, endNs >= startNs else {
                    out.reject("span \(s.name ?? "?") of \(endpoint): no valid startTimeUnixNano/endTimeUnixNano")
                    continue
                }
                let start = Double(startNs) / 1e9
                let durationMs = Double(endNs - startNs) / 1e6
                let status = (a.int("http.response.status_code") ?? a.int("http.status_code")).flatMap { (100...999).contains($0) ? $0 : nil }
                var outcome: Outcome = .ok
                if let st = status { outcome = st == 429 ? .throttle : (st == 504 || st == 408) ? .timeout : st >= 500 ? .error : .ok }
                if s.status?.code?.value == 2, outcome == .ok { outcome = .error }
                let memory = (a.int("faas.max_memory") ?? resource.int("faas.max_memory")).map { Double($0) / 1_048_576 }
                let inv = Invocation(
                    ts: start, service: resource.string("service.name"), endpoint: endpoint, kind: kind, durationMs: durationMs,
                    memoryMB: kind == .function ? memory : nil, coldStart: a.bool("faas.coldstart") ?? false, outcome: outcome, status: status,
                    error: outcome == .ok ? nil : (s.status?.message.flatMap { $0.isEmpty ? nil : $0 } ?? status.map { "HTTP \($0)" } ?? "span status ERROR"),
                    traceID: s.traceId, parent: kind == .route && a.route != nil ? nil : routeAncestor(of: s),
                    id: a.string("faas.invocation_id"))
                guard WireLimits.admits(inv) else {
                    out.reject("span \(s.name ?? "?") of \(endpoint): times or figures out of range")
                    continue
                }
                out.invocations.append(inv)
            }
        }
        return out
    }

    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.keyNotFound(_, let c):
            return c.codingPath.map(\.stringValue).joined(separator: ".") + ": " + c.debugDescription
        default: return "\(error)"
        }
    }

    // MARK: OTLP JSON

    struct ExportRequest: Decodable { var resourceSpans: [ResourceSpans]? }
    struct ResourceSpans: Decodable {
        var resource: Resource?
        var scopeSpans: [ScopeSpans]?
    }
    struct Resource: Decodable { var attributes: [KeyValue]? }
    struct ScopeSpans: Decodable { var spans: [Span]? }
    struct Span: Decodable {
        var traceId: String?
        var spanId: String?
        var parentSpanId: String?
        var name: String?
        var kind: EnumValue?
        var startTimeUnixNano: Int64Value?
        var endTimeUnixNano: Int64Value?
        var attributes: [KeyValue]?
        var status: Status?
        /// SPAN_KIND_SERVER (2).
        var isServer: Bool { kind?.value == 2 }
    }
    struct Status: Decodable {
        var code: EnumValue?
        var message: String?
    }
    struct KeyValue: Decodable {
        var key: String
        var value: AnyValue?
    }
    struct AnyValue: Decodable {
        var stringValue: String?
        var boolValue: Bool?
        var intValue: Int64Value?
        var doubleValue: Double?
    }

    /// An enum as OTLP JSON writes it (an integer), or by name as some exporters do.
    struct EnumValue: Decodable {
        var value: Int
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let n = try? c.decode(Int.self) {
                value = n
            } else {
                let s = try c.decode(String.self)
                value = ["SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3, "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5,
                         "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2][s] ?? 0
            }
        }
    }

    /// A 64-bit integer: a decimal string by OTLP's rule, a number from lenient exporters.
    struct Int64Value: Decodable {
        var raw: Int64?
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                raw = Int64(s)
            } else if let n = try? c.decode(Int64.self) {
                raw = n
            } else {
                let d = try c.decode(Double.self)
                raw = d.isFinite && abs(d) < 9e18 ? Int64(d) : nil
            }
        }
    }

    struct Attributes {
        var values: [String: AnyValue] = [:]
        init(_ kv: [KeyValue]) {
            for k in kv { if let v = k.value { values[k.key] = v } }
        }
        func string(_ k: String) -> String? { values[k]?.stringValue }
        func int(_ k: String) -> Int? {
            guard let v = values[k] else { return nil }
            if let i = v.intValue?.raw, abs(i) < 1 << 53 { return Int(i) }
            if let d = v.doubleValue, d.isFinite, abs(d) < 9e15, d == d.rounded() { return Int(d) }
            return v.stringValue.flatMap { Int($0) }
        }
        func bool(_ k: String) -> Bool? { values[k]?.boolValue }
        /// `METHOD /route` from `http.route` and the request method (`http.request.method`, or the old `http.method`).
        var route: String? {
            guard let r = string("http.route"), !r.isEmpty else { return nil }
            let m = string("http.request.method") ?? string("http.method")
            return m.map { "\($0) \(r)" } ?? r
        }
    }
}

extension OTLPTraces.Decoded {
    mutating func reject(_ why: String) {
        rejected += 1
        if firstRejection == nil { firstRejection = why }
    }
}

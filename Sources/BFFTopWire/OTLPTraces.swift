import FoundationEssentials

/// OTLP trace exports to invocations. JSON bodies (`application/json`, as the Node SDK's
/// `@opentelemetry/exporter-trace-otlp-http` sends them) are read here with protobuf's JSON mapping
/// and OTLP's rules (hex ids, integer enums, 64-bit integers as decimal strings, unknown fields
/// ignored); protobuf bodies by `OTLPProtobuf`. Both become an `OTLPExport`, mapped once.
///
/// Spans become invocations by the OpenTelemetry semantic conventions:
/// - a SERVER span with `http.route`: the route `METHOD /route`, its status and duration;
/// - a span with `graphql.operation.name`: its own endpoint (`query GetSlots`), under the route
///   whose SERVER span it descends from, as Apollo Studio splits `POST /graphql`;
/// - a SERVER span of a function (`faas.name` on the span or its resource): a function invocation
///   with its cold start, memory (`faas.max_memory`, bytes) and request id, called by the route it
///   descends from (found across exports by `OTLPTraceLinker`).
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

    /// Decodes one JSON export on its own: parents are looked for in this export only.
    public static func decode(json body: [UInt8]) throws(DecodeError) -> Decoded {
        var linker = OTLPTraceLinker()
        var d = map(try export(json: body), linker: &linker, now: 0)
        d.invocations += linker.release(now: 0, all: true)
        return d
    }

    /// Decodes one protobuf export on its own: parents are looked for in this export only.
    public static func decode(protobuf body: [UInt8]) throws(DecodeError) -> Decoded {
        var linker = OTLPTraceLinker()
        var d = map(try OTLPProtobuf.traces(body), linker: &linker, now: 0)
        d.invocations += linker.release(now: 0, all: true)
        return d
    }

    /// An OTLP JSON export read into the model both encodings share.
    public static func export(json body: [UInt8]) throws(DecodeError) -> OTLPExport {
        let request: ExportRequest
        do {
            request = try JSONDecoder().decode(ExportRequest.self, from: Data(body))
        } catch {
            throw DecodeError("not an OTLP JSON trace export: \(Self.reason(error))")
        }
        var out = OTLPExport()
        for rs in request.resourceSpans ?? [] {
            var r = OTLPResourceSpans()
            r.resource = OTLPAttributes(rs.resource?.attributes ?? [])
            for s in (rs.scopeSpans ?? []).flatMap({ $0.spans ?? [] }) {
                var span = OTLPSpan()
                (span.traceHigh, span.traceLow) = s.traceId.map(Hex.traceID) ?? (0, 0)
                span.spanID = s.spanId.flatMap { Hex.uint64($0[...].utf8) }
                span.parentID = s.parentSpanId.flatMap { Hex.uint64($0[...].utf8) }
                span.name = s.name ?? ""
                span.kind = s.kind?.value ?? 0
                span.startNs = s.startTimeUnixNano?.raw ?? 0
                span.endNs = s.endTimeUnixNano?.raw ?? 0
                span.statusCode = s.status?.code?.value ?? 0
                span.statusMessage = s.status?.message
                span.attributes = OTLPAttributes(s.attributes ?? [])
                r.spans.append(span)
            }
            out.resources.append(r)
        }
        return out
    }

    /// Spans to invocations by the semantic conventions. Every span is remembered first, so
    /// ancestry within the export does not depend on order; what reaches a span not seen yet waits
    /// in the linker (`release` delivers it later).
    public static func map(_ export: OTLPExport, linker: inout OTLPTraceLinker, now: Double) -> Decoded {
        link(prepare(export), linker: &linker, now: now)
    }

    /// An export's spans made into invocations, before any is linked to the spans above it: the
    /// part of mapping that needs no state shared between exports, so a receiver does it on each
    /// connection's thread and holds its linker's lock only for `link`.
    public struct Prepared: Sendable {
        struct Remembered {
            var id: UInt64
            var parent: UInt64?
            var route: String?
            var endpoint: Bool
        }
        struct Candidate {
            var invocation: Invocation
            var parent: UInt64?
            /// A route's own span: only its caller is looked up, never held.
            var ownRoute: Bool
        }
        var remembered: [Remembered] = []
        var candidates: [Candidate] = []
        var decoded = Decoded()
    }

    public static func prepare(_ export: OTLPExport) -> Prepared {
        var out = Prepared()
        out.remembered.reserveCapacity(export.spanCount)
        out.candidates.reserveCapacity(export.spanCount)
        for rs in export.resources {
            let resource = rs.resource
            out.decoded.spans += rs.spans.count
            for s in rs.spans {
                // Each span's endpoint (a route, a GraphQL operation, a function, or none): the
                // linker needs to know which spans are endpoints before any is mapped.
                let shape = EndpointShape(s, resource: resource)
                if let id = s.spanID { out.remembered.append(.init(id: id, parent: s.parentID, route: shape.route, endpoint: shape.kind != nil)) }
                guard let kind = shape.kind else { continue }
                let a = s.attributes
                let endpoint = shape.endpoint
                // Durations from the integer nanoseconds (as doubles of Unix seconds they would lose
                // a tenth of a microsecond).
                guard s.startNs > 0, s.endNs >= s.startNs else {
                    out.decoded.reject("span \(s.name.isEmpty ? "?" : s.name) of \(endpoint): no valid startTimeUnixNano/endTimeUnixNano")
                    continue
                }
                let status = a.httpStatus
                var outcome: Outcome = .ok
                if let st = status { outcome = st == 429 ? .throttle : (st == 504 || st == 408) ? .timeout : st >= 500 ? .error : .ok }
                if s.statusCode == 2, outcome == .ok { outcome = .error }
                let memory = (a.int(.faasMaxMemory) ?? resource.int(.faasMaxMemory)).map { Double($0) / 1_048_576 }
                let inv = Invocation(
                    ts: Double(s.startNs) / 1e9, service: resource.string(.serviceName), endpoint: endpoint, kind: kind,
                    durationMs: Double(s.endNs - s.startNs) / 1e6,
                    memoryMB: kind == .function ? memory : nil, coldStart: a.bool(.faasColdstart) ?? false, outcome: outcome, status: status,
                    error: outcome == .ok ? nil : (s.statusMessage.flatMap { $0.isEmpty ? nil : $0 } ?? status.map { "HTTP \($0)" } ?? "span status ERROR"),
                    traceID: outcome == .ok ? nil : s.traceID, id: a.string(.faasInvocationID),
                    span: s.spanID.flatMap { id in TraceKey(high: s.traceHigh, low: s.traceLow).map { SpanContext(trace: $0, span: id) } })
                guard WireLimits.admits(inv) else {
                    out.decoded.reject("span \(s.name.isEmpty ? "?" : s.name) of \(endpoint): times or figures out of range")
                    continue
                }
                out.candidates.append(.init(invocation: inv, parent: s.parentID, ownRoute: shape.ownRoute))
            }
        }
        return out
    }

    /// The prepared invocations linked to the routes and callers above them (as far as they are
    /// known now), with those the linker held before and can deliver now.
    public static func link(_ prepared: Prepared, linker: inout OTLPTraceLinker, now: Double) -> Decoded {
        var out = prepared.decoded
        out.invocations.reserveCapacity(prepared.candidates.count)
        for r in prepared.remembered { linker.remember(r.id, parent: r.parent, route: r.route, endpoint: r.endpoint) }
        for c in prepared.candidates {
            if c.ownRoute {
                var inv = c.invocation
                inv.span?.parent = linker.caller(from: c.parent)
                out.invocations.append(inv)
            } else if let linked = linker.offer(c.invocation, parent: c.parent, now: now) {
                out.invocations.append(linked)
            }
        }
        out.invocations += linker.release(now: now)
        return out
    }

    /// What endpoint a span is, by the semantic conventions (see the type's comment).
    struct EndpointShape {
        var kind: EndpointKind?
        var endpoint = ""
        /// A server span's `METHOD /route` (the linker's routes), whether or not the span is that route's endpoint.
        var route: String?
        /// The span is its route's endpoint (not a GraphQL operation or function that also has a route).
        var ownRoute = false

        init(_ s: OTLPSpan, resource: OTLPAttributes) {
            let a = s.attributes
            route = s.isServer ? a.route : nil
            let faasName = a.string(.faasName) ?? (s.isServer ? resource.string(.faasName) : nil)
            if let op = a.string(.graphqlOperationName), !op.isEmpty {
                kind = .route
                endpoint = "\(a.string(.graphqlOperationType) ?? "operation") \(op)"
            } else if s.isServer, let f = faasName, !f.isEmpty {
                kind = .function
                endpoint = f
            } else if let r = route {
                kind = .route
                endpoint = r
                ownRoute = true
            }
        }
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
        var startTimeUnixNano: UInt64Value?
        var endTimeUnixNano: UInt64Value?
        var attributes: [KeyValue]?
        var status: Status?
    }
    struct Status: Decodable {
        var code: EnumValue?
        var message: String?
    }
    struct KeyValue: Decodable {
        /// Absent when empty (protobuf's JSON mapping leaves default values out).
        var key: String?
        var value: AnyValue?
    }
    struct AnyValue: Decodable {
        var stringValue: String?
        var boolValue: Bool?
        var intValue: Int64Value?
        var doubleValue: DoubleValue?
    }

    /// A double as protobuf's JSON mapping writes it: a number, or "NaN", "Infinity", "-Infinity"
    /// (or a number in a string).
    struct DoubleValue: Decodable {
        var value: Double
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) {
                value = d
                return
            }
            let s = try c.decode(String.self)
            switch s {
            case "NaN": value = .nan
            case "Infinity": value = .infinity
            case "-Infinity": value = -.infinity
            default:
                guard let d = Double(s) else {
                    throw DecodingError.dataCorruptedError(in: c, debugDescription: "\"\(s.prefix(40))\" is not a number")
                }
                value = d
            }
        }
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
                         "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2,
                         "AGGREGATION_TEMPORALITY_DELTA": 1, "AGGREGATION_TEMPORALITY_CUMULATIVE": 2][s] ?? 0
            }
        }
    }

    /// A fixed64 time: a decimal string by OTLP's rule, a number from lenient exporters.
    struct UInt64Value: Decodable {
        var raw: UInt64?
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                raw = UInt64(s)
            } else if let n = try? c.decode(UInt64.self) {
                raw = n
            } else {
                let d = try c.decode(Double.self)
                raw = d.isFinite && d >= 0 && d < 1.8e19 ? UInt64(d) : nil
            }
        }
    }

    /// An int64 attribute: a decimal string by OTLP's rule, a number from lenient exporters.
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
}

extension OTLPAttributes {
    init(_ kv: [OTLPTraces.KeyValue]) {
        self.init()
        for k in kv {
            var key = k.key ?? ""
            guard let key = key.withUTF8({ OTLPKey.match(UnsafeRawBufferPointer($0)) }),
                  let v = k.value else { continue }
            if let s = v.stringValue { self[key] = .string(s) }
            else if let b = v.boolValue { self[key] = .bool(b) }
            else if let i = v.intValue?.raw { self[key] = .int(i) }
            else if let d = v.doubleValue?.value { self[key] = .double(d) }
        }
    }
}

extension OTLPTraces.Decoded {
    mutating func reject(_ why: String) {
        rejected += 1
        if firstRejection == nil { firstRejection = why }
    }
}

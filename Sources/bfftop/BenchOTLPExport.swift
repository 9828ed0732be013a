import BFFTopDemo

/// The OTLP trace exports `bench --only otlp` sends, written with a few lines of the protobuf wire
/// format (opentelemetry-proto's field numbers) so the dashboard's binary does not link
/// swift-protobuf and the Foundation it brings (7 MiB of resident memory in every process; see
/// docs/performance.md). `bfftop-protobuf-bench` decodes the same bytes with swift-protobuf.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: UInt64, _ wire: UInt64) { varint(field << 3 | wire) }

    mutating func uint(_ field: UInt64, _ v: UInt64) {
        tag(field, 0)
        varint(v)
    }

    mutating func fixed64(_ field: UInt64, _ v: UInt64) {
        tag(field, 1)
        withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
    }

    mutating func bytes(_ field: UInt64, _ b: [UInt8]) {
        tag(field, 2)
        varint(UInt64(b.count))
        bytes += b
    }

    mutating func string(_ field: UInt64, _ s: String) { bytes(field, Array(s.utf8)) }

    /// A nested message written by `body`.
    mutating func message(_ field: UInt64, _ body: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        body(&inner)
        bytes(field, inner.bytes)
    }
}

enum BenchOTLPExport {
    enum Value {
        case string(String)
        case int(Int64)
    }

    /// `KeyValue { key = 1; value = 2 (AnyValue { string_value = 1; int_value = 3 }) }`.
    static func attribute(_ w: inout ProtobufWriter, _ field: UInt64, _ key: String, _ value: Value) {
        w.message(field) { kv in
            kv.string(1, key)
            kv.message(2) { v in
                switch value {
                case .string(let s): v.string(1, s)
                case .int(let i): v.uint(3, UInt64(bitPattern: i))
                }
            }
        }
    }

    /// An export as the Python or Node SDK writes it: each request is four spans of one trace (a
    /// route's SERVER span, its GraphQL operation, the CLIENT call and the function's SERVER span).
    static func build(at t: Double, seed: UInt64, spans count: Int) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        func id(_ n: Int) -> [UInt8] { withUnsafeBytes(of: rng.next()) { Array($0.prefix(n)) } }
        let t0 = UInt64(t * 1e9) - 2_000_000_000
        var out = ProtobufWriter()
        out.message(1) { rs in  // ExportTraceServiceRequest.resource_spans
            rs.message(1) { r in  // ResourceSpans.resource
                attribute(&r, 1, "service.name", .string("web-bff"))
                attribute(&r, 1, "telemetry.sdk.language", .string("nodejs"))
                attribute(&r, 1, "telemetry.sdk.version", .string("1.30.0"))
            }
            rs.message(2) { ss in  // ResourceSpans.scope_spans
                ss.message(1) { $0.string(1, "@opentelemetry/instrumentation-graphql") }  // scope.name
                for i in 0..<count / 4 {
                    let trace = id(8) + id(8)
                    let (route, op, client, fn) = (id(8), id(8), id(8), id(8))
                    let start = t0 + UInt64(i) * 1_000_000
                    let ms = UInt64(20 + rng.next() % 300) * 1_000_000
                    // Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, start 7, end 8, attributes 9.
                    func span(_ sid: [UInt8], _ parent: [UInt8]?, _ name: String, _ kind: UInt64, _ from: UInt64, _ to: UInt64,
                              _ attrs: [(String, Value)]) {
                        ss.message(2) { s in
                            s.bytes(1, trace)
                            s.bytes(2, sid)
                            if let parent { s.bytes(4, parent) }
                            s.string(5, name)
                            s.uint(6, kind)
                            s.fixed64(7, from)
                            s.fixed64(8, to)
                            for (k, v) in attrs { attribute(&s, 9, k, v) }
                        }
                    }
                    let q = i % 3 == 0 ? "BookSlot" : "GetSlots"
                    // SpanKind: 1 internal, 2 server, 3 client.
                    span(route, nil, "POST /graphql", 2, start, start + ms, [
                        ("http.request.method", .string("POST")), ("http.route", .string("/graphql")), ("url.scheme", .string("http")),
                        ("http.response.status_code", .int(200)), ("server.address", .string("bff.internal")),
                        ("user_agent.original", .string("Mozilla/5.0"))])
                    span(op, route, "query \(q)", 1, start + 1_000_000, start + ms - 1_000_000, [
                        ("graphql.operation.name", .string(q)), ("graphql.operation.type", .string("query")),
                        ("graphql.document", .string("query \(q) { slots { id } }"))])
                    span(client, op, "invoke slots-query", 3, start + 2_000_000, start + ms / 2, [
                        ("faas.invoked_name", .string("slots-query")), ("faas.invoked_provider", .string("aws"))])
                    span(fn, client, "slots-query", 2, start + 3_000_000, start + ms / 2 - 500_000, [
                        ("faas.name", .string("slots-query")), ("faas.invocation_id", .string("req-\(i)")),
                        ("faas.coldstart", .string("false")), ("faas.max_memory", .int(536_870_912))])
                }
            }
        }
        return out.bytes
    }
}

import Foundation
import OTLPProtoGenerated
import SwiftProtobuf
import Testing
@testable import BFFTopWire

/// The hand-written protobuf reader against swift-protobuf's generated code: random exports built
/// and serialised with the generated types must read the same; corrupted bytes that swift-protobuf
/// still accepts must read the same too, and nothing may trap.
@Suite struct OTLPProtobufOracleTests {
    typealias PSpan = Opentelemetry_Proto_Trace_V1_Span
    typealias KV = Opentelemetry_Proto_Common_V1_KeyValue

    struct Rng: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let keys = OTLPKey.allCases.map(\.name) + ["http.url", "net.peer.name", "user_agent.original", "faas.trigger", "h", "faas.name.x", ""]

    static func value(_ r: inout Rng) -> Opentelemetry_Proto_Common_V1_AnyValue {
        var v = Opentelemetry_Proto_Common_V1_AnyValue()
        switch Int.random(in: 0..<8, using: &r) {
        case 0: v.stringValue = ["POST", "/graphql", "GetSlots", "query", "slots-query", "naïve ✓", ""].randomElement(using: &r)!
        case 1: v.boolValue = Bool.random(using: &r)
        case 2: v.intValue = [200, 503, 429, 536_870_912, -1, Int64.max, Int64.min].randomElement(using: &r)!
        case 3: v.doubleValue = [200.0, 1.5, -0.0, .infinity, .nan, 1e300].randomElement(using: &r)!
        case 4:
            var a = Opentelemetry_Proto_Common_V1_ArrayValue()
            a.values = [Opentelemetry_Proto_Common_V1_AnyValue.with { $0.stringValue = "x" }]
            v.arrayValue = a
        case 5:
            var l = Opentelemetry_Proto_Common_V1_KeyValueList()
            l.values = [KV.with { $0.key = "http.route"; $0.value.stringValue = "/nested" }]
            v.kvlistValue = l
        case 6: v.bytesValue = Data([1, 2, 3])
        default: break  // no value set
        }
        return v
    }

    static func attributes(_ r: inout Rng) -> [KV] {
        (0..<Int.random(in: 0..<9, using: &r)).map { _ in
            KV.with { kv in
                kv.key = keys.randomElement(using: &r)!
                if Int.random(in: 0..<10, using: &r) > 0 { kv.value = value(&r) }
            }
        }
    }

    static func request(_ r: inout Rng) -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest {
        var req = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        for _ in 0..<Int.random(in: 0..<3, using: &r) {
            var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            rs.resource.attributes = attributes(&r)
            rs.schemaURL = "https://opentelemetry.io/schemas/1.26.0"
            for _ in 0..<Int.random(in: 0..<3, using: &r) {
                var ss = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                ss.scope.name = "@opentelemetry/instrumentation-http"
                for _ in 0..<Int.random(in: 0..<6, using: &r) {
                    var s = PSpan()
                    s.traceID = Data((0..<[16, 16, 16, 0, 3].randomElement(using: &r)!).map { _ in UInt8.random(in: 0...255, using: &r) })
                    s.spanID = Data((0..<[8, 8, 0, 5].randomElement(using: &r)!).map { _ in UInt8.random(in: 0...255, using: &r) })
                    s.parentSpanID = Data((0..<[8, 0].randomElement(using: &r)!).map { _ in UInt8.random(in: 0...255, using: &r) })
                    s.name = "span \(Int.random(in: 0..<100, using: &r))"
                    s.kind = PSpan.SpanKind(rawValue: Int.random(in: 0...6, using: &r)) ?? .server
                    s.startTimeUnixNano = [1_733_450_000_000_000_000, 0, UInt64.max].randomElement(using: &r)!
                    s.endTimeUnixNano = s.startTimeUnixNano &+ UInt64.random(in: 0...2_000_000_000, using: &r)
                    s.attributes = attributes(&r)
                    if Bool.random(using: &r) {
                        s.events = [PSpan.Event.with { $0.name = "exception"; $0.attributes = attributes(&r) }]
                    }
                    if Bool.random(using: &r) {
                        s.status.code = Opentelemetry_Proto_Trace_V1_Status.StatusCode(rawValue: Int.random(in: 0...2, using: &r)) ?? .error
                        s.status.message = ["boom", ""].randomElement(using: &r)!
                    }
                    s.flags = 0x100
                    ss.spans.append(s)
                }
                rs.scopeSpans.append(ss)
            }
            req.resourceSpans.append(rs)
        }
        return req
    }

    /// What bfftop's model should hold for the generated message, computed from swift-protobuf's view.
    static func expected(_ req: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest) -> [String] {
        func attrs(_ kvs: [KV]) -> String {
            var slots: [OTLPKey: String] = [:]
            for kv in kvs {
                guard let k = OTLPKey.allCases.first(where: { $0.name == kv.key }) else { continue }
                switch kv.value.value {
                case .stringValue(let s)?: slots[k] = "s:\(s)"
                case .boolValue(let b)?: slots[k] = "b:\(b)"
                case .intValue(let i)?: slots[k] = "i:\(i)"
                case .doubleValue(let d)?: slots[k] = "d:\(d.bitPattern)"
                default: if kv.hasValue { slots[k] = nil }  // arrays, maps, bytes, an empty AnyValue: none
                }
            }
            return OTLPKey.allCases.compactMap { k in slots[k].map { "\(k.name)=\($0)" } }.joined(separator: ";")
        }
        func hex(_ d: Data) -> String? { d.count == 16 && d.contains(where: { $0 != 0 }) ? d.map { String(format: "%02x", $0) }.joined() : nil }
        func id(_ d: Data) -> UInt64? {
            guard d.count == 8 else { return nil }
            let v = d.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return v == 0 ? nil : v
        }
        var out: [String] = []
        for rs in req.resourceSpans {
            out.append("resource \(attrs(rs.resource.attributes))")
            for ss in rs.scopeSpans {
                for s in ss.spans {
                    // bfftop keeps a span's name only when the span has attributes it reads.
                    let name = attrs(s.attributes).isEmpty ? "" : s.name
                    out.append("\(hex(s.traceID) ?? "-") \(id(s.spanID).map(String.init) ?? "-") \(id(s.parentSpanID).map(String.init) ?? "-") \(name) \(s.kind.rawValue) \(s.startTimeUnixNano) \(s.endTimeUnixNano) \(s.status.code.rawValue) \(s.status.message.isEmpty ? "-" : s.status.message) \(attrs(s.attributes))")
                }
            }
        }
        return out
    }

    static func actual(_ e: OTLPExport) -> [String] {
        func attrs(_ a: OTLPAttributes) -> String {
            OTLPKey.allCases.compactMap { k -> String? in
                switch a[k] {
                case .string(let s)?: "\(k.name)=s:\(s)"
                case .bool(let b)?: "\(k.name)=b:\(b)"
                case .int(let i)?: "\(k.name)=i:\(i)"
                case .double(let d)?: "\(k.name)=d:\(d.bitPattern)"
                case nil: nil
                }
            }.joined(separator: ";")
        }
        var out: [String] = []
        for rs in e.resources {
            out.append("resource \(attrs(rs.resource))")
            for s in rs.spans {
                out.append("\(s.traceID ?? "-") \(s.spanID.map(String.init) ?? "-") \(s.parentID.map(String.init) ?? "-") \(s.name) \(s.kind) \(s.startNs) \(s.endNs) \(s.statusCode) \(s.statusMessage ?? "-") \(attrs(s.attributes))")
            }
        }
        return out
    }

    @Test func randomExportsReadAsSwiftProtobufReadsThem() throws {
        var r = Rng(state: 20261206)
        for _ in 0..<2_000 {
            let req = Self.request(&r)
            let bytes = Array(try req.serializedData())
            let e = try OTLPProtobuf.traces(bytes)
            #expect(Self.actual(e) == Self.expected(req))
        }
    }

    @Test func corruptedBytesNeverTrapAndAgreeWhenSwiftProtobufAccepts() throws {
        var r = Rng(state: 7)
        var agreed = 0
        for _ in 0..<3_000 {
            var bytes = Array(try Self.request(&r).serializedData())
            guard !bytes.isEmpty else { continue }
            for _ in 0..<Int.random(in: 1...3, using: &r) {
                let i = Int.random(in: 0..<bytes.count, using: &r)
                switch Int.random(in: 0..<3, using: &r) {
                case 0: bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &r))
                case 1: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...8, using: &r)))
                default: bytes.insert(UInt8.random(in: 0...255, using: &r), at: i)
                }
                if bytes.isEmpty { break }
            }
            let mine = try? OTLPProtobuf.traces(bytes)
            if let oracle = try? Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: bytes) {
                let m = try #require(mine, "swift-protobuf reads these bytes; so must bfftop: \(Result { () throws(DecodeError) in try OTLPProtobuf.traces(bytes) })")
                #expect(Self.actual(m) == Self.expected(oracle))
                agreed += 1
            }
        }
        #expect(agreed > 150, "enough corrupted inputs still parse to make the comparison mean something (\(agreed))")
    }

    @Test func protobufAndJSONOfOneExportMapToTheSameInvocations() throws {
        let t: UInt64 = 1_733_450_000_000_000_000
        var req = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        rs.resource.attributes = [KV.with { $0.key = "service.name"; $0.value.stringValue = "web-bff" }]
        func span(_ id: UInt8, parent: UInt8?, kind: PSpan.SpanKind, start: UInt64, end: UInt64, _ attrs: [(String, Opentelemetry_Proto_Common_V1_AnyValue)]) -> PSpan {
            PSpan.with { s in
                s.traceID = Data(repeating: 0xAB, count: 16)
                s.spanID = Data([0, 0, 0, 0, 0, 0, 0, id])
                if let p = parent { s.parentSpanID = Data([0, 0, 0, 0, 0, 0, 0, p]) }
                s.kind = kind
                s.startTimeUnixNano = start
                s.endTimeUnixNano = end
                s.attributes = attrs.map { a in KV.with { $0.key = a.0; $0.value = a.1 } }
            }
        }
        func str(_ s: String) -> Opentelemetry_Proto_Common_V1_AnyValue { .with { $0.stringValue = s } }
        rs.scopeSpans = [Opentelemetry_Proto_Trace_V1_ScopeSpans.with { ss in
            ss.spans = [
                span(3, parent: 2, kind: .server, start: t + 20_000_000, end: t + 100_000_000,
                     [("faas.name", str("slots-query")), ("faas.coldstart", .with { $0.boolValue = true }), ("faas.max_memory", .with { $0.intValue = 536_870_912 })]),
                span(2, parent: 1, kind: .internal, start: t + 10_000_000, end: t + 110_000_000,
                     [("graphql.operation.name", str("GetSlots")), ("graphql.operation.type", str("query"))]),
                span(1, parent: nil, kind: .server, start: t, end: t + 120_000_000,
                     [("http.route", str("/graphql")), ("http.request.method", str("POST")), ("http.response.status_code", .with { $0.intValue = 200 })]),
            ]
        }]
        req.resourceSpans = [rs]
        let fromProto = try OTLPTraces.decode(protobuf: Array(req.serializedData()))
        let ab = String(repeating: "ab", count: 16)
        let json = OTLPTracesTests.export([
            OTLPTracesTests.span("03", parent: "02", trace: ab, start: "\"\(t + 20_000_000)\"", end: "\"\(t + 100_000_000)\"",
                                 [OTLPTracesTests.attr("faas.name", #"{"stringValue":"slots-query"}"#), OTLPTracesTests.attr("faas.coldstart", #"{"boolValue":true}"#),
                                  OTLPTracesTests.attr("faas.max_memory", #"{"intValue":"536870912"}"#)].joined(separator: ",")),
            OTLPTracesTests.span("02", parent: "01", kind: "1", trace: ab, start: "\"\(t + 10_000_000)\"", end: "\"\(t + 110_000_000)\"",
                                 [OTLPTracesTests.attr("graphql.operation.name", #"{"stringValue":"GetSlots"}"#), OTLPTracesTests.attr("graphql.operation.type", #"{"stringValue":"query"}"#)].joined(separator: ",")),
            OTLPTracesTests.span("01", trace: ab, start: "\"\(t)\"", end: "\"\(t + 120_000_000)\"",
                                 [OTLPTracesTests.attr("http.route", #"{"stringValue":"/graphql"}"#), OTLPTracesTests.attr("http.request.method", #"{"stringValue":"POST"}"#),
                                  OTLPTracesTests.attr("http.response.status_code", #"{"intValue":"200"}"#)].joined(separator: ",")),
        ], resource: OTLPTracesTests.attr("service.name", #"{"stringValue":"web-bff"}"#))
        let fromJSON = try OTLPTraces.decode(json: json)
        #expect(fromProto.invocations.count == 3)
        #expect(fromProto.invocations == fromJSON.invocations)
        #expect(fromProto.invocations.first { $0.endpoint == "slots-query" }?.parent == "POST /graphql")
    }
}

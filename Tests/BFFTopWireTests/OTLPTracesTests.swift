import Testing
@testable import BFFTopWire

/// OTLP JSON trace exports (OTLP's JSON rules, written by hand from the spec) become routes,
/// GraphQL operations and functions by the semantic conventions.
@Suite struct OTLPTracesTests {
    static func span(_ id: String, parent: String? = nil, kind: String = "2", trace: String = "5b8efff798038103d269b633813fc60c",
                     start: String, end: String, _ attrs: String, status: String = "") -> String {
        #"{"traceId":"\#(trace)","spanId":"\#(id)""# + (parent.map { #","parentSpanId":"\#($0)""# } ?? "")
            + #","name":"s","kind":\#(kind),"startTimeUnixNano":\#(start),"endTimeUnixNano":\#(end),"attributes":[\#(attrs)]\#(status)}"#
    }
    static func attr(_ k: String, _ v: String) -> String { #"{"key":"\#(k)","value":\#(v)}"# }
    static func export(_ spans: [String], resource: String = "") -> [UInt8] {
        Array(#"{"resourceSpans":[{"resource":{"attributes":[\#(resource)]},"scopeSpans":[{"scope":{"name":"x"},"spans":[\#(spans.joined(separator: ","))]}]}]}"#.utf8)
    }

    @Test func routesGraphQLOperationsAndFunctionsWithTheirParents() throws {
        let t = "1733450000"
        let d = try OTLPTraces.decode(json: Self.export([
            // Children first: ancestry does not depend on order.
            Self.span("c3", parent: "c2", start: #""\#(t)020000000""#, end: #""\#(t)100000000""#,
                      [Self.attr("faas.name", #"{"stringValue":"slots-query"}"#), Self.attr("faas.coldstart", #"{"boolValue":true}"#),
                       Self.attr("faas.max_memory", #"{"intValue":"536870912"}"#), Self.attr("faas.invocation_id", #"{"stringValue":"req-1"}"#)].joined(separator: ",")),
            Self.span("c2", parent: "c1", kind: "1", start: #""\#(t)010000000""#, end: #""\#(t)110000000""#,
                      [Self.attr("graphql.operation.name", #"{"stringValue":"GetSlots"}"#), Self.attr("graphql.operation.type", #"{"stringValue":"query"}"#)].joined(separator: ",")),
            Self.span("c1", start: #""\#(t)000000000""#, end: #""\#(t)120000000""#,
                      [Self.attr("http.route", #"{"stringValue":"/graphql"}"#), Self.attr("http.request.method", #"{"stringValue":"POST"}"#),
                       Self.attr("http.response.status_code", #"{"intValue":"200"}"#)].joined(separator: ",")),
            // A client span is no endpoint.
            Self.span("c4", parent: "c1", kind: "3", start: #""\#(t)030000000""#, end: #""\#(t)040000000""#, Self.attr("http.route", #"{"stringValue":"/x"}"#)),
        ], resource: Self.attr("service.name", #"{"stringValue":"web-bff"}"#)))
        #expect(d.spans == 4 && d.rejected == 0)
        let by = Dictionary(uniqueKeysWithValues: d.invocations.map { ($0.endpoint, $0) })
        #expect(Set(by.keys) == ["POST /graphql", "query GetSlots", "slots-query"])
        let route = try #require(by["POST /graphql"])
        #expect(route.kind == .route && route.status == 200 && route.outcome == .ok && route.service == "web-bff")
        #expect(abs(route.durationMs - 120) < 1e-6 && route.ts == 1_733_450_000 && route.parent == nil)
        let op = try #require(by["query GetSlots"])
        #expect(op.parent == "POST /graphql" && abs(op.durationMs - 100) < 1e-6)
        let fn = try #require(by["slots-query"])
        #expect(fn.kind == .function && fn.coldStart && fn.memoryMB == 512 && fn.id == "req-1" && fn.parent == "POST /graphql")
        #expect(fn.traceID == nil, "trace ids are kept for failures only: the Errors pane shows them")
    }

    @Test func outcomesFromStatusCodesAndSpanStatus() throws {
        func outcome(_ status: String, spanStatus: String = "") throws -> Outcome? {
            let d = try OTLPTraces.decode(json: Self.export([
                Self.span("a1", start: "\"1733450000000000000\"", end: "\"1733450000050000000\"",
                          Self.attr("http.route", #"{"stringValue":"/a"}"#) + (status.isEmpty ? "" : "," + Self.attr("http.response.status_code", #"{"intValue":"\#(status)"}"#)),
                          status: spanStatus),
            ]))
            return d.invocations.first?.outcome
        }
        #expect(try outcome("200") == .ok)
        #expect(try outcome("503") == .error)
        #expect(try outcome("429") == .throttle)
        #expect(try outcome("504") == .timeout)
        #expect(try outcome("404") == .ok, "a client error is the client's")
        #expect(try outcome("", spanStatus: #","status":{"code":2,"message":"boom"}"#) == .error)
        let failed = try OTLPTraces.decode(json: Self.export([
            Self.span("a1", start: "\"1733450000000000000\"", end: "\"1733450000050000000\"", Self.attr("http.route", #"{"stringValue":"/a"}"#),
                      status: #","status":{"code":2,"message":"boom"}"#),
        ]))
        #expect(failed.invocations.first?.traceID == "5b8efff798038103d269b633813fc60c" && failed.invocations.first?.error == "boom")
        #expect(try outcome("", spanStatus: #","status":{"code":"STATUS_CODE_ERROR"}"#) == .error, "enum names too")
    }

    @Test func unreadableSpansAreRejectedWithAReasonAndBadBodiesRefused() throws {
        let d = try OTLPTraces.decode(json: Self.export([
            Self.span("b1", start: "\"0\"", end: "\"1733450000050000000\"", Self.attr("http.route", #"{"stringValue":"/a"}"#)),
            Self.span("b2", start: "\"99999999999999999999\"", end: "\"1\"", Self.attr("http.route", #"{"stringValue":"/b"}"#)),
            Self.span("b3", start: "\"1733450000000000000\"", end: "\"1733450000050000000\"", Self.attr("http.route", #"{"stringValue":"/c"}"#)),
        ]))
        #expect(d.invocations.map(\.endpoint) == ["/c"])
        #expect(d.rejected == 2 && d.firstRejection?.contains("startTimeUnixNano") == true)
        for bad in ["", "{", #"{"resourceSpans":5}"#, "[1,2]"] {
            #expect(throws: DecodeError.self) { try OTLPTraces.decode(json: Array(bad.utf8)) }
        }
        #expect(try OTLPTraces.decode(json: Array("{}".utf8)).spans == 0, "an empty export is fine")
    }
}

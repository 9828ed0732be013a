import Testing
@testable import BFFTopWire

/// Routes found across exports: a function's span that arrives before its route's is held until
/// the route comes or the wait is over, within bounds.
@Suite struct OTLPTraceLinkerTests {
    static func export(_ spans: [(id: UInt64, parent: UInt64?, attrs: [(OTLPKey, OTLPValue)])]) -> OTLPExport {
        var rs = OTLPResourceSpans()
        for s in spans {
            var span = OTLPSpan()
            span.spanID = s.id
            span.parentID = s.parent
            span.kind = 2
            span.startNs = 1_733_450_000_000_000_000
            span.endNs = span.startNs + 50_000_000
            for (k, v) in s.attrs { span.attributes[k] = v }
            rs.spans.append(span)
        }
        var e = OTLPExport()
        e.resources = [rs]
        return e
    }

    static let function: [(OTLPKey, OTLPValue)] = [(.faasName, .string("slots-query"))]
    static let route: [(OTLPKey, OTLPValue)] = [(.httpRoute, .string("/graphql")), (.httpRequestMethod, .string("POST"))]

    @Test func aFunctionWaitsForItsRouteFromALaterExport() {
        var l = OTLPTraceLinker()
        // The function's export first, its caller's CLIENT span and route later.
        let first = OTLPTraces.map(Self.export([(3, 2, Self.function)]), linker: &l, now: 100)
        #expect(first.invocations.isEmpty && l.pendingCount == 1, "held: its parent has not arrived")
        let second = OTLPTraces.map(Self.export([(2, 1, []), (1, nil, Self.route)]), linker: &l, now: 102)
        #expect(second.invocations.map(\.endpoint).sorted() == ["POST /graphql", "slots-query"])
        #expect(second.invocations.first { $0.endpoint == "slots-query" }?.parent == "POST /graphql")
        #expect(l.pendingCount == 0 && l.linkedLate == 1 && l.unlinked == 0)
    }

    @Test func aFunctionWhoseCallerNeverComesIsCountedWithoutItAfterTheWait() {
        var l = OTLPTraceLinker()
        _ = OTLPTraces.map(Self.export([(3, 99, Self.function)]), linker: &l, now: 100)
        #expect(l.release(now: 100 + OTLPTraceLinker.holdSeconds - 0.1).isEmpty)
        let late = l.release(now: 100 + OTLPTraceLinker.holdSeconds)
        #expect(late.count == 1 && late[0].parent == nil && l.unlinked == 1 && l.pendingCount == 0)
        // A root function span (no parent) is not held at all.
        #expect(OTLPTraces.map(Self.export([(4, nil, Self.function)]), linker: &l, now: 200).invocations.count == 1)
    }

    @Test func bothTablesStayBounded() {
        var l = OTLPTraceLinker(capacity: 16, maxPending: 4)
        var delivered = 0
        for i in 0..<100 {
            delivered += OTLPTraces.map(Self.export([(UInt64(1000 + i), UInt64(5000 + i), Self.function)]), linker: &l, now: 100).invocations.count
            #expect(l.pendingCount <= 4)
        }
        delivered += l.release(now: 100, all: true).count
        #expect(delivered == 100, "none lost: pushed out of the hold, they are delivered without a route")
        #expect(l.unlinked == 100)
    }
}

/// What the OTLP packer packs reads back as the invocation it came from (without its id, which
/// only `start` events use); failures and odd figures stay general.
@Suite struct OTLPPackerTests {
    @Test func packedInvocationsReadBackAsTheyWere() throws {
        var p = OTLPPacker()
        let fn = Invocation(ts: 1_733_450_000.25, service: "slots-query", endpoint: "slots-query", kind: .function, durationMs: 80.5,
                            memoryMB: 512, coldStart: true, status: 200, parent: "POST /graphql", id: "req-1")
        let route = Invocation(ts: 1_733_450_000, service: "web-bff", endpoint: "POST /graphql", durationMs: 120, status: 200)
        for inv in [fn, route, fn] {
            let maybe = p.pack(inv)
            let packed = try #require(maybe)
            var expected = inv
            expected.id = nil
            #expect(packed.invocation(names: p.names.names, ids: []) == expected)
        }
        #expect(p.names.names == ["slots-query", "POST /graphql", "web-bff"], "each name once, in order of first use")
        var failed = route
        failed.outcome = .error
        failed.error = "boom"
        let refused = p.pack(failed)
        #expect(refused == nil, "failures keep their message and trace id on the general path")
    }
}

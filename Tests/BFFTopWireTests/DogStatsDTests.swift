import Testing
@testable import BFFTopWire

@Suite struct DogStatsDTests {
    func metric(_ s: String) -> DogStatsDMetric? {
        if case .success(.metric(let m)) = DogStatsDParser.parse(Substring(s)) { return m }
        return nil
    }

    @Test func metricFieldsAsTheAgentParsesThem() throws {
        let m = try #require(metric("api.request.duration:12.5:30:|ms|@0.5|#endpoint:GET /api/slots,status:200,env|c:cid-123|T1700000000|card:low"))
        #expect(m.name == "api.request.duration")
        #expect(m.values == [12.5, 30], "packed values; empty ones skipped")
        #expect(m.kind == .timer)
        #expect(m.sampleRate == 0.5)
        #expect(m.tag("endpoint") == "GET /api/slots" && m.tag("status") == "200" && m.tag("env") == "")
        #expect(m.timestamp == 1_700_000_000)
        for (line, kind) in [("a:1|c", DogStatsDMetric.Kind.count), ("a:1|g", .gauge), ("a:1|h", .histogram), ("a:1|d", .distribution), ("a:user42|s", .set)] {
            #expect(metric(line)?.kind == kind)
        }
    }

    @Test func eventsServiceChecksAndMalformed() {
        #expect(DogStatsDParser.parse("_e{5,4}:Title|text|p:low|#a:b") == .success(.event(title: "Title")))
        #expect(DogStatsDParser.parse("_sc|db.up|2|#env:prod|m:down") == .success(.serviceCheck(name: "db.up", status: 2)))
        for bad in ["no-pipe:1", "noval|c", ":1|c", "a:1|x", "a:abc|c", "a:1|c|@2", "_e{0,4}:|text", "_sc|x|9"] {
            guard case .failure = DogStatsDParser.parse(Substring(bad)) else {
                Issue.record("\(bad) should be malformed")
                continue
            }
        }
        var got: [Result<DogStatsDMessage, DecodeError>] = []
        let packet = Array("a:1|c\r\n\nb:2|g\nbroken\n".utf8)
        packet.withUnsafeBytes { DogStatsDParser.parsePacket($0) { got.append($0) } }
        #expect(got.count == 3, "two metrics and one malformed; the empty line skipped")
    }

    @Test func implausibleValuesAreRefusedWithAReasonNeverDroppedOrTrapped() throws {
        let now = 1_700_000_000.0
        for line in ["request.duration:1e308:12|ms|#route:GET /api/feed", "a.errors:1e19|c|#route:/x", "a.errors:-5|c|#route:/x",
                     "datadog.dogstatsd.client.packets_dropped:1e300|c", "lambda.concurrency:1e300|g|#function:f", "a.errors:1|c|#route:/x|T1e300"] {
            let m = try #require(metric(line))
            guard case .refused(let why) = DogStatsDMapper().map(m, at: now) else {
                Issue.record("\(line) was not refused")
                continue
            }
            #expect(why.reason.contains("range") || why.reason.contains("Unix seconds"), "\(line): \(why.reason)")
        }
        // A sample rate so small that 1 / rate is infinite weights by the 100 copies at most.
        let tiny = try #require(metric("x:1|ms|@5e-324|#route:/y"))
        guard case .events(let ev) = DogStatsDMapper().map(tiny, at: now) else { Issue.record("not mapped"); return }
        #expect(ev.count == 100)
    }

    @Test func mappingToEndpoints() throws {
        let map = DogStatsDMapper()
        let t = try #require(metric("request.duration:120|ms|@0.5|#route:GET /api/feed,status:503,cold_start:true,service:web-bff"))
        guard case .events(let ev) = map.map(t, at: 100) else { Issue.record("timer not mapped"); return }
        #expect(ev.count == 2, "sample rate 0.5 counts each sample twice")
        if case .invocation(let inv)? = ev.first {
            #expect(inv.endpoint == "GET /api/feed" && inv.kind == .route && inv.durationMs == 120 && inv.outcome == .error
                    && inv.status == 503 && inv.coldStart && inv.service == "web-bff" && inv.endTs == 100)
        }
        let h = try #require(metric("http_request_duration_seconds:0.25|h|#functionname:resize"))
        if case .events(let e) = map.map(h, at: 50), case .invocation(let inv)? = e.first {
            #expect(inv.durationMs == 250 && inv.kind == .function && inv.endpoint == "resize")
        } else { Issue.record("histogram in seconds not mapped") }
        let c = try #require(metric("lambda.errors:3|c|#function:resize"))
        #expect(map.map(c, at: 1) == .events([.outcomes(OutcomeCount(ts: 1, endpoint: "resize", kind: .function, outcome: .error, count: 3))]))
        let g = try #require(metric("http.server.active_requests:7|g|#http.route:/api/slots"))
        #expect(map.map(g, at: 1) == .events([.concurrency(ConcurrencyGauge(ts: 1, endpoint: "/api/slots", value: 7, kind: .route))]))
        #expect(map.map(try #require(metric("queue.depth:5|g|#queue:jobs")), at: 1) == .raw)
        if case .events(let e) = map.map(try #require(metric("t:1|ms|#endpoint:GET_/api/slots")), at: 1) {
            #expect(e.first?.endpoint == "GET /api/slots", "clients' space-to-underscore undone for METHOD_/path")
        }
        #expect(map.map(try #require(metric("hits:1|c|#endpoint:x")), at: 1) == .raw, "a plain counter is not an outcome")
        #expect(map.map(try #require(metric("datadog.dogstatsd.client.packets_dropped:4|c|#client:py")), at: 1) == .clientDropped(4))
    }

    @Test func outcomesRoundTripTheNativeProtocol() {
        let e = WireEvent.outcomes(OutcomeCount(ts: 12.5, endpoint: "resize", kind: .function, outcome: .timeout, count: 4))
        #expect(NativeDecoder().decode(NativeEncoder.encode(e)) == .success(e))
        let cold = WireEvent.outcomes(OutcomeCount(ts: 3, endpoint: "orders-fn", kind: .function, outcome: .ok, count: 0, coldStarts: 2))
        #expect(NativeDecoder().decode(NativeEncoder.encode(cold)) == .success(cold), "cold starts survive a recording")
        let untimed = WireEvent.outcomes(OutcomeCount(ts: 5, endpoint: "POST /book", kind: .route, outcome: .error, count: 2, untimed: true))
        #expect(NativeEncoder.encode(untimed).contains(#""untimed":true"#))
        #expect(NativeDecoder().decode(NativeEncoder.encode(untimed)) == .success(untimed), "untimed failures survive a recording")
        guard case .failure = NativeDecoder().decode(#"{"v":1,"type":"outcomes","ts":1,"endpoint":"x","outcome":"ok","count":0}"#) else {
            Issue.record("an outcomes event with nothing in it is malformed")
            return
        }
    }
}

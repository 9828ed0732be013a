import Testing
@testable import BFFTopWire

@Suite struct NativeDecoderTests {
    let decoder = NativeDecoder()

    func ok(_ line: String) throws -> WireEvent {
        switch decoder.decode(line) {
        case .success(let e): return e
        case .failure(let err): Issue.record("unexpected failure: \(err)"); throw err
        }
    }

    func fails(_ line: String) -> String? {
        if case .failure(let e) = decoder.decode(line) { return e.reason }
        return nil
    }

    @Test func routeExampleFromTheProtocol() throws {
        let e = try ok(#"{"v":1,"type":"invocation","ts":1732460000.123,"service":"web-bff","endpoint":"GET /api/feed","kind":"route","duration_ms":42.5,"outcome":"ok","status":200}"#)
        #expect(e == .invocation(Invocation(ts: 1732460000.123, service: "web-bff", endpoint: "GET /api/feed", kind: .route, durationMs: 42.5, outcome: .ok, status: 200)))
    }

    @Test func functionExampleDecodesEveryField() throws {
        let e = try ok(#"{"v":1,"type":"invocation","ts":1732460000.2,"service":"images","endpoint":"resize-image","kind":"function","duration_ms":812.3,"billed_ms":813,"memory_mb":512,"max_memory_mb":180,"cold_start":true,"init_ms":220.4,"outcome":"error","error":"Runtime.OutOfMemory","timeout_ms":3000,"trace_id":"t-81","parent":"GET /api/feed","arch":"arm64","id":"r-1","test":true}"#)
        guard case .invocation(let i) = e else { Issue.record("not an invocation"); return }
        #expect(i.ts == 1732460000.2)
        #expect(i.service == "images")
        #expect(i.endpoint == "resize-image")
        #expect(i.kind == .function)
        #expect(i.durationMs == 812.3)
        #expect(i.billedMs == 813)
        #expect(i.memoryMB == 512)
        #expect(i.maxMemoryMB == 180)
        #expect(i.coldStart)
        #expect(i.initMs == 220.4)
        #expect(i.outcome == .error)
        #expect(i.error == "Runtime.OutOfMemory")
        #expect(i.timeoutMs == 3000)
        #expect(i.traceID == "t-81")
        #expect(i.parent == "GET /api/feed")
        #expect(i.arch == .arm64)
        #expect(i.id == "r-1")
        #expect(i.test)
        #expect(abs(i.endTs - 1732460001.0123) < 1e-6)
    }

    @Test func defaultsOutcomeFromStatusAndKindToRoute() throws {
        guard case .invocation(let a) = try ok(#"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"status":503}"#),
              case .invocation(let b) = try ok(#"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"status":404}"#),
              case .invocation(let c) = try ok(#"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"init_ms":5}"#)
        else { Issue.record("not invocations"); return }
        #expect(a.outcome == .error)
        #expect(b.outcome == .ok)
        #expect(a.kind == .route)
        #expect(c.coldStart, "init_ms implies a cold start")
    }

    @Test func startAndConcurrencyEvents() throws {
        #expect(try ok(#"{"v":1,"type":"start","ts":5.5,"endpoint":"f","id":"abc"}"#) == .start(InFlightStart(ts: 5.5, endpoint: "f", id: "abc")))
        #expect(try ok(#"{"v":1,"type":"start","ts":5.5,"endpoint":"f","id":42}"#) == .start(InFlightStart(ts: 5.5, endpoint: "f", id: "42")))
        #expect(try ok(#"{"v":1,"type":"concurrency","ts":7,"endpoint":"f","value":12,"limit":100}"#) == .concurrency(ConcurrencyGauge(ts: 7, endpoint: "f", value: 12, limit: 100)))
    }

    @Test func unknownFieldsAreIgnoredWhateverTheirShape() throws {
        let e = try ok(#"{"v":1,"extra":{"a":[1,2,{"b":"}"}],"c":null},"type":"invocation","list":[true,false,null,-1.5e3,"x\"y"],"ts":1,"endpoint":"e","duration_ms":2}"#)
        #expect(e.endpoint == "e")
    }

    @Test func whitespaceEscapesAndUnicode() throws {
        let e = try ok(" { \"v\" : 1 , \"type\" : \"invocation\" , \"ts\" : 1 , \"endpoint\" : \"GET /caf\\u00e9/\\\"q\\\"\\ud83d\\ude00 ✓\" , \"duration_ms\" : 2 } \r")
        #expect(e.endpoint == "GET /café/\"q\"😀 ✓")
    }

    @Test func numbersAreExact() throws {
        // Every shape of number reads back exactly (the scanner every decoder uses); the decoders then
        // judge the range (a gauge over 1e9 is refused, see below).
        for text in ["1732460000.123", "0.1", "42.5", "1e3", "-0.0", "123456789012345678901234", "2.2250738585072014e-308", "0.30000000000000004", "9007199254740993"] {
            let bytes = Array(text.utf8)
            let token = try bytes.withUnsafeBytes { b throws(DecodeError) in
                var s = JSONScanner(b)
                return try s.scanValue(depth: 0)
            }
            guard case .number(let d) = token else {
                Issue.record("not a number: \(text)")
                continue
            }
            #expect(d == Double(text), "\(text)")
            #expect(d.sign == Double(text)?.sign, "\(text)")
        }
        #expect(fails(#"{"v":1,"type":"concurrency","ts":1,"endpoint":"e","value":1e300}"#) == "field \"value\" must be 0 … 1e9, got 1e+300")
        #expect(fails(#"{"v":1,"type":"concurrency","ts":1,"endpoint":"e","value":5,"limit":-1}"#) == "field \"limit\" must be 0 … 1e9, got -1")
    }

    @Test func malformedLinesSaySpecificallyWhy() {
        #expect(fails(#"{"type":"invocation","ts":1,"endpoint":"e","duration_ms":2}"#)?.contains("\"v\":1") == true)
        #expect(fails(#"{"v":2,"type":"invocation","ts":1,"endpoint":"e","duration_ms":2}"#)?.contains("version 2") == true)
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"e","duration_ms":"2"}"#) == "field \"duration_ms\" must be a number, got string")
        #expect(fails(#"{"v":1,"type":"invocation","ts":"now","endpoint":"e","duration_ms":2}"#) == "field \"ts\" must be a number, got string")
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":7,"duration_ms":2}"#) == "field \"endpoint\" must be a string, got number")
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"e","duration_ms":2,"cold_start":"yes"}"#) == "field \"cold_start\" must be true or false, got string")
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"duration_ms":2}"#) == "missing required field \"endpoint\"")
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"e"}"#) == "missing required field \"duration_ms\"")
        #expect(fails(#"{"v":1,"ts":1,"endpoint":"e","duration_ms":1}"#) == "missing required field \"type\"")
        #expect(fails(#"{"v":1,"type":"invocation","endpoint":"e","duration_ms":1}"#) == "missing required field \"ts\"")
        #expect(fails(#"{"v":1,"type":"bogus","ts":1,"endpoint":"e"}"#)?.contains("unknown event type \"bogus\"") == true)
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"e","duration_ms":1,"outcome":"meh"}"#)?.contains("outcome") == true)
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"e","duration_ms":1,"kind":"lambda"}"#)?.contains("kind") == true)
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"e","duration_ms":-1}"#) == "field \"duration_ms\" must be ≥ 0")
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"","duration_ms":1}"#) == "field \"endpoint\" must not be empty")
        #expect(fails(#"{"v":1,"type":"start","ts":1,"endpoint":"e"}"#)?.contains("\"id\"") == true)
        #expect(fails(#"{"v":1,"type":"concurrency","ts":1,"endpoint":"e"}"#)?.contains("\"value\"") == true)
        #expect(fails("not json at all")?.contains("'{'") == true)
        #expect(fails("") != nil)
        #expect(fails("[1,2]") != nil)
        #expect(fails(#"{"v":1,"type":"invocation"} trailing"#)?.contains("after the JSON value") == true)
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"e","duration_ms":1,}"#) != nil)
        #expect(fails(#"{"v":01x}"#) != nil)
    }

    /// Figures past `WireLimits` are refused with the reason: they would otherwise overflow the
    /// whole-second clock (a duration of 1e308 ms crashed replay and report before this check).
    @Test func implausibleTimesAndFiguresAreRefusedWithTheReason() {
        #expect(fails(#"{"v":1,"type":"invocation","ts":1732460000123,"endpoint":"e","duration_ms":1}"#)?.contains("milliseconds?") == true)
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"e","duration_ms":1e308}"#) == "field \"duration_ms\" must be at most 1e10, got 1e+308")
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"e","duration_ms":1,"init_ms":2e10}"#)?.contains("init_ms") == true)
        #expect(fails(#"{"v":1,"type":"invocation","ts":1,"endpoint":"e","duration_ms":1,"memory_mb":1e300}"#)?.contains("memory_mb") == true)
        #expect(fails(#"{"v":1,"type":"start","ts":1e300,"endpoint":"e","id":"x"}"#)?.contains("Unix seconds") == true)
        let line = Array(#"{"rt":1e300,"v":1,"type":"invocation","ts":1,"endpoint":"e","duration_ms":1}"#.utf8)
        let rt = line.withUnsafeBytes { b in Result { () throws(DecodeError) in try decoder.decodeRecordingLine(b) } }
        guard case .failure(let e) = rt else { Issue.record("an rt of 1e300 was accepted"); return }
        #expect(e.reason.contains("\"rt\""))
        // The limits themselves are accepted.
        #expect(fails(#"{"v":1,"type":"invocation","ts":99999999999,"endpoint":"e","duration_ms":1e10}"#) == nil)
    }

    @Test func aLineCutByADisconnectIsMalformedNotACrash() {
        let full = #"{"v":1,"type":"invocation","ts":1732460000.2,"endpoint":"resize-image","kind":"function","duration_ms":812.3,"error":"x\u00e9"}"#
        let bytes = Array(full.utf8)
        for cut in 0..<bytes.count {
            let prefix = Array(bytes[0..<cut])
            let r = prefix.withUnsafeBytes { decoder.decode($0) }
            if case .success = r { Issue.record("a prefix of \(cut) bytes decoded") }
        }
    }

    @Test func invalidUTF8IsMalformed() {
        var bytes = Array(#"{"v":1,"type":"invocation","ts":1,"endpoint":"ab"#.utf8)
        bytes += [0xC3, 0x28]  // invalid 2-byte sequence
        bytes += Array(#"","duration_ms":2}"#.utf8)
        let r = bytes.withUnsafeBytes { decoder.decode($0) }
        guard case .failure(let e) = r else { Issue.record("decoded invalid UTF-8"); return }
        #expect(e.reason.contains("UTF-8"))
        var lone = Array(#"{"v":1,"type":"invocation","ts":1,"endpoint":"x","error":""#.utf8)
        lone += [0xFF]
        lone += Array(#"","duration_ms":2}"#.utf8)
        #expect(lone.withUnsafeBytes { decoder.decode($0) }.isFailure)
    }

    @Test func aOneMegabyteLineDecodes() throws {
        let blob = String(repeating: "x", count: 1_000_000)
        let e = try ok(#"{"v":1,"type":"invocation","ts":1,"endpoint":"big","duration_ms":2,"blob":""# + blob + #"","error":""# + blob + #""}"#)
        guard case .invocation(let i) = e else { return }
        #expect(i.error?.count == 1_000_000)
    }

    @Test func deepNestingIsRefusedNotStackOverflowed() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(fails(#"{"v":1,"x":"# + deep) != nil)
    }

    @Test func encoderRoundTrips() throws {
        var rng = SplitMix(seed: 7)
        for n in 0..<500 {
            let outcome = Outcome.allCases[Int(rng.next() % 4)]
            let inv = Invocation(
                ts: 1_700_000_000 + Double(rng.next() % 10_000_000) / 1000, service: n % 3 == 0 ? nil : "svc-\(n % 5)",
                endpoint: "GET /api/\(n % 7)/\"q\"\\é", kind: n % 2 == 0 ? .route : .function,
                durationMs: Double(rng.next() % 100_000) / 100, billedMs: n % 4 == 0 ? Double(n) : nil,
                memoryMB: n % 2 == 0 ? 512 : nil, maxMemoryMB: n % 5 == 0 ? 99.5 : nil, coldStart: n % 6 == 0,
                initMs: n % 6 == 0 ? 123.25 : nil, outcome: outcome, status: n % 3 == 0 ? 200 + n % 300 : nil,
                error: outcome == .ok ? nil : "boom\n\tline", timeoutMs: 3000, traceID: "t-\(n)", parent: n % 2 == 1 ? "GET /p" : nil,
                arch: n % 3 == 0 ? .arm64 : nil, id: "id\(n)", test: n % 10 == 0)
            for e in [WireEvent.invocation(inv), .start(InFlightStart(ts: 3.25, endpoint: "e\(n)", id: "i\(n)", kind: .function)),
                      .concurrency(ConcurrencyGauge(ts: 9, endpoint: "c", value: Double(n), limit: n % 2 == 0 ? 50 : nil))] {
                #expect(try ok(NativeEncoder.encode(e)) == e)
            }
        }
    }
}

extension Result {
    var isFailure: Bool { if case .failure = self { true } else { false } }
}

/// Deterministic PRNG for tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

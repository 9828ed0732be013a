import BFFTopEngine
import BFFTopIngest
import BFFTopWire
import Testing

/// The socket's line decoder reads successful invocations by the fast path; every event must be
/// exactly the general decoder's, field for field (the recorder writes what it gets), whatever the
/// line carries.
@Suite struct LineDecoderTests {
    @Test func everyLineGivesTheGeneralDecodersEvent() {
        let lines = [
            #"{"v":1,"type":"invocation","ts":1732460000.25,"service":"bff","endpoint":"GET /api/slots","kind":"route","duration_ms":41.5,"outcome":"ok","status":200}"#,
            #"{"v":1,"type":"invocation","ts":1732460000.3,"endpoint":"book-slot","kind":"function","duration_ms":812.25,"billed_ms":813,"memory_mb":512,"max_memory_mb":201,"cold_start":true,"init_ms":333.1,"outcome":"ok","parent":"POST /api/book","arch":"arm64","id":"req-7"}"#,
            #"{"v":1,"type":"invocation","ts":1732460000.4,"endpoint":"GET /a","duration_ms":3,"outcome":"ok","status":204,"trace_id":"1-5759e988-bd862e3fe1be46a994272793"}"#,
            #"{"v":1,"type":"invocation","ts":1732460000.5,"endpoint":"GET /a","duration_ms":3,"outcome":"ok","error":"retried once"}"#,
            #"{"v":1,"type":"invocation","ts":1732460000.6,"endpoint":"GET /a","duration_ms":3,"outcome":"ok","error":null,"trace_id":null,"test":true}"#,
            #"{"v":1,"type":"invocation","ts":1732460000.7,"endpoint":"POST /api/book","duration_ms":30000,"outcome":"timeout","error":"Task timed out after 30.00 seconds"}"#,
            #"{"v":1,"type":"start","ts":1732460000.8,"endpoint":"book-slot","id":"req-8"}"#,
            #"{ "endpoint" : "GET /b", "v" : 1, "type" : "invocation", "ts" : 1732460001, "duration_ms" : 1.5 }"#,
            #"{"v":1,"type":"invocation","ts":1732460000.9,"endpoint":"","duration_ms":3}"#,
            #"{"v":1,"type":"invocation","ts":"soon","endpoint":"GET /a","duration_ms":3}"#,
        ]
        var d = LineDecoder()
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        let used = text.withUnsafeBytes { d.consume($0) }
        #expect(used == text.count)
        let got = d.take()
        let general = NativeDecoder()
        let expected = lines.compactMap { line -> WireEvent? in
            if case .success(let e) = general.decode(line) { return e }
            return nil
        }
        #expect(got.events == expected)
        #expect(got.malformed.count == lines.count - expected.count)
        #expect(got.lines == lines.count)
        // The trace id and the error text of successful invocations survive (they are recorded).
        #expect(got.events.contains { if case .invocation(let i) = $0 { i.traceID?.hasPrefix("1-5759") == true } else { false } })
        #expect(got.events.contains { if case .invocation(let i) = $0 { i.error == "retried once" } else { false } })
    }

    /// Names are interned per connection up to a bound; past it, lines still decode (generally).
    @Test func manyDistinctNamesStillDecode() {
        var d = LineDecoder()
        var text = ""
        for i in 0..<5000 {
            text += #"{"v":1,"type":"invocation","ts":1732460000,"endpoint":"GET /r/\#(i)","duration_ms":1,"outcome":"ok"}"# + "\n"
        }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { d.consume($0) }
        let got = d.take()
        #expect(got.events.count == 5000)
        #expect(got.malformed.isEmpty)
        if case .invocation(let last) = got.events.last { #expect(last.endpoint == "GET /r/4999") } else { Issue.record("not an invocation") }
    }
}

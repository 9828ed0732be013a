import Testing
@testable import BFFTopWire

@Suite struct TelemetryDecoderTests {
    func decode(_ d: inout TelemetryDecoder, _ s: String) -> TelemetryDecoder.Line {
        var copy = s
        return copy.withUTF8 { d.decode(UnsafeRawBufferPointer($0), defaultFunction: "fn") }
    }

    @Test func reportBecomesAnInvocationNamedByInitStart() throws {
        var d = TelemetryDecoder()
        let start = #"{"time":"2022-10-12T00:00:15.064Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","runtimeVersion":"nodejs-14.v3","runtimeVersionArn":"arn","functionName":"myFunction","functionVersion":"$LATEST","instanceId":"82561ce0","instanceMaxMemory":256}}"#
        #expect(decode(&d, start) == .other)
        let report = #"{"time":"2022-10-12T00:01:15.000Z","type":"platform.report","record":{"metrics":{"billedDurationMs":694,"durationMs":693.92,"initDurationMs":397.68,"maxMemoryUsedMB":84,"memorySizeMB":128},"requestId":"6d68ca91","status":"success","tracing":{"spanId":"54565fb41ac79632","type":"X-Amzn-Trace-Id","value":"Root=1-62e900b2-710d76f009d6e7785905449a;Parent=0efbd19962d95b05;Sampled=1"}}}"#
        guard case .events(let invs) = decode(&d, report), let i = invs.first else { Issue.record("no invocation"); return }
        #expect(i.endpoint == "myFunction")
        #expect(i.durationMs == 693.92)
        #expect(i.billedMs == 694)
        #expect(i.memoryMB == 128)
        #expect(i.maxMemoryMB == 84)
        #expect(i.coldStart)
        #expect(i.initMs == 397.68)
        #expect(i.outcome == .ok)
        #expect(i.id == "6d68ca91")
        #expect(i.traceID?.hasPrefix("Root=1-62e900b2") == true)
        #expect(abs(i.endTs - 1_665_532_875.0) < 1e-6)
    }

    @Test func batchOfReports() {
        var d = TelemetryDecoder()
        var batch: [String] = []
        for i in 20..<23 {
            batch.append(#"{"time":"2024-11-24T10:00:\#(i).000Z","type":"platform.report","record":{"requestId":"r\#(i)","status":"success","metrics":{"durationMs":\#(10 + i),"billedDurationMs":\#(10 + i),"memorySizeMB":256,"maxMemoryUsedMB":80}}}"#)
        }
        let r = decode(&d, "[" + batch.joined(separator: ",") + "]")
        guard case .events(let invs) = r else { Issue.record("got \(r)"); return }
        #expect(invs.count == 3)
    }

    @Test func batchesTimeoutsAndOtherTypes() {
        var d = TelemetryDecoder()
        let batch = #"[{"time":"2024-01-01T00:00:01.000Z","type":"platform.start","record":{"requestId":"a"}},{"time":"2024-01-01T00:00:04.000Z","type":"platform.report","record":{"requestId":"a","status":"timeout","metrics":{"durationMs":3000,"billedDurationMs":3000,"memorySizeMB":512,"maxMemoryUsedMB":90}}},{"time":"2024-01-01T00:00:05.000Z","type":"platform.report","record":{"requestId":"b","status":"error","errorType":"Runtime.ExitError","metrics":{"durationMs":12.5,"billedDurationMs":13,"memorySizeMB":512,"maxMemoryUsedMB":90}}},{"time":"2024-01-01T00:00:05.000Z","type":"function","record":"hello"}]"#
        guard case .events(let invs) = decode(&d, batch) else { Issue.record("no events"); return }
        #expect(invs.count == 2)
        #expect(invs[0].outcome == .timeout)
        #expect(invs[0].endpoint == "fn")
        #expect(invs[1].outcome == .error)
        #expect(invs[1].error == "Runtime.ExitError")
        #expect(decode(&d, #"{"time":"2024-01-01T00:00:01.000Z","type":"platform.runtimeDone","record":{"requestId":"a","status":"success"}}"#) == .other)
        #expect(decode(&d, #"{"v":1,"type":"invocation"}"#) == .notTelemetry)
        #expect(decode(&d, "[1,2]") == .notTelemetry)
    }
}

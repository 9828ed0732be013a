import Testing
@testable import BFFTopWire

/// Fixtures as the real tools print them (aws logs tail, sam logs, awslogs, serverless logs,
/// aws logs get-log-events / filter-log-events, subscription payloads).
@Suite struct FunctionLogDecoderTests {
    let idA = "4ce9340a-b765-490f-ad8a-02ab3415e2bf"
    let idB = "13222b1e-f16b-4550-89df-869ab0a9806d"

    func decodeAll(_ text: String, format: FunctionLogDecoder.Format = .auto, function: String = "fn",
                   clock: (() -> Double)? = nil) -> (invocations: [Invocation], other: Int, unrecognised: Int) {
        var d = FunctionLogDecoder(format: format, defaultFunction: function, clock: clock)
        var out: [Invocation] = []
        var other = 0, bad = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var s = String(line)
            switch s.withUTF8({ d.decode(UnsafeRawBufferPointer($0)) }) {
            case .invocations(let i): out += i
            case .events(let e): out += e.compactMap { if case .invocation(let i) = $0 { return i }; return nil }
            case .other: other += 1
            case .unrecognised: bad += 1
            }
        }
        return (out, other, bad)
    }

    /// A garbled figure is dropped with its line (counted as unrecognised), never aggregated.
    @Test func reportsWithImplausibleFiguresAreUnrecognised() {
        let log = """
            2024-03-01T10:00:14 REPORT RequestId: \(idA)\tDuration: 99999999999999.5 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t
            2024-03-01T10:00:15 REPORT RequestId: \(idB)\tDuration: 10.00 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t
            """
        let r = decodeAll(log)
        #expect(r.invocations.map(\.durationMs) == [10])
        #expect(r.unrecognised == 1)
    }

    @Test func awsLogsTailDetailedWithTaskTimedOutAndOutOfMemoryLines() throws {
        let s1 = "2024/03/01/[$LATEST]c23dcbedb2244aea9a3189ab2bf5c790"
        let s2 = "2024/03/01/[$LATEST]99999999b2244aea9a3189ab2bf5c790"
        let log = """
            2024-03-01T10:00:00.000000+00:00 \(s1) START RequestId: \(idA) Version: $LATEST
            2024-03-01T10:00:00.100000+00:00 \(s2) START RequestId: \(idB) Version: $LATEST
            2024-03-01T10:00:01.000000+00:00 \(s2) <--- Last few GCs --->  FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory
            2024-03-01T10:00:03.010000+00:00 \(s1) 2024-03-01T10:00:03.010Z \(idA) Task timed out after 3.01 seconds
            2024-03-01T10:00:03.020000+00:00 \(s1) END RequestId: \(idA)
            2024-03-01T10:00:03.020000+00:00 \(s1) REPORT RequestId: \(idA)\tDuration: 3005.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB\t
            2024-03-01T10:00:03.500000+00:00 \(s2) REPORT RequestId: \(idB)\tDuration: 1200.00 ms\tBilled Duration: 1200 ms\tMemory Size: 512 MB\tMax Memory Used: 300 MB\t
            XRAY TraceId: 1-677faf89-09a6b95269c6e56c4d1ab356\tSegmentId: 7e44b09386b9ab35\tSampled: true
            """
        let r = decodeAll(log)
        #expect(r.invocations.count == 2)
        #expect(r.unrecognised == 0)
        let a = try #require(r.invocations.first)
        #expect(a.outcome == .timeout)
        #expect(a.error == "Task timed out after 3.01 seconds")
        #expect(abs(a.endTs - 1_709_287_203.02) < 1e-6)
        let b = try #require(r.invocations.last)
        #expect(b.outcome == .error)
        #expect(b.error == "out of memory: JavaScript heap out of memory")
        #expect(b.memoryMB == 512)
    }

    @Test func initReportFailuresMarkTheNextReportOfTheirStream() throws {
        let log = """
            2024-03-01T10:00:00 INIT_START Runtime Version: nodejs:20.v22\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:abc
            2024-03-01T10:00:10 INIT_REPORT Init Duration: 10009.13 ms Phase: init Status: timeout
            2024-03-01T10:00:10 START RequestId: \(idA) Version: $LATEST
            2024-03-01T10:00:14 INIT_REPORT Init Duration: 3000.45 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.ImportModuleError
            2024-03-01T10:00:14 REPORT RequestId: \(idA)\tDuration: 3001.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t
            2024-03-01T10:00:20 INIT_REPORT Init Duration: 13316.04 ms
            2024-03-01T10:00:21 REPORT RequestId: \(idB)\tDuration: 10.00 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 50 MB\t
            """
        let r = decodeAll(log)
        #expect(r.invocations.count == 2)
        let a = try #require(r.invocations.first)
        #expect(a.coldStart)
        #expect(a.initMs == 3000.45)
        #expect(a.outcome == .error)
        #expect(a.error == "init error: Runtime.ImportModuleError (phase invoke)")
        #expect(FunctionLogDecoder.initReport("Init Duration: 10009.13 ms Phase: init Status: timeout").status == "timeout")
        // A successful INIT_REPORT (SnapStart publish) marks nothing.
        let b = try #require(r.invocations.last)
        #expect(!b.coldStart)
        #expect(b.outcome == .ok)
    }

    @Test func samLogsAndShortFormat() throws {
        let log = """
            2023/07/05/[56]374cd7798d2a4e36a494a23d658b9741 2023-07-05T10:16:34.686000 REPORT RequestId: \(idA)\tDuration: 306.34 ms\tBilled Duration: 610 ms\tMemory Size: 3009 MB\tMax Memory Used: 155 MB\tRestore Duration: 511.25 ms\tBilled Restore Duration: 303 ms\t
            2023-07-05T10:16:35 REPORT RequestId: \(idB)\tDuration: 5.00 ms\tBilled Duration: 5 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB
            """
        let r = decodeAll(log)
        #expect(r.invocations.count == 2)
        #expect(r.invocations[0].coldStart)
        #expect(r.invocations[0].billedMs == 913)
        #expect(r.invocations[1].endTs == 1_688_552_195)
    }

    @Test func awslogsGetNamesTheFunctionFromTheLogGroup() throws {
        let log = """
            /aws/lambda/checkout-api 2024/03/01/[$LATEST]c23dcbedb2244aea9a3189ab2bf5c790 2024-03-01T10:00:00.500000 2024-03-01T10:00:01.000000 REPORT RequestId: \(idA)\tDuration: 12.00 ms\tBilled Duration: 12 ms\tMemory Size: 256 MB\tMax Memory Used: 70 MB
            /aws/lambda/checkout-api    2024/03/01/[$LATEST]c23dcbedb2244aea9a3189ab2bf5c790    REPORT RequestId: \(idB)\tDuration: 8.00 ms\tBilled Duration: 8 ms\tMemory Size: 256 MB\tMax Memory Used: 70 MB
            """
        let r = decodeAll(log)
        #expect(r.invocations.map(\.endpoint) == ["checkout-api", "checkout-api"])
        #expect(r.invocations.first?.endTs == 1_709_287_200.5)
        // No time of its own: placed at the last time seen.
        #expect(r.invocations.last?.endTs == 1_709_287_200.5)
    }

    @Test func serverlessLogsSplitsReportOverTwoLines() throws {
        let log = """
            START - \(idA) - Version: $LATEST
            2024-03-01 10:00:00.250 - \(idA) - INFO\t
            hello from the handler
            END - \(idA)
            REPORT - \(idA)
            Duration: 42.50 ms\tBilled Duration: 43 ms\tMemory Size: 1024 MB\tMax Memory Used: 90 MB\tInit Duration: 180.00 ms\t
            """
        let r = decodeAll(log, function: "hello")
        let inv = try #require(r.invocations.first)
        #expect(r.invocations.count == 1)
        #expect(inv.endpoint == "hello")
        #expect(inv.durationMs == 42.5)
        #expect(inv.billedMs == 43)
        #expect(inv.coldStart)
        #expect(inv.endTs == 1_709_287_200.25)
        // Live (forward): a REPORT with no time anywhere is stamped by the clock; replay drops it.
        let live = decodeAll("REPORT RequestId: \(idA)\tDuration: 1.00 ms", clock: { 42 })
        #expect(live.invocations.first?.endTs == 42)
        #expect(decodeAll("REPORT RequestId: \(idA)\tDuration: 1.00 ms").invocations.isEmpty)
    }

    @Test func getLogEventsPrettyPrinted() throws {
        let log = """
            {
                "events": [
                    {
                        "timestamp": 1709287200000,
                        "message": "START RequestId: \(idA) Version: $LATEST\\n",
                        "ingestionTime": 1709287201000
                    },
                    {
                        "timestamp": 1709287200500,
                        "message": "REPORT RequestId: \(idA)\\tDuration: 1776.81 ms\\tBilled Duration: 1777 ms\\tMemory Size: 256 MB\\tMax Memory Used: 131 MB\\tInit Duration: 1987.45 ms\\t\\nXRAY TraceId: 1-677faf89-09a6b95269c6e56c4d1ab356\\tSegmentId: 7e44b09386b9ab35\\tSampled: true\\t\\n",
                        "ingestionTime": 1709287201000
                    }
                ],
                "nextForwardToken": "f/3827",
                "nextBackwardToken": "b/3826"
            }
            """
        let r = decodeAll(log)
        #expect(r.unrecognised == 0)
        let inv = try #require(r.invocations.first)
        #expect(r.invocations.count == 1)
        #expect(inv.endTs == 1_709_287_200.5)
        #expect(inv.coldStart)
        #expect(inv.initMs == 1987.45)
        #expect(inv.traceID == "1-677faf89-09a6b95269c6e56c4d1ab356")
    }

    @Test func filterLogEventsCompactAndSubscriptionPayload() throws {
        let events = (0..<3).map { i in
            #"{"logStreamName":"2024/03/01/[$LATEST]abcdef0123456789abcdef0123456789","timestamp":\#(1_709_287_200_000 + i * 1000),"message":"REPORT RequestId: \#(idA)\tDuration: \#(10 * (i + 1)).00 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\n","ingestionTime":1,"eventId":"\#(i)"}"#
        }
        let compact = #"{"events":[\#(events.joined(separator: ","))],"searchedLogStreams":[]}"#
        let r = decodeAll(compact)
        #expect(r.invocations.map(\.durationMs) == [10, 20, 30])
        #expect(r.invocations.map(\.endTs) == [1_709_287_200, 1_709_287_201, 1_709_287_202])

        let sub = #"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/orders","logStream":"2024/03/01/[$LATEST]abc","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1709287200000,"message":"REPORT RequestId: \#(idB)\tDuration: 5.00 ms\tBilled Duration: 5 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB"}]}"#
        let s = decodeAll(sub)
        #expect(s.invocations.map(\.endpoint) == ["orders"])
    }

    @Test func jsonLogFormatMessagesAndApplicationJSON() throws {
        // CloudWatch event whose message is a Telemetry-shaped record (Lambda's JSON log format).
        let report = #"{\"time\":\"2024-03-01T10:00:00.000Z\",\"type\":\"platform.report\",\"record\":{\"requestId\":\"\#(idA)\",\"metrics\":{\"durationMs\":20.5,\"billedDurationMs\":21,\"memorySizeMB\":128,\"maxMemoryUsedMB\":60},\"status\":\"success\"}}"#
        let r = decodeAll(#"{"timestamp":1709287200000,"message":"\#(report)"}"#)
        #expect(r.invocations.first?.durationMs == 20.5)
        // An application's JSON log line with an OOM error marks its request's REPORT.
        let log = """
            {"timestamp":"2024-03-01T10:00:00Z","level":"ERROR","requestId":"\(idB)","message":"java.lang.OutOfMemoryError: Java heap space"}
            2024-03-01T10:00:01Z REPORT RequestId: \(idB)\tDuration: 900.00 ms\tBilled Duration: 900 ms\tMemory Size: 512 MB\tMax Memory Used: 400 MB
            """
        let oom = decodeAll(log)
        #expect(oom.invocations.first?.outcome == .error)
        #expect(oom.invocations.first?.error == "out of memory: java.lang.OutOfMemoryError")
    }

    @Test func unrecognisedInputAndForcedFormats() {
        #expect(decodeAll(#"{"hello":"world"}"#).unrecognised == 1)
        #expect(decodeAll("{\n}\n],").unrecognised == 0)
        let report = "REPORT RequestId: \(idA)\tDuration: 1.00 ms"
        #expect(decodeAll(report, format: .telemetry, clock: { 1 }).unrecognised == 1)
        #expect(decodeAll(report, format: .text, clock: { 1 }).invocations.count == 1)
        #expect(decodeAll(#"{"timestamp":1,"message":"x"}"#, format: .text).unrecognised == 1)
    }
}

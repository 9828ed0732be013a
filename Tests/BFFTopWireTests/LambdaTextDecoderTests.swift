import Testing
@testable import BFFTopWire

@Suite struct LambdaTextDecoderTests {
    func report(_ line: String) -> (Invocation, Bool)? {
        if case .report(let i, let hasTime) = LambdaTextDecoder.decode(Substring(line), function: "fn") { return (i, hasTime) }
        return nil
    }

    @Test func officialReportLine() throws {
        let r = try #require(report("REPORT RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac\tDuration: 128.83 ms\tBilled Duration: 200 ms\tMemory Size: 128 MB\tMax Memory Used: 74 MB\tInit Duration: 166.62 ms\tXRAY TraceId: 1-5d9d007f-0a8c7fd02xmpl480aed55ef0\tSegmentId: 3d752xmpl1bbe37e\tSampled: true"))
        #expect(r.0.durationMs == 128.83)
        #expect(r.0.billedMs == 200)
        #expect(r.0.memoryMB == 128)
        #expect(r.0.maxMemoryMB == 74)
        #expect(r.0.coldStart)
        #expect(r.0.initMs == 166.62)
        #expect(r.0.traceID == "1-5d9d007f-0a8c7fd02xmpl480aed55ef0")
        #expect(r.0.id == "c793869b-ee49-115b-a5b6-4fd21e8dedac")
        #expect(r.0.endpoint == "fn")
        #expect(r.0.kind == .function)
        #expect(r.0.outcome == .ok)
        #expect(!r.1)
    }

    @Test func timeoutSnapStartStrayWhitespaceAndUnknownKeys() throws {
        let t = try #require(report("REPORT RequestId: 13222b1e\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 1024 MB\tMax Memory Used: 64 MB\tStatus: timeout"))
        #expect(t.0.outcome == .timeout)
        #expect(!t.0.coldStart)
        let s = try #require(report("REPORT RequestId: b771fecc\tDuration: 306.34 ms\tBilled Duration: 610 ms\tMemory Size: 3009 MB\tMax Memory Used: 155 MB\tRestore Duration: 511.25 ms\tBilled Restore Duration: 303 ms\t"))
        #expect(s.0.coldStart)
        #expect(s.0.initMs == 511.25)
        #expect(s.0.billedMs == 913)
        let w = try #require(report("REPORT RequestId: 4ce9340a\tDuration: 26.73 ms\tBilled Duration: 27 ms \tMemory Size: 128 MB\tMax Memory Used: 75 MB\tFuture Key: 9 ms\t"))
        #expect(w.0.billedMs == 27)
        let oom = try #require(report("REPORT RequestId: x\tDuration: 26.73 ms\tBilled Duration: 27 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB"))
        #expect(oom.0.outcome == .error)
        #expect(oom.0.error?.contains("OutOfMemory") == true)
    }

    @Test func toolPrefixesAreStrippedAndGiveTheTime() throws {
        let tail = try #require(report("2023-04-05T02:44:42.023000+00:00 2023/04/05/[$LATEST]c23dcbedb2244aea9a3189ab2bf5c790 REPORT RequestId: 10fc\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 128 MB\tMax Memory Used: 75 MB"))
        #expect(tail.1)
        #expect(abs(tail.0.ts - (1_680_662_682.023 - 1.0)) < 1e-6)
        let short = try #require(report("2023-04-05T02:44:42 REPORT RequestId: 10fc\tDuration: 10 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 75 MB"))
        #expect(abs(short.0.endTs - 1_680_662_682) < 1e-6)
        let sam = try #require(report("2023/07/05/[56]374cd7798d2a4e36a494a23d658b9741 2023-07-05T10:16:34.686000 REPORT RequestId: b7\tDuration: 306.34 ms\tBilled Duration: 610 ms\tMemory Size: 3009 MB\tMax Memory Used: 155 MB"))
        #expect(sam.1)
        #expect(abs(sam.0.endTs - 1_688_552_194.686) < 1e-6)
        #expect(LambdaTextDecoder.decode("START RequestId: c79 Version: $LATEST", function: "fn") == .other)
        #expect(LambdaTextDecoder.decode("2019-06-07T19:11:20.562Z\tc79\tINFO\thello", function: "fn") == .other)
    }

    @Test func iso8601() {
        #expect(LambdaTextDecoder.parseISO8601("1970-01-01T00:00:00Z") == 0)
        #expect(LambdaTextDecoder.parseISO8601("2024-02-29T12:00:00.5+02:00") == 1_709_200_800.5)
        #expect(LambdaTextDecoder.parseISO8601("2024-13-01T00:00:00Z") == nil)
        #expect(LambdaTextDecoder.parseISO8601("not a time") == nil)
    }
}

import Foundation
import OTLPProtoGenerated
import SwiftProtobuf
import Testing
@testable import BFFTopWire

/// OTLP logs: the reader against swift-protobuf (random and corrupted exports), JSON ≡ protobuf,
/// and records read as the function log lines they carry.
@Suite struct OTLPLogsTests {
    typealias Rng = OTLPProtobufOracleTests.Rng
    typealias Req = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest

    static func request(_ r: inout Rng) -> Req {
        var req = Req()
        for _ in 0..<Int.random(in: 0..<3, using: &r) {
            var rl = Opentelemetry_Proto_Logs_V1_ResourceLogs()
            rl.resource.attributes = OTLPProtobufOracleTests.attributes(&r)
            for _ in 0..<Int.random(in: 0..<3, using: &r) {
                var sl = Opentelemetry_Proto_Logs_V1_ScopeLogs()
                for _ in 0..<Int.random(in: 0..<5, using: &r) {
                    var l = Opentelemetry_Proto_Logs_V1_LogRecord()
                    l.timeUnixNano = [1_765_000_000_000_000_000, 0].randomElement(using: &r)!
                    l.observedTimeUnixNano = 1_765_000_000_500_000_000
                    l.severityText = "INFO"
                    l.body = OTLPProtobufOracleTests.value(&r)
                    l.attributes = OTLPProtobufOracleTests.attributes(&r)
                    l.traceID = Data(repeating: 7, count: 16)
                    sl.logRecords.append(l)
                }
                rl.scopeLogs.append(sl)
            }
            req.resourceLogs.append(rl)
        }
        return req
    }

    static func expected(_ req: Req) -> [OTLPLogRecord] {
        req.resourceLogs.flatMap { $0.scopeLogs.flatMap(\.logRecords) }.map { l in
            let body: String? = if case .stringValue(let s)? = l.body.value { s } else { nil }
            return OTLPLogRecord(timeNs: l.timeUnixNano, observedNs: l.observedTimeUnixNano, body: body)
        }
    }

    @Test func randomAndCorruptedExportsReadAsSwiftProtobufReadsThem() throws {
        var r = Rng(state: 5)
        var agreed = 0
        for k in 0..<3_000 {
            let req = Self.request(&r)
            var bytes = Array(try req.serializedData())
            if k < 1_000 {
                #expect(try OTLPProtobuf.logs(bytes).resources.flatMap(\.records) == Self.expected(req))
                #expect(try OTLPLogs.export(json: Array(try req.jsonString().utf8)).resources.flatMap(\.records) == Self.expected(req))
                continue
            }
            guard !bytes.isEmpty else { continue }
            let i = Int.random(in: 0..<bytes.count, using: &r)
            bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &r))
            let mine = try? OTLPProtobuf.logs(bytes)
            if let oracle = try? Req(serializedBytes: bytes) {
                #expect(mine?.resources.flatMap(\.records) == Self.expected(oracle))
                agreed += 1
            }
        }
        #expect(agreed > 150)
    }

    @Test func recordsAreReadAsTheFunctionsLogLines() {
        var export = OTLPLogsExport()
        var rl = OTLPResourceLogs()
        rl.resource[.faasName] = .string("slots-query")
        let t: UInt64 = 1_765_000_000_000_000_000
        rl.records = [
            OTLPLogRecord(timeNs: t, observedNs: t, body: "START RequestId: r1 Version: $LATEST"),
            OTLPLogRecord(timeNs: t, observedNs: t, body: "2025-12-06T05:46:40.000Z r1 Task timed out after 3.00 seconds"),
            OTLPLogRecord(timeNs: t + 1, observedNs: t, body: "REPORT RequestId: r1\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB"),
            OTLPLogRecord(timeNs: t + 2, observedNs: t, body: "REPORT RequestId: r2\tDuration: 12.5 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB\tInit Duration: 180.2 ms"),
            OTLPLogRecord(timeNs: t, observedNs: t, body: nil),
            OTLPLogRecord(timeNs: t, observedNs: t, body: "REPORT RequestId: r3\tDuration: lots ms"),
        ]
        export.resources = [rl]
        var logs = OTLPLogs()
        let d = logs.map(export)
        let invs = d.events.compactMap { if case .invocation(let i) = $0 { i } else { nil } }
        #expect(invs.map(\.endpoint) == ["slots-query", "slots-query"])
        #expect(invs.map(\.outcome) == [.timeout, .ok])
        #expect(invs.map(\.durationMs) == [3000, 12.5])
        #expect(invs[1].coldStart && invs[1].initMs == 180.2 && invs[1].memoryMB == 512)
        // The REPORT's time is the record's (the line has none of its own).
        #expect(abs(invs[1].endTs - Double(t + 2) / 1e9) < 1e-6)
        // START and the timeout line read (nothing to count), a record without text, a REPORT that cannot be read.
        #expect(d.records == 6 && d.skipped == 3 && d.rejected == 1)
        #expect(d.firstRejection?.contains("slots-query") == true)
    }
}

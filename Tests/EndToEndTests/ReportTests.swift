import BFFTopWire
import Foundation
import Testing

/// `bfftop report` is a plain command: run the real binary, parse its CSV, compare with ground
/// truth computed here from the events written.
@Suite struct ReportTests {
    let bin = TmuxDriver.binary

    @Test func csvFiguresMatchGroundTruth() throws {
        let file = "/tmp/bfftop-report-\(getpid()).ndjson"
        defer { unlink(file) }
        let t0 = 1_732_460_000.0
        var text = ""
        var durations: [Double] = []
        var cost = 0.0
        for i in 0..<500 {
            let d = Double((i * 37) % 400) + 0.5
            durations.append(d)
            cost += 0.0000002 + d.rounded(.up) / 1000 * 0.25 * 0.0000166667
            let cold = i % 50 == 0
            text += NativeEncoder.encode(.invocation(Invocation(
                ts: t0 + Double(i) * 0.1, endpoint: "thumbs", kind: .function, durationMs: d, memoryMB: 256,
                maxMemoryMB: 100, coldStart: cold, initMs: cold ? 200 : nil, outcome: i % 100 == 7 ? .timeout : .ok))) + "\n"
        }
        text += "an application log line\n" + #"{"v":1,"type":"invocation","ts":"oops"}"# + "\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try shell("\(bin) report \(file) --format csv")
        #expect(r.status == 0, "\(r.output)")
        let lines = r.output.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first, let row = lines.first(where: { $0.first == "thumbs" }) else {
            Issue.record("no thumbs row in \(r.output)")
            return
        }
        func col(_ name: String) -> String { header.firstIndex(of: name).map { row[$0] } ?? "" }
        let sorted = durations.sorted()
        func exact(_ q: Double) -> Double { sorted[max(1, Int((q * Double(sorted.count)).rounded(.up))) - 1] }
        #expect(col("count") == "500")
        #expect(col("timeouts") == "5")
        #expect(col("cold") == "10")
        for (name, q) in [("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)] {
            let got = Double(col(name)) ?? -1
            #expect(abs(got - exact(q)) / exact(q) <= 0.01, "\(name): \(got) vs \(exact(q))")
        }
        #expect(Double(col("max_ms")) == sorted.last)
        #expect(abs((Double(col("cost_usd")) ?? 0) - cost) < 1e-12)

        let table = try shell("\(bin) report \(file)")
        #expect(table.output.contains("1 malformed lines skipped, 1 other log lines"), "\(table.output)")
        let missing = try shell("\(bin) report /nonexistent/file.ndjson")
        #expect(missing.status != 0)
        #expect(missing.output.contains("cannot open /nonexistent/file.ndjson"))
    }
}

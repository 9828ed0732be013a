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
        let r = try shell("\(bin) report \(file) --format csv 2>/dev/null")
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
        #expect(abs((Double(col("cost_usd")) ?? 0) - cost) < 5e-9, "USD to the hundredth of a micro-dollar")
        // Plain numbers only: no fractions, units or float noise in a numeric CSV column.
        for (k, name) in header.enumerated() where !["endpoint", "kind", "service"].contains(name) {
            let cell = row[k]
            #expect(cell.isEmpty || cell.allSatisfy { $0.isNumber || $0 == "." || $0 == "-" }, "\(name): \(cell)")
            #expect(!cell.contains(".") || cell.split(separator: ".")[1].count <= 8, "\(name): \(cell)")
        }

        let table = try shell("\(bin) report \(file)")
        #expect(table.output.contains("1 malformed lines skipped, 1 other log lines"), "\(table.output)")
        let missing = try shell("\(bin) report /nonexistent/file.ndjson")
        #expect(missing.status != 0)
        #expect(missing.output.contains("cannot open /nonexistent/file.ndjson"))
    }

    /// A file that spans five hours: the report covers all of it unless a window is asked for.
    @Test func reportCoversTheWholeInputByDefault() throws {
        let file = "/tmp/bfftop-report-span-\(getpid()).ndjson"
        defer { unlink(file) }
        let t0 = 1_732_460_000.0
        var text = ""
        var lastHour: [Double] = []
        var all: [Double] = []
        for i in 0..<600 {  // one every 30 s for five hours
            let end = t0 + Double(i) * 30
            let d = Double(10 + (i * 7) % 90)
            all.append(d)
            if end > t0 + 599 * 30 - 3600 { lastHour.append(d) }
            text += NativeEncoder.encode(.invocation(Invocation(ts: end - d / 1000, endpoint: "GET /api/feed", durationMs: d, status: 200))) + "\n"
        }
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        func row(_ args: String) throws -> [String: String] {
            let r = try shell("\(bin) report \(file) --format csv \(args) 2>/dev/null")
            return reportRows(r.output)["GET /api/feed"] ?? [:]
        }
        let whole = try row("")
        #expect(whole["count"] == "600", "\(whole)")
        #expect(Double(whole["max_ms"] ?? "") == all.max())
        let sorted = all.sorted()
        let p50 = sorted[max(1, Int((0.5 * Double(sorted.count)).rounded(.up))) - 1]
        #expect(abs((Double(whole["p50_ms"] ?? "") ?? 0) - p50) / p50 <= 0.01, "\(whole)")
        #expect(abs((Double(whole["rps"] ?? "") ?? 0) - 600 / (599 * 30)) < 0.001, "rate over the five hours the file covers")
        let hour = try row("--window 1h")
        let n = Int(hour["count"] ?? "") ?? -1
        #expect(abs(n - lastHour.count) <= 2, "the last hour: \(n) vs \(lastHour.count)")
        let table = try shell("\(bin) report \(file)")
        #expect(table.output.contains("window: all of"), "\(table.output)")
        #expect(table.output.contains(" p50 ") && !table.output.contains("p50_ms"), "table headers match cells that carry their units")
    }

    /// `aws logs get-log-events` output as the CLI prints it (pretty JSON), with a `Task timed out`
    /// line marking an older REPORT that has no Status field.
    @Test func getLogEventsExportMatchesGroundTruth() throws {
        let file = "/tmp/bfftop-report-\(getpid()).json"
        defer { unlink(file) }
        let t0 = 1_732_460_000_000.0
        var events: [[String: Any]] = []
        var durations: [Double] = []
        for i in 0..<200 {
            let id = String(format: "%08x-0000-4000-8000-%012x", i, i)
            let d = Double((i * 53) % 900) + 0.25
            durations.append(d)
            let ts = t0 + Double(i) * 250
            events.append(["timestamp": ts, "message": "START RequestId: \(id) Version: $LATEST\n", "ingestionTime": ts])
            if i % 40 == 3 {
                events.append(["timestamp": ts + 1, "message": "2024-11-24T15:00:00.000Z \(id) Task timed out after 0.90 seconds\n", "ingestionTime": ts])
            }
            events.append(["timestamp": ts + 2, "message": "REPORT RequestId: \(id)\tDuration: \(d) ms\tBilled Duration: \(Int(d.rounded(.up))) ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t\(i % 25 == 0 ? "Init Duration: 150.00 ms\t" : "")\n", "ingestionTime": ts])
        }
        let doc: [String: Any] = ["events": events, "nextForwardToken": "f/1", "nextBackwardToken": "b/1"]
        try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: file))
        let r = try shell("\(bin) report \(file) --format csv --function orders 2>/dev/null")
        #expect(r.status == 0, "\(r.output)")
        let lines = r.output.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first, let row = lines.first(where: { $0.first == "orders" }) else {
            Issue.record("no orders row in \(r.output)")
            return
        }
        func col(_ name: String) -> String { header.firstIndex(of: name).map { row[$0] } ?? "" }
        let sorted = durations.sorted()
        #expect(col("count") == "200")
        #expect(col("timeouts") == "5")
        #expect(col("cold") == "8")
        let p99 = sorted[Int((0.99 * 200).rounded(.up)) - 1]
        #expect(abs((Double(col("p99_ms")) ?? -1) - p99) / p99 <= 0.01)
        #expect(Double(col("max_ms")) == sorted.last)
    }
}

/// EMF as the real aws-embedded-metrics library writes it, plus Powertools' separate ColdStart blob,
/// read back by `bfftop report` and compared with what was put in.
@Suite struct EMFReportTests {
    let bin = TmuxDriver.binary

    static let generator = #"""
    import json, sys
    from aws_embedded_metrics.logger.metrics_context import MetricsContext
    from aws_embedded_metrics.serializers.log_serializer import LogSerializer
    out = open(sys.argv[1], "w")
    for i in range(300):
        ctx = MetricsContext.empty()
        ctx.namespace = "bfftop-test"
        ctx.set_dimensions([{"function_name": "orders-fn"}])
        ctx.put_metric("Latency", 3 + (i * 41) % 700, "Milliseconds")
        if i % 30 == 0: ctx.put_metric("Errors", 1, "Count")
        for line in LogSerializer.serialize(ctx): out.write(line + "\n")
    # Powertools for AWS Lambda: ColdStart in a blob of its own
    for i in range(4):
        out.write(json.dumps({"_aws": {"Timestamp": 1700000000000 + i, "CloudWatchMetrics": [{"Namespace": "ServerlessAirline",
            "Dimensions": [["function_name", "service"]], "Metrics": [{"Name": "ColdStart", "Unit": "Count"}]}]},
            "function_name": "orders-fn", "service": "booking", "ColdStart": [1.0]}) + "\n")
    out.close()
    """#

    @Test func awsEmbeddedMetricsAndPowertoolsLines() throws {
        guard (try shell("python3 -c 'import aws_embedded_metrics'")).status == 0 else {
            Issue.record("the aws-embedded-metrics Python package is required (pip install aws-embedded-metrics)")
            return
        }
        let file = "/tmp/bfftop-emf-\(getpid()).log", script = "/tmp/bfftop-emf-\(getpid()).py"
        defer { unlink(file); unlink(script) }
        try Self.generator.write(toFile: script, atomically: true, encoding: .utf8)
        let g = try shell("python3 \(script) \(file)")
        #expect(g.status == 0, "\(g.output)")
        let r = try shell("\(bin) report \(file) --format csv --window 1h 2>/dev/null")
        let lines = r.output.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first, let row = lines.first(where: { $0.first == "orders-fn" }) else {
            Issue.record("no orders-fn row: \(r.output)")
            return
        }
        let f = Dictionary(uniqueKeysWithValues: zip(header, row))
        let lat = (0..<300).map { Double(3 + ($0 * 41) % 700) }.sorted()
        let p99 = lat[Int((0.99 * 300).rounded(.up)) - 1]
        #expect(f["count"] == "300", "errors mark samples, not extra invocations: \(f)")
        #expect(f["errors"] == "10", "\(f)")
        #expect(abs((Double(f["p99_ms"] ?? "") ?? 0) - p99) / p99 <= 0.01, "\(f)")
        #expect(Double(f["max_ms"] ?? "") == lat.last)
        // The Powertools ColdStart blobs are dated 2023, years before the lines above them: not
        // counted, and said so; their own report counts them.
        let note = try shell("\(bin) report \(file) --format csv 2>&1 >/dev/null")
        #expect(note.output.contains("4 events not counted (4 too old)"), "\(note.output)")
        let cold = "/tmp/bfftop-emf-\(getpid())-cold.log"
        defer { unlink(cold) }
        _ = try shell("grep ColdStart \(file) | grep -v Latency > \(cold)")
        let c = try shell("\(bin) report \(cold) --format csv 2>/dev/null")
        #expect(c.output.contains("orders-fn"), "\(c.output)")
        let crow = c.output.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        if let h = crow.first, let rr = crow.first(where: { $0.first == "orders-fn" }) {
            #expect(Dictionary(uniqueKeysWithValues: zip(h, rr))["cold"] == "4")
        }
    }
}

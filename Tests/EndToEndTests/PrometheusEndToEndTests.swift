import Foundation
import Testing

/// `--prometheus`: Debian's real Prometheus server scrapes the dashboard while the OpenTelemetry
/// fleet sends to it, and PromQL over Prometheus' HTTP API reads back the fleet's ground truth.
@Suite struct PrometheusEndToEndTests {
    let bin = TmuxDriver.binary

    /// One PromQL query's single value, nil until it has one.
    func query(_ api: String, _ promql: String) throws -> Double? {
        let q = promql.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? promql
        let r = try shell("curl -s '\(api)/api/v1/query?query=\(q)'")
        guard let d = try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any],
              let data = d["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
              let value = result.first?["value"] as? [Any], let s = value.last as? String else { return nil }
        return Double(s)
    }

    @Test func aPrometheusServerScrapesTheFleetsTruth() throws {
        guard TmuxDriver.tmuxAvailable, FileManager.default.isExecutableFile(atPath: bin) else { throw E2EError("tmux and the bfftop binary are required") }
        guard try shell("command -v prometheus").status == 0 else { throw E2EError("Debian's prometheus is required (scripts/install-deps tests)") }
        guard try shell("python3 -c 'import opentelemetry.exporter.otlp.proto.http'").status == 0 else {
            throw E2EError("the OpenTelemetry Python SDK is required (scripts/install-deps tests)")
        }
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-prom.sock", dir = "/tmp/bfftop-e2e-\(id)-prom", truthFile = dir + "/truth.ndjson"
        let ports = freeLoopbackPorts(3)
        try #require(ports.count == 3, "three free loopback ports")
        let (otlpPort, metricsPort, promPort) = (ports[0], ports[1], ports[2])
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: bfftop
                static_configs: [{targets: ["127.0.0.1:\(metricsPort)"]}]
            """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        let tmux = TmuxDriver(name: "prom")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --otlp-http 127.0.0.1:\(otlpPort) --prometheus 127.0.0.1:\(metricsPort) --refresh 0.2; sleep 10", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let started = try shell("prometheus --config.file=\(dir)/prometheus.yml --storage.tsdb.path=\(dir)/data --web.listen-address=127.0.0.1:\(promPort) > \(dir)/prometheus.log 2>&1 & echo $!")
        let pid = Int32(started.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        defer { if pid > 0 { kill(pid, SIGTERM) } }
        let sent = try shell("python3 \(OTLPEndToEndTests.fleet) --endpoint http://127.0.0.1:\(otlpPort) --hosts 2 --requests 120 --truth \(truthFile)")
        #expect(sent.status == 0, "\(sent.output)")
        // The truth, computed here from what the fleet says it sent.
        var count: [String: Int] = [:], errors: [String: Int] = [:], cold = 0, fnSumSeconds = 0.0, fnSeconds: [Double] = []
        for line in try String(contentsOfFile: truthFile, encoding: .utf8).split(separator: "\n") {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let e = o["endpoint"] as? String else { continue }
            count[e, default: 0] += 1
            if o["error"] as? Bool == true { errors[e, default: 0] += 1 }
            if o["cold"] as? Bool == true { cold += 1 }
            if e == "slots-query" {
                fnSumSeconds += (o["ms"] as? Double ?? 0) / 1000
                fnSeconds.append((o["ms"] as? Double ?? 0) / 1000)
            }
        }
        let api = "http://127.0.0.1:\(promPort)"
        var scraped: Double?
        for _ in 0..<150 {
            scraped = try query(api, #"sum(bfftop_requests_total{endpoint="POST /graphql"})"#)
            if scraped == Double(count["POST /graphql"] ?? -1) { break }
            usleep(200_000)
        }
        let log = (try? String(contentsOfFile: dir + "/prometheus.log", encoding: .utf8)) ?? ""
        let routes = Double(count["POST /graphql"] ?? -1)
        let read = scraped.map { "\($0)" } ?? "nothing"
        #expect(scraped == routes, "Prometheus read \(read); its log:\n\(String(log.suffix(2000)))")
        #expect(try query(api, #"up{job="bfftop"}"#) == 1)
        #expect(try query(api, #"sum(bfftop_requests_total{endpoint="slots-query"})"#) == Double(count["slots-query"] ?? -1))
        #expect(try query(api, #"sum(bfftop_request_failures_total{endpoint="POST /graphql",outcome="error"})"#) == Double(errors["POST /graphql"] ?? -1))
        #expect(try query(api, #"sum(bfftop_cold_starts_total)"#) == Double(cold))
        #expect(try query(api, #"sum(bfftop_request_duration_seconds_count{endpoint="slots-query"})"#) == Double(count["slots-query"] ?? -1))
        let sum = try query(api, #"sum(bfftop_request_duration_seconds_sum{endpoint="slots-query"})"#) ?? -1
        #expect(abs(sum - fnSumSeconds) <= 1e-6 * fnSumSeconds, "duration sum \(sum) vs the spans' \(fnSumSeconds)")
        // The histogram ends at the count, and each bucket holds the spans at or below its bound
        // (those within the sketch's 1.8 % of the bound may count on either side).
        for bound in [0.05, 0.1, 0.25] {
            let surely = fnSeconds.filter { $0 <= bound / 1.018 }.count, maybe = fnSeconds.filter { $0 <= bound * 1.018 }.count
            let n = try query(api, #"sum(bfftop_request_duration_seconds_bucket{endpoint="slots-query",le="\#(bound)"})"#) ?? -1
            #expect(n >= Double(surely) && n <= Double(maybe), "le=\(bound): \(n), the spans say \(surely)…\(maybe)")
        }
        let inf = try query(api, #"sum(bfftop_request_duration_seconds_bucket{endpoint="slots-query",le="+Inf"})"#)
        #expect(inf == Double(count["slots-query"] ?? -1))
        #expect(try query(api, #"sum(bfftop_ingest_events_total)"#).map { $0 >= Double(count.values.reduce(0, +)) } == true)
        // The exposition passes Prometheus' own linter.
        let lint = try shell("curl -s http://127.0.0.1:\(metricsPort)/metrics | promtool check metrics")
        #expect(lint.status == 0 && lint.output.isEmpty, "promtool: \(lint.output)")
        #expect(try shell("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:\(metricsPort)/other").output == "404")
        tmux.keys("q")
    }
}

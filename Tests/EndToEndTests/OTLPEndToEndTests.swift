import Foundation
import Testing

/// OpenTelemetry into the real binary: hand-written OTLP/HTTP bodies for every answer the spec
/// names, and fleets instrumented with the real OpenTelemetry Python SDK (`scripts/otel-fleet`: one
/// process per host, each with a BFF and a function provider) over OTLP/HTTP protobuf and over
/// OTLP/gRPC on a Unix socket, checked against the ground truth the fleet writes.
@Suite struct OTLPEndToEndTests {
    let bin = TmuxDriver.binary
    static let fleet = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/otel-fleet").path

    func requireTools() throws {
        guard TmuxDriver.tmuxAvailable else { throw E2EError("tmux is required for the end-to-end tests (apt-get install -y tmux)") }
        guard FileManager.default.isExecutableFile(atPath: bin) else { throw E2EError("no bfftop binary at \(bin)") }
    }

    func requireSDK() throws {
        guard try shell("python3 -c 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http, opentelemetry.exporter.otlp.proto.grpc'").status == 0 else {
            throw E2EError("the OpenTelemetry Python SDK is required (scripts/install-deps tests)")
        }
    }

    /// The live dashboard's endpoints by name, from `bfftop snapshot`.
    func snapshot(_ sock: String) throws -> [String: [String: Any]] {
        let r = try shell("\(bin) snapshot --socket \(sock)")
        guard let d = try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any],
              let eps = d["endpoints"] as? [[String: Any]] else { return [:] }
        return Dictionary(uniqueKeysWithValues: eps.compactMap { e in (e["endpoint"] as? String).map { ($0, e) } })
    }

    /// The snapshot's OTLP counters (`ingest.otlp`), or another group of its ingest counters.
    func otlpCounters(_ sock: String, group: String = "otlp") throws -> [String: Int] {
        let r = try shell("\(bin) snapshot --socket \(sock)")
        guard let d = try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any],
              let i = d["ingest"] as? [String: Any], let o = i[group] as? [String: Any] else { return [:] }
        return o.compactMapValues { $0 as? Int }
    }

    /// Polls the snapshot until `done` holds (the engine takes batches asynchronously).
    func waitForSnapshot(_ sock: String, _ done: ([String: [String: Any]]) -> Bool) throws -> [String: [String: Any]] {
        var last: [String: [String: Any]] = [:]
        for _ in 0..<100 {
            last = try snapshot(sock)
            if done(last) { return last }
            usleep(200_000)
        }
        return last
    }

    @Test func handWrittenBodiesGetTheAnswersOTLPNames() throws {
        try requireTools()
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-otlp.sock", body = "/tmp/bfftop-e2e-\(id)-otlp.json"
        let port = freeLoopbackPort()
        defer { unlink(body); unlink(body + ".gz") }
        let tmux = TmuxDriver(name: "otlp")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --otlp-http 127.0.0.1:\(port) --refresh 0.2; sleep 10", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") && $0.contains("OTLP/HTTP on 127.0.0.1:\(port)") }.ok, "the empty dashboard says where OTLP goes")
        let t = Int(Date().timeIntervalSince1970) - 2
        func span(_ id: String, _ parent: String?, _ kind: Int, _ from: Int, _ to: Int, _ attrs: [(String, String)]) -> String {
            let a = attrs.map { #"{"key":"\#($0.0)","value":\#($0.1)}"# }.joined(separator: ",")
            return #"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"\#(id)""# + (parent.map { #","parentSpanId":"\#($0)""# } ?? "")
                + #","name":"s","kind":\#(kind),"startTimeUnixNano":"\#(t)\#(String(format: "%09d", from * 1_000_000))","endTimeUnixNano":"\#(t)\#(String(format: "%09d", to * 1_000_000))","attributes":[\#(a)]}"#
        }
        let spans = [
            span("a1", nil, 2, 0, 120, [("http.route", #"{"stringValue":"/graphql"}"#), ("http.request.method", #"{"stringValue":"POST"}"#), ("http.response.status_code", #"{"intValue":"200"}"#)]),
            span("a2", "a1", 1, 10, 110, [("graphql.operation.name", #"{"stringValue":"GetSlots"}"#), ("graphql.operation.type", #"{"stringValue":"query"}"#)]),
            span("a3", "a2", 2, 20, 100, [("faas.name", #"{"stringValue":"slots-query"}"#), ("faas.coldstart", #"{"boolValue":true}"#)]),
        ]
        try (#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web-bff"}}]},"scopeSpans":[{"spans":["# + spans.joined(separator: ",") + "]}]}]}")
            .write(toFile: body, atomically: true, encoding: .utf8)
        let url = "http://127.0.0.1:\(port)"
        func post(_ args: String, path: String = "/v1/traces") throws -> String {
            try shell("curl -s -w ' %{http_code}' \(args) \(url)\(path)").output
        }
        #expect(try post("-H 'content-type: application/json' --data-binary @\(body)").hasSuffix("{} 200"))
        // The same export gzip-compressed: read, counted twice.
        try shell("gzip -kf \(body)")
        #expect(try post("-H 'content-type: application/json' -H 'content-encoding: gzip' --data-binary @\(body).gz").hasSuffix("{} 200"))
        // Broken gzip, an unknown encoding, JSON sent as protobuf (a group tag: not OTLP), JSON that is not an export.
        #expect(try post("-H 'content-type: application/json' -H 'content-encoding: gzip' --data-binary 'not gzip'").hasSuffix(" 400"))
        #expect(try post("-H 'content-type: application/json' -H 'content-encoding: br' --data-binary @\(body)").hasSuffix(" 415"))
        #expect(try post("-H 'content-type: text/plain' --data-binary x").hasSuffix(" 415"))
        let proto = try shell("curl -s -o /dev/null -w '%{http_code} %{content_type}' -H 'content-type: application/x-protobuf' --data-binary '{\"resourceSpans\":[]}' \(url)/v1/traces")
        #expect(proto.output == "400 application/x-protobuf", "protobuf errors are answered in protobuf: \(proto.output)")
        #expect(try post("-H 'content-type: application/json' --data-binary '{\"resourceSpans\":5}'").hasSuffix(" 400"))
        #expect(try post("-H 'content-type: application/json' -H 'content-length: 99999999' --data-binary x").hasSuffix(" 413"))
        #expect(try post("-H 'content-type: application/json' --data-binary '{}'", path: "/v1/profiles").hasSuffix(" 404"))
        #expect(try post("-H 'content-type: application/json' --data-binary '{}'", path: "/v1/logs").hasSuffix("{} 200"))
        // Metrics by OTLP's JSON rules (int64 as strings, integer enums): a delta histogram of GET /api/feed,
        // 5 requests in the (0.05, 0.1] s bucket; a second point whose counts do not match its bounds is rejected.
        let now = Int(Date().timeIntervalSince1970)
        let point = { (status: Int, counts: String) in
            #"{"attributes":[{"key":"http.route","value":{"stringValue":"/api/feed"}},{"key":"http.request.method","value":{"stringValue":"GET"}},{"key":"http.response.status_code","value":{"intValue":"\#(status)"}}],"startTimeUnixNano":"\#(now - 5)000000000","timeUnixNano":"\#(now)000000000","count":"5","bucketCounts":\#(counts),"explicitBounds":[0.05,0.1]}"#
        }
        let metrics = #"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web-bff"}}]},"scopeMetrics":[{"metrics":[{"name":"http.server.request.duration","unit":"s","histogram":{"aggregationTemporality":1,"dataPoints":["#
            + point(200, #"["0","5","0"]"#) + "," + point(201, #"["5"]"#) + "]}}]}]}]}"
        try metrics.write(toFile: body + ".metrics", atomically: true, encoding: .utf8)
        defer { unlink(body + ".metrics") }
        let answer = try post("-H 'content-type: application/json' --data-binary @\(body).metrics", path: "/v1/metrics")
        #expect(answer.hasPrefix(#"{"partialSuccess":{"rejectedDataPoints":1,"errorMessage":"http.server.request.duration: bucket counts do not match the bounds"}}"#)
                && answer.hasSuffix(" 200"), "\(answer)")
        #expect(tmux.waitFor { $0.contains("query GetSlots") && $0.contains("slots-query") && $0.contains("POST /graphql") }.ok)
        let eps = try waitForSnapshot(sock) { ($0["slots-query"]?["count"] as? Int) == 2 }
        #expect(eps["POST /graphql"]?["max_ms"] as? Double == 120 && eps["query GetSlots"]?["max_ms"] as? Double == 100)
        #expect(eps["slots-query"]?["max_ms"] as? Double == 80 && eps["slots-query"]?["cold_starts"] as? Int == 2)
        let feed = try waitForSnapshot(sock) { ($0["GET /api/feed"]?["count"] as? Int) == 5 }
        #expect(feed["GET /api/feed"]?["p50_ms"] as? Double ?? 0 > 74 && feed["GET /api/feed"]?["p50_ms"] as? Double ?? 0 < 76, "the bucket's middle, 75 ms")
        tmux.keys("q")
    }

    /// Ground truth the fleet wrote: one line per invocation it sent.
    struct Truth {
        var count = 0, errors = 0, cold = 0
        var durations: [Double] = []
        var p99: Double {
            let s = durations.sorted()
            return s[max(0, Int((0.99 * Double(s.count)).rounded(.up)) - 1)]
        }
    }

    func truth(_ file: String) throws -> [String: Truth] {
        var out: [String: Truth] = [:]
        for line in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let e = o["endpoint"] as? String else { continue }
            out[e, default: Truth()].count += 1
            if o["error"] as? Bool == true { out[e]!.errors += 1 }
            if o["cold"] as? Bool == true { out[e]!.cold += 1 }
            out[e]!.durations.append(o["ms"] as? Double ?? -1)
        }
        return out
    }

    func expectMatches(_ eps: [String: [String: Any]], _ truth: [String: Truth], _ how: String) {
        #expect(Set(eps.keys) == Set(truth.keys), "\(how): endpoints \(eps.keys.sorted()) vs \(truth.keys.sorted())")
        for (name, t) in truth {
            let e = eps[name] ?? [:]
            #expect(e["count"] as? Int == t.count, "\(how) \(name): count \(e["count"] ?? "none") vs \(t.count)")
            #expect(e["errors"] as? Int == t.errors, "\(how) \(name): errors \(e["errors"] ?? "none") vs \(t.errors)")
            #expect(e["cold_starts"] as? Int == t.cold, "\(how) \(name): cold starts \(e["cold_starts"] ?? "none") vs \(t.cold)")
            let p99 = e["p99_ms"] as? Double ?? -1
            #expect(abs(p99 - t.p99) <= 0.01 * t.p99, "\(how) \(name): p99 \(p99) vs the spans' own \(t.p99)")
        }
        // Every function call was linked to its route across processes: the route carries the cost.
        let fnCost = eps["slots-query"]?["cost_usd"] as? Double ?? 0
        let fanOut = eps["POST /graphql"]?["fan_out_cost_usd"] as? Double ?? -1
        #expect(fnCost > 0 && abs(fanOut - fnCost) < 1e-7, "\(how): route's fan-out cost \(fanOut) vs the function's \(fnCost)")
    }

    @Test func pythonSDKOverHTTPProtobufWithGzipFromThreeHosts() throws {
        try requireTools()
        try requireSDK()
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-oh.sock", truthFile = "/tmp/bfftop-e2e-\(id)-oh.ndjson", rec = "/tmp/bfftop-e2e-\(id)-oh-rec.ndjson"
        let port = freeLoopbackPort()
        defer { unlink(truthFile); unlink(rec) }
        let tmux = TmuxDriver(name: "otlp-http")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --otlp-http 127.0.0.1:\(port) --record \(rec) --refresh 0.2; sleep 10", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let sent = try shell("python3 \(Self.fleet) --protocol http/protobuf --compression gzip --endpoint http://127.0.0.1:\(port) --hosts 3 --requests 150 --batch 128 --truth \(truthFile)")
        #expect(sent.status == 0 && sent.output.contains("sent 1350 invocations"), "\(sent.output)")
        let t = try truth(truthFile)
        let eps = try waitForSnapshot(sock) { ($0["slots-query"]?["count"] as? Int) == 450 && ($0["POST /graphql"]?["count"] as? Int) == 450 }
        expectMatches(eps, t, "OTLP/HTTP protobuf")
        tmux.keys("q")
        usleep(600_000)
        // What OTLP brought was recorded in the native format: the report reads the same counts.
        let rows = reportRows(try shell("\(bin) report \(rec) --format csv 2>/dev/null").output)
        #expect(rows["POST /graphql"]?["count"] == "450" && rows["slots-query"]?["count"] == "450" && rows["mutation BookSlot"]?["count"] == "150")
    }

    /// The route's waterfall as a person sees it (`/` to the route, `W`): the trace it names is one
    /// the fleet sent, and its rows are that trace's spans, each under its caller, with its duration.
    func expectWaterfallMatchesItsSpans(_ tmux: TmuxDriver, _ truthFile: String) throws {
        tmux.resize(170, 30)
        tmux.keys("/")
        tmux.keys("POST /graphql")
        tmux.keys("Enter")
        // The route's detail (and its exemplar traces) come with the next frame.
        #expect(tmux.waitFor { $0.contains("POST /graphql · route") && $0.contains("W waterfall") }.ok)
        tmux.keys("W")
        let shown = tmux.waitFor { $0.contains("Trace · POST /graphql · slowest of the last minute") && $0.contains("└ slots-query") }
        #expect(shown.ok, "waterfall: \(shown.screen)")
        let lines = shown.screen.split(separator: "\n").map(String.init)
        let summary = try #require(lines.first { $0.contains(" took ") && $0.contains(" trace ") })
        let trace = try #require(summary.components(separatedBy: " trace ").last?.split(separator: " ").first.map(String.init))
        var spans: [[String: Any]] = []
        for line in try String(contentsOfFile: truthFile, encoding: .utf8).split(separator: "\n") {
            if let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["trace"] as? String == trace { spans.append(o) }
        }
        try #require(spans.count == 3, "the trace \(trace) shown is one the fleet sent: \(summary)")
        // Depth first, each under its caller: the route, its GraphQL operation, the function it invoked.
        let ordered = spans.sorted { ($0["depth"] as? Int ?? 0) < ($1["depth"] as? Int ?? 0) }
        let truthMax = ordered.map { $0["ms"] as? Double ?? 0 }.max() ?? 0
        let took = summary.components(separatedBy: "took ").last?.split(separator: " ").first.map(String.init) ?? ""
        #expect(shownAs(took, truthMax), "the request took its route's duration \(truthMax) ms: \(summary)")
        var row = try #require(lines.firstIndex { $0.contains("┃ POST /graphql") })
        for s in ordered {
            let depth = s["depth"] as? Int ?? 0
            let name = String(repeating: "  ", count: depth) + (depth > 0 ? "└ " : "") + (s["endpoint"] as? String ?? "?")
            #expect(lines[row].hasPrefix("┃ " + name), "row \(row): \(lines[row]) vs \(name)")
            // The figures after the bar: the duration first.
            let figures = lines[row].split(whereSeparator: { $0 == "█" || $0 == "░" }).last.map(String.init) ?? ""
            let shown = figures.split(separator: " ").first.map(String.init) ?? ""
            #expect(shownAs(shown, s["ms"] as? Double ?? -1), "\(name)'s duration \(s["ms"] ?? "?") ms: \(lines[row])")
            if s["cold"] as? Bool == true { #expect(lines[row].contains("❄")) }
            row += 1
        }
        tmux.keys("Escape")
    }

    /// Whether a duration as the dashboard prints it ("42ms", "9.5ms", "1.03s") is `ms` to its
    /// precision (half its last digit).
    func shownAs(_ text: String, _ ms: Double) -> Bool {
        let t = text.trimmingCharacters(in: CharacterSet(charactersIn: "┃ "))
        let (number, scale) = t.hasSuffix("ms") ? (t.dropLast(2), 1.0) : t.hasSuffix("s") ? (t.dropLast(), 1000.0) : (t[...], .nan)
        guard let v = Double(number), scale.isFinite else { return false }
        let decimals = number.split(separator: ".").dropFirst().first?.count ?? 0
        let halfDigit = 0.5 * scale / (0..<decimals).reduce(1.0) { r, _ in r * 10 }
        return abs(v * scale - ms) <= halfDigit + 1e-3
    }

    /// The Collector's shape: several hosts' exporters into one private Unix socket over gRPC.
    @Test func pythonSDKOverGRPCOnAUnixSocket() throws {
        try requireTools()
        try requireSDK()
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-og.sock", grpcSock = "/tmp/bfftop-e2e-\(id)-og-grpc.sock", truthFile = "/tmp/bfftop-e2e-\(id)-og.ndjson"
        defer { unlink(truthFile) }
        let tmux = TmuxDriver(name: "otlp-grpc")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --otlp-grpc unix:\(grpcSock) --refresh 0.2; sleep 10", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        var st = stat()
        #expect(stat(grpcSock, &st) == 0 && st.st_mode & 0o777 == 0o600, "the gRPC socket is private to its owner")
        let sent = try shell("python3 \(Self.fleet) --protocol grpc --compression gzip --endpoint unix://\(grpcSock) --hosts 4 --requests 100 --truth \(truthFile)")
        #expect(sent.status == 0 && sent.output.contains("sent 1200 invocations"), "\(sent.output)")
        let t = try truth(truthFile)
        let eps = try waitForSnapshot(sock) { ($0["slots-query"]?["count"] as? Int) == 400 && ($0["POST /graphql"]?["count"] as? Int) == 400 }
        expectMatches(eps, t, "OTLP/gRPC")
        let counters = try otlpCounters(sock)
        #expect(counters["spans"] == 1600 && counters["unlinked"] == 0 && counters["held"] == 0, "\(counters)")
        // Every endpoint span (not the CLIENT spans) was kept for the waterfalls.
        let traces = try otlpCounters(sock, group: "traces")
        #expect(traces["spans"] == 1200 && traces["not_kept"] == 0 && traces["exemplars_lost"] == 0, "\(traces)")
        try expectWaterfallMatchesItsSpans(tmux, truthFile)
        tmux.keys("q")
        #expect(tmux.waitFor { !$0.contains("ENDPOINT") }.ok)
        usleep(300_000)
        #expect(access(grpcSock, F_OK) != 0, "the gRPC socket file is removed on quit")
    }
    /// Metrics from the real Python SDK (`scripts/otel-fleet --signal metrics`): cumulative histograms
    /// and counters exported every half second, differenced per stream. Counts, errors and cold starts
    /// are exact; p99 is within the stated bound: inside the explicit bucket that holds the true p99
    /// (±1 % for the sketch), or within 3 % with exponential buckets (base^½ at the SDK's scale 5, and
    /// the sketch's 1 %). Metric-fed requests have no start times: no concurrency is made up for them.
    func expectMetricsMatch(_ sock: String, _ truthFile: String, hosts: Int, requests: Int, exponential: Bool) throws {
        let eps = try waitForSnapshot(sock) {
            ($0["POST /graphql"]?["count"] as? Int) == hosts * requests && ($0["slots-query"]?["count"] as? Int) == hosts * requests
        }
        var truth: [String: [(ms: Double, error: Bool, cold: Bool)]] = [:]
        var inits: [Double] = [], memory: [Double] = []
        for line in try String(contentsOfFile: truthFile, encoding: .utf8).split(separator: "\n") {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let e = o["endpoint"] as? String else { continue }
            truth[e, default: []].append((o["ms"] as? Double ?? -1, o["error"] as? Bool ?? false, o["cold"] as? Bool ?? false))
            if let i = o["init_ms"] as? Double { inits.append(i) }
            if let m = o["mem_mb"] as? Double { memory.append(m) }
        }
        let bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10].map { $0 * 1000 }
        // faas.init_duration: the init p50 as durations' p99 is bounded; faas.mem_usage: the most any
        // invocation used, exactly (the smaller of the highest bucket's top and the SDK's max).
        let fn = eps["slots-query"] ?? [:]
        let initP50 = inits.sorted()[Int((0.5 * Double(inits.count)).rounded(.up)) - 1]
        let shownInit = fn["init_p50_ms"] as? Double ?? -1
        if exponential {
            #expect(abs(shownInit - initP50) <= 0.03 * initP50, "init p50 \(shownInit) vs the truth's \(initP50)")
        } else {
            let hi = bounds.first { $0 >= initP50 } ?? .infinity, lo = bounds.last { $0 < initP50 } ?? 0
            #expect(shownInit >= lo * 0.99 && shownInit <= hi * 1.01, "init p50 \(shownInit) outside (\(lo), \(hi)] of the truth's \(initP50)")
        }
        #expect(abs((fn["max_memory_used_mb"] as? Double ?? -1) - (memory.max() ?? -2)) < 0.01, "max memory \(fn["max_memory_used_mb"] ?? "none") vs \(memory.max() ?? -1)")
        for (name, t) in truth {
            let e = eps[name] ?? [:]
            #expect(e["count"] as? Int == t.count, "\(name): count \(e["count"] ?? "none") vs \(t.count)")
            #expect(e["errors"] as? Int == t.filter(\.error).count, "\(name): errors \(e["errors"] ?? "none")")
            #expect(e["cold_starts"] as? Int == t.filter(\.cold).count, "\(name): cold starts \(e["cold_starts"] ?? "none")")
            #expect(e["concurrency_peak"] is NSNull && e["concurrency_now"] is NSNull, "\(name): no concurrency made up from histograms (unknown, not 0)")
            let sorted = t.map(\.ms).sorted()
            let p99 = sorted[Int((0.99 * Double(sorted.count)).rounded(.up)) - 1]
            let shown = e["p99_ms"] as? Double ?? -1
            if exponential {
                #expect(abs(shown - p99) <= 0.03 * p99, "\(name): p99 \(shown) vs the truth's \(p99)")
            } else {
                let hi = bounds.first { $0 >= p99 } ?? .infinity, lo = bounds.last { $0 < p99 } ?? 0
                #expect(shown >= lo * 0.99 && shown <= hi * 1.01, "\(name): p99 \(shown) outside the bucket (\(lo), \(hi)] of the truth's \(p99)")
            }
        }
    }

    @Test func pythonSDKMetricsOverHTTPProtobufInExplicitBuckets() throws {
        try requireTools()
        try requireSDK()
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-mh.sock", truthFile = "/tmp/bfftop-e2e-\(id)-mh.ndjson"
        let port = freeLoopbackPort()
        defer { unlink(truthFile) }
        let tmux = TmuxDriver(name: "otlp-metrics-http")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --otlp-http 127.0.0.1:\(port) --refresh 0.2; sleep 10", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let sent = try shell("python3 \(Self.fleet) --signal metrics --histogram explicit --protocol http/protobuf --compression gzip --endpoint http://127.0.0.1:\(port) --hosts 3 --requests 200 --truth \(truthFile)")
        #expect(sent.status == 0 && sent.output.contains("sent 1200 measurements"), "\(sent.output)")
        try expectMetricsMatch(sock, truthFile, hosts: 3, requests: 200, exponential: false)
        let counters = try otlpCounters(sock)
        #expect(counters["points_skipped"] == 0 && counters["baselines"] == 0 && (counters["metric_exports"] ?? 0) >= 6, "\(counters)")
        #expect(tmux.waitFor { $0.contains("points") }.ok, "the header counts metric points")
    }

    @Test func pythonSDKMetricsOverGRPCInExponentialBuckets() throws {
        try requireTools()
        try requireSDK()
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-mg.sock", grpcSock = "/tmp/bfftop-e2e-\(id)-mg-grpc.sock", truthFile = "/tmp/bfftop-e2e-\(id)-mg.ndjson"
        defer { unlink(truthFile) }
        let tmux = TmuxDriver(name: "otlp-metrics-grpc")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --otlp-grpc unix:\(grpcSock) --refresh 0.2; sleep 10", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let sent = try shell("python3 \(Self.fleet) --signal metrics --histogram exponential --protocol grpc --endpoint unix://\(grpcSock) --hosts 2 --requests 300 --truth \(truthFile)")
        #expect(sent.status == 0 && sent.output.contains("sent 1200 measurements"), "\(sent.output)")
        try expectMetricsMatch(sock, truthFile, hosts: 2, requests: 300, exponential: true)
    }
    /// Functions' own log lines (START, application lines, `Task timed out`, END, REPORT with Init
    /// Duration) shipped as OTLP logs by the Python SDK's logging handler, over gRPC on a Unix socket:
    /// each REPORT is an invocation, timeouts marked from the line before it, cold starts from Init Duration.
    @Test func pythonSDKLogsOfFunctionsBecomeTheirInvocations() throws {
        try requireTools()
        try requireSDK()
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-lg.sock", grpcSock = "/tmp/bfftop-e2e-\(id)-lg-grpc.sock", truthFile = "/tmp/bfftop-e2e-\(id)-lg.ndjson"
        defer { unlink(truthFile) }
        let tmux = TmuxDriver(name: "otlp-logs")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --otlp-grpc unix:\(grpcSock) --refresh 0.2; sleep 10", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let sent = try shell("python3 \(Self.fleet) --signal logs --protocol grpc --compression gzip --endpoint unix://\(grpcSock) --hosts 2 --requests 150 --truth \(truthFile)")
        #expect(sent.status == 0 && sent.output.contains("sent 300 function invocations in logs"), "\(sent.output)")
        let eps = try waitForSnapshot(sock) { ($0["slots-query"]?["count"] as? Int) == 150 && ($0["image-resize"]?["count"] as? Int) == 150 }
        var truth: [String: [[String: Any]]] = [:]
        for line in try String(contentsOfFile: truthFile, encoding: .utf8).split(separator: "\n") {
            if let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let e = o["endpoint"] as? String { truth[e, default: []].append(o) }
        }
        #expect(Set(eps.keys) == Set(truth.keys))
        for (name, t) in truth {
            let e = eps[name] ?? [:]
            #expect(e["count"] as? Int == t.count, "\(name) count")
            #expect(e["timeouts"] as? Int == t.filter { $0["timeout"] as? Bool == true }.count, "\(name) timeouts \(e["timeouts"] ?? "none")")
            #expect(e["cold_starts"] as? Int == t.filter { $0["cold"] as? Bool == true }.count, "\(name) cold starts")
            let sorted = t.compactMap { $0["ms"] as? Double }.sorted()
            let p50 = sorted[Int((0.5 * Double(sorted.count)).rounded(.up)) - 1]
            #expect(abs((e["p50_ms"] as? Double ?? -1) - p50) <= 0.01 * p50, "\(name) p50 \(e["p50_ms"] ?? "none") vs \(p50)")
            #expect(e["max_ms"] as? Double == sorted.last, "\(name) max")
            let initMs = t.compactMap { $0["init_ms"] as? Double }.first ?? -1
            #expect(abs((e["init_p50_ms"] as? Double ?? -1) - initMs) <= 0.01 * initMs, "\(name) init \(e["init_p50_ms"] ?? "none") vs \(initMs)")
        }
        #expect(try otlpCounters(sock)["log_records"] == 300 * 4 + 12, "START, an application line, END and REPORT each, and 12 timeout lines")
    }
}

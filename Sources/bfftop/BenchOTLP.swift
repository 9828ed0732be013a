#if canImport(Glibc)
import Glibc
#endif
import BFFTopDemo
import BFFTopEngine
import BFFTopIngest
import BFFTopWire
import FoundationEssentials
import NIOPosix
import OTLPProtoGenerated
import SwiftProtobuf
import Synchronization

/// `bench --only otlp`: OTLP/HTTP protobuf exports of 512 spans (as the SDKs' batch processors send
/// them), decoded by bfftop's reader and by swift-protobuf's generated code side by side, then
/// posted over loopback HTTP into the whole engine.
enum OTLPBench {
    static let spansPerExport = 512

    static func run(quick: Bool) async throws {
        print("OTLP ingest (protobuf exports of \(spansPerExport) spans: route, GraphQL operation, client call, function)")
        let body = export(at: wallClock(), seed: 1)
        print("    exports average \(body.count / 1024) KiB, \(body.count / spansPerExport) bytes a span")
        let rounds = quick ? 400 : 2_000
        let mine = measureDecode(rounds: rounds) { _ = try? OTLPProtobuf.traces(body) }
        let theirs = measureDecode(rounds: rounds) { _ = try? Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: body) }
        row("decode: bfftop's reader", formatFixed(mine / 1e6, 2) + " M spans/s")
        row("decode: swift-protobuf (generated code)", formatFixed(theirs / 1e6, 2) + " M spans/s  (bfftop \(formatFixed(mine / theirs, 1))×)")
        let exports = quick ? 1_000 : 4_000
        let rate = try await measureEngine(exports: exports, connections: 4)
        row("HTTP → decode → map → aggregate, 4 conns", formatFixed(rate / 1e6, 2) + " M spans/s", target: "≥ 1 M/s", ok: rate >= 1e6)
        print("    \(formatFixed(IngestBench.lastCoresBusy, 2)) cores busy (the clients included), \(formatFixed(IngestBench.lastCoresBusy / rate * 1e9, 0)) ns of CPU a span:")
        print("      " + IngestBench.lastSplit.map { "\($0.role) \(formatFixed($0.ns, 0))" }.joined(separator: ", "))
        print()
    }

    /// Spans per second decoding `rounds` exports, best of three runs.
    static func measureDecode(rounds: Int, _ decode: () -> Void) -> Double {
        var best = 0.0
        for _ in 0..<3 {
            let start = monotonic()
            for _ in 0..<rounds { decode() }
            best = max(best, Double(rounds * spansPerExport) / (monotonic() - start))
        }
        return best
    }

    /// An export as the Python or Node SDK writes it: each request is four spans of one trace.
    static func export(at t: Double, seed: UInt64) -> [UInt8] {
        typealias Span = Opentelemetry_Proto_Trace_V1_Span
        typealias KV = Opentelemetry_Proto_Common_V1_KeyValue
        var rng = SplitMix64(seed: seed)
        func kv(_ k: String, _ v: String) -> KV { KV.with { $0.key = k; $0.value.stringValue = v } }
        func kv(_ k: String, _ v: Int64) -> KV { KV.with { $0.key = k; $0.value.intValue = v } }
        func id(_ n: Int) -> Data { withUnsafeBytes(of: rng.next()) { Data($0.prefix(n)) } }
        let t0 = UInt64(t * 1e9) - 2_000_000_000
        var spans: [Span] = []
        for i in 0..<spansPerExport / 4 {
            let trace = id(8) + id(8)
            let (route, op, client, fn) = (id(8), id(8), id(8), id(8))
            let start = t0 + UInt64(i) * 1_000_000
            let ms = UInt64(20 + rng.next() % 300) * 1_000_000
            func span(_ sid: Data, _ parent: Data?, _ name: String, _ kind: Span.SpanKind, _ from: UInt64, _ to: UInt64, _ attrs: [KV]) -> Span {
                Span.with {
                    $0.traceID = trace
                    $0.spanID = sid
                    if let p = parent { $0.parentSpanID = p }
                    $0.name = name
                    $0.kind = kind
                    $0.startTimeUnixNano = from
                    $0.endTimeUnixNano = to
                    $0.attributes = attrs
                }
            }
            let q = i % 3 == 0 ? "BookSlot" : "GetSlots"
            spans.append(span(route, nil, "POST /graphql", .server, start, start + ms, [
                kv("http.request.method", "POST"), kv("http.route", "/graphql"), kv("url.scheme", "http"), kv("http.response.status_code", 200),
                kv("server.address", "bff.internal"), kv("user_agent.original", "Mozilla/5.0")]))
            spans.append(span(op, route, "query \(q)", .internal, start + 1_000_000, start + ms - 1_000_000, [
                kv("graphql.operation.name", q), kv("graphql.operation.type", "query"), kv("graphql.document", "query \(q) { slots { id } }")]))
            spans.append(span(client, op, "invoke slots-query", .client, start + 2_000_000, start + ms / 2, [
                kv("faas.invoked_name", "slots-query"), kv("faas.invoked_provider", "aws")]))
            spans.append(span(fn, client, "slots-query", .server, start + 3_000_000, start + ms / 2 - 500_000, [
                kv("faas.name", "slots-query"), kv("faas.invocation_id", "req-\(i)"), kv("faas.coldstart", "false"), kv("faas.max_memory", 536_870_912)]))
        }
        var req = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        req.resourceSpans = [Opentelemetry_Proto_Trace_V1_ResourceSpans.with { rs in
            rs.resource.attributes = [kv("service.name", "web-bff"), kv("telemetry.sdk.language", "nodejs"), kv("telemetry.sdk.version", "1.30.0")]
            rs.scopeSpans = [Opentelemetry_Proto_Trace_V1_ScopeSpans.with { $0.scope.name = "@opentelemetry/instrumentation-graphql"; $0.spans = spans }]
        }]
        return Array((try? req.serializedData()) ?? Data())
    }

    /// Posts `exports` exports over `connections` keep-alive HTTP connections; spans per second
    /// from the first byte to the last invocation aggregated.
    static func measureEngine(exports: Int, connections: Int) async throws -> Double {
        let stats = IngestStats()
        let engine = LiveEngine(stats: stats, refreshInterval: 0.5)
        let group = IngestThreads.makeGroup(threads: 2)
        let receiver = OTLPReceiver(sink: engine.mailbox, stats: stats)
        let port = 40_000 + Int(getpid() % 20_000)
        let server = try await OTLPHTTPServer.start(.tcp(host: "127.0.0.1", port: port), receiver: receiver, stats: stats, group: group)
        engine.start()
        let perConnection = max(1, exports / connections)
        // Three of every four spans are endpoints (the client call is not).
        let expected = perConnection * connections * spansPerExport * 3 / 4
        let failures = Atomic<Int>(0)
        let start = monotonic()
        let cpuStart = processCPUSeconds()
        let threadsStart = ThreadCPU.sample(roles: ThreadCPU.pipelineRoles)
        for c in 0..<connections {
            startThread(name: "bench-otlp-\(c)") {
                let client = BenchHTTPClient(port: port)
                var body = export(at: wallClock(), seed: UInt64(c))
                var stamped = monotonic()
                for _ in 0..<perConnection {
                    if monotonic() - stamped > 1 {
                        body = export(at: wallClock(), seed: UInt64(c))
                        stamped = monotonic()
                    }
                    if !client.post(body) { failures.wrappingAdd(1, ordering: .relaxed) }
                }
                client.close()
            }
        }
        while engine.eventsAggregated < expected, monotonic() - start < 120, failures.load(ordering: .relaxed) == 0 {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        let elapsed = monotonic() - start
        let cpu = processCPUSeconds() - cpuStart
        IngestBench.lastCoresBusy = cpu / elapsed
        let got = engine.eventsAggregated
        IngestBench.lastSplit = ThreadCPU.sample(roles: ThreadCPU.pipelineRoles).perItem(since: threadsStart, total: cpu, items: got * 4 / 3)
        engine.stop()
        server.stop()
        try await group.shutdownGracefully()
        if failures.load(ordering: .relaxed) > 0 { print("    \(failures.load(ordering: .relaxed)) exports were not answered 200") }
        return Double(got) * 4 / 3 / elapsed
    }
}

/// A blocking HTTP/1.1 keep-alive client: just enough to post exports and read the answers.
final class BenchHTTPClient {
    let fd: Int32
    var buffer = [UInt8](repeating: 0, count: 65_536)

    init(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }

    /// Sends one export; true when it was answered 200.
    func post(_ body: [UInt8]) -> Bool {
        let head = Array("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
        guard writeAll(head), writeAll(body) else { return false }
        // The answer: headers, then content-length bytes.
        var got: [UInt8] = []
        while true {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { return false }
            got += buffer[0..<n]
            guard let end = got.firstRange(of: [13, 10, 13, 10]) else { continue }
            let headers = String(decoding: got[..<end.lowerBound], as: UTF8.self).lowercased()
            let length = headers.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
            while got.count - end.upperBound < length {
                let m = read(fd, &buffer, buffer.count)
                guard m > 0 else { return false }
                got += buffer[0..<m]
            }
            return headers.hasPrefix("http/1.1 200")
        }
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                guard let base = buf.baseAddress else { return false }
                let n = write(fd, base + off, buf.count - off)
                if n <= 0 { return false }
                off += n
            }
            return true
        }
    }

    func close() { Glibc.close(fd) }
}

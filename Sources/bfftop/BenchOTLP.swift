#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BFFTopDemo
import BFFTopEngine
import BFFTopIngest
import BFFTopWire
import FoundationEssentials
import NIOPosix
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
        if let (mine, theirs) = try compareDecoders(body, rounds: rounds) {
            row("decode: bfftop's reader", formatFixed(mine / 1e6, 2) + " M spans/s")
            row("decode: swift-protobuf (generated code)", formatFixed(theirs / 1e6, 2) + " M spans/s  (bfftop \(formatFixed(mine / theirs, 1))×)")
        } else {
            let mine = measureDecode(rounds: rounds) { _ = try? OTLPProtobuf.traces(body) }
            row("decode: bfftop's reader", formatFixed(mine / 1e6, 2) + " M spans/s")
            print("    (swift-protobuf's figure beside it: `swift build -c release` builds bfftop-protobuf-bench)")
        }
        let exports = quick ? 1_000 : 4_000
        let rate = try await measureEngine(exports: exports, connections: 4)
        row("HTTP → decode → map → aggregate, 4 conns", formatFixed(rate / 1e6, 2) + " M spans/s", target: "≥ 1 M/s", ok: rate >= 1e6)
        print("    \(formatFixed(IngestBench.lastCoresBusy, 2)) cores busy (the clients included), \(formatFixed(IngestBench.lastCoresBusy / rate * 1e9, 0)) ns of CPU a span:")
        print("      " + IngestBench.lastSplit.map { "\($0.role) \(formatFixed($0.ns, 0))" }.joined(separator: ", "))
        print()
    }

    /// Both decoders on `body`, side by side in `bfftop-protobuf-bench` (built beside this binary);
    /// nil when it is not there.
    static func compareDecoders(_ body: [UInt8], rounds: Int) throws -> (mine: Double, theirs: Double)? {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("bfftop-protobuf-bench").path
        guard access(exe, X_OK) == 0 else { return nil }
        let file = "\(BenchScratch.dir)/otlp-export.pb", outFile = "\(BenchScratch.dir)/otlp-compare.txt"
        defer { unlink(file); unlink(outFile) }
        try Data(body).write(to: URL(fileURLWithPath: file))
        let status = try IdleBench.runShell("'\(exe)' '\(file)' \(spansPerExport) \(rounds) > '\(outFile)' 2>&1")
        let out = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: outFile))) ?? Data(), as: UTF8.self)
        guard status == 0 else { throw ValidationError("bfftop-protobuf-bench: \(out)") }
        let fields = Dictionary(out.split(separator: " ").compactMap { f -> (String, Double)? in
            let kv = f.split(separator: "=")
            return kv.count == 2 ? (String(kv[0]), Double(kv[1].filter { !$0.isWhitespace }) ?? 0) : nil
        }, uniquingKeysWith: { a, _ in a })
        guard let mine = fields["bfftop"], let theirs = fields["swift-protobuf"], mine > 0, theirs > 0 else {
            throw ValidationError("bfftop-protobuf-bench: \(out)")
        }
        return (mine, theirs)
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

    /// An export as the Python or Node SDK writes it (`BenchOTLPExport`).
    static func export(at t: Double, seed: UInt64) -> [UInt8] { BenchOTLPExport.build(at: t, seed: seed, spans: spansPerExport) }

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
                .flatMap { Int($0.dropFirst(15).filter { $0 != " " }) } ?? 0
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

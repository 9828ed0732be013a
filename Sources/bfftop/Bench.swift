#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BFFTopDemo
import BFFTopEngine
import BFFTopMetrics
import BFFTopStats
import BFFTopUI
import BFFTopWire
import FoundationEssentials

/// `bfftop bench`: measures the figures the issues set targets for and prints them.
/// Run it from a release build: `swift run -c release bfftop bench`.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure ingest (native and OTLP), aggregation, replay, memory, rendering, alarms, the metrics backend and idle CPU; prints figures.")

    @Option(help: "Comma-separated parts to run: ingest (socket and decoding), live (the whole engine behind the socket), otlp (OTLP protobuf decoding and ingest), aggregate, replay, memory, render, alarms, metrics, idle.")
    var only: String = "ingest,live,otlp,aggregate,replay,memory,render,alarms,metrics,idle"

    @Flag(help: "Smaller workloads, for a quick look (figures are less stable).")
    var quick = false

    @Option(name: .customLong("replay-file"), help: ArgumentHelp(
        "Replay this recording instead of a generated one (for the replay part); written first if it does not exist.",
        valueName: "path"))
    var replayFile: String?

    @Option(help: .hidden)
    var memoryChild: Int?

    func run() async throws {
        if let n = memoryChild {
            MemoryBench.child(endpoints: n, hours: quick ? 0.1 : 1)
            return
        }
        let parts = Set(only.split(separator: ",").map { $0.trimmedWhitespace })
        #if DEBUG
        print("note: this is a debug build; run `swift run -c release bfftop bench` for real figures\n")
        #endif
        print("bfftop bench — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(quick ? "quick" : "full") workloads\n")
        if parts.contains("ingest") || parts.contains("live") {
            try await IngestBench.run(quick: quick, decoding: parts.contains("ingest"), live: parts.contains("live"))
        }
        if parts.contains("otlp") { try await OTLPBench.run(quick: quick) }
        if parts.contains("aggregate") { AggregateBench.run(quick: quick) }
        if parts.contains("replay") { try ReplayBench.run(quick: quick, file: replayFile) }
        if parts.contains("memory") { try MemoryBench.run(quick: quick) }
        if parts.contains("render") { RenderBench.run(quick: quick) }
        if parts.contains("alarms") { AlarmBench.run(quick: quick) }
        if parts.contains("metrics") { MetricsBench.run(quick: quick) }
        if parts.contains("idle") { try IdleBench.run(quick: quick) }
        BenchScratch.remove()
    }
}

/// The bench's files and sockets, in a fresh private directory: predictable names in /tmp could be
/// links another user planted.
enum BenchScratch {
    static let dir: String = {
        var template = Array("/tmp/bfftop-bench-XXXXXX".utf8CString)
        let ok = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        precondition(ok, "cannot create a scratch directory in /tmp: \(String(cString: strerror(errno)))")
        return String(cString: template)
    }()

    static func remove() {
        if let names = try? FileManager.default.contentsOfDirectory(atPath: dir) {
            for n in names { unlink(dir + "/" + n) }
        }
        rmdir(dir)
    }
}

func monotonic() -> Double { monotonicSeconds() }

func row(_ label: String, _ value: String, target: String? = nil, ok: Bool? = nil) {
    let mark = ok.map { $0 ? "✓" : "✗" } ?? " "
    let t = target.map { "  (target \($0))" } ?? ""
    print("  \(mark) \(label.padded(to: 44)) \(value)\(t)")
}

/// Synthetic but realistic events: `endpoints` endpoints, a quarter of them functions with
/// memory, cold starts and a parent route; log-normal latencies with per-endpoint medians.
struct SyntheticTraffic {
    var rng = SplitMix64(seed: 11)
    let endpoints: [String]
    let routes: Int

    init(endpoints n: Int) {
        endpoints = (0..<n).map { i in i % 4 == 3 ? "fn-\(i)-worker" : "GET /api/v1/resource-\(i)" }
        routes = n
    }

    mutating func event(at t: Double) -> WireEvent {
        let i = Int(rng.next() % UInt64(endpoints.count))
        let name = endpoints[i]
        let median = 5.0 + Double(i % 17) * 12
        let z = sqrt(-2 * log(max(1e-12, rng.unit()))) * cos(2 * .pi * rng.unit())
        let ms = median * exp(0.7 * z)
        if i % 4 == 3 {
            let cold = rng.unit() < 0.02
            return .invocation(Invocation(
                ts: t - ms / 1000, service: "svc-\(i % 9)", endpoint: name, kind: .function, durationMs: ms,
                memoryMB: 512, maxMemoryMB: 200, coldStart: cold, initMs: cold ? 300 : nil,
                outcome: rng.unit() < 0.01 ? .error : .ok, timeoutMs: 3000, parent: endpoints[(i / 4) * 4]))
        }
        return .invocation(Invocation(
            ts: t - ms / 1000, service: "bff-\(i % 3)", endpoint: name, kind: .route, durationMs: ms,
            outcome: rng.unit() < 0.005 ? .error : .ok, status: 200))
    }
}

/// Resident set size of this process, from /proc.
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
        return kb * 1024
    }
    return 0
}

func mib(_ bytes: Int) -> String { formatFixed(Double(bytes) / 1_048_576, 1) + " MiB" }

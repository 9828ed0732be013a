#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BFFTopEngine
import BFFTopIngest
import BFFTopMetrics
import BFFTopStats
import BFFTopUI
import BFFTopWire
import FoundationEssentials
import NIOPosix
import Synchronization

/// Counts what arrives, for measuring the socket + decode path alone.
final class CountingSink: EventSink {
    let count = Atomic<Int>(0)
    func deliver(_ batch: WireEventBatch) { count.wrappingAdd(batch.count, ordering: .relaxed) }
}

enum IngestBench {
    /// How many cores the last measurement kept busy (CPU time over elapsed time).
    nonisolated(unsafe) static var lastCoresBusy = 0.0
    /// The last measurement's CPU per event (or span) by thread role (ns): engine, event loops, the rest.
    nonisolated(unsafe) static var lastSplit: [(role: String, ns: Double)] = []

    static func run(quick: Bool, decoding: Bool = true, live: Bool = true) async throws {
        print("Ingest over a real Unix socket (native NDJSON, decode included)")
        var traffic = SyntheticTraffic(endpoints: 200)
        let linesPerChunk = 20_000
        let chunk = LiveChunk(lines: (0..<linesPerChunk).map { _ in traffic.event(at: 0) })
        print("    lines average \(formatFixed(Double(chunk.bytes.count) / Double(linesPerChunk), 0)) bytes; each sent stamped with the time it is sent")
        let total = quick ? 1_000_000 : 4_000_000
        for connections in decoding ? [1, 16] : [] {
            let rate = try await measure(connections: connections, totalEvents: total, chunk: chunk, engine: false)
            row("decode only, \(connections) connection\(connections == 1 ? "" : "s")", formatFixed(rate / 1e6, 2) + " M events/s", target: "≥ 1 M/s", ok: rate >= 1e6)
        }
        guard live else { return print() }
        let rate = try await measure(connections: 4, totalEvents: total, chunk: chunk, engine: true)
        row("socket → decode → aggregate (engine), 4 conns", formatFixed(rate / 1e6, 2) + " M events/s", target: "≥ 4 M/s", ok: rate >= 4e6)
        print("    \(formatFixed(lastCoresBusy, 2)) cores busy (the writers included), \(formatFixed(lastCoresBusy / rate * 1e9, 0)) ns of CPU an event:")
        print("      " + lastSplit.map { "\($0.role) \(formatFixed($0.ns, 0))" }.joined(separator: ", "))
        let recFile = "\(BenchScratch.dir)/rec.ndjson"
        defer { for s in ["", ".1", ".2"] { unlink(recFile + s) } }
        let withRec = try await measure(connections: 4, totalEvents: total / 2, chunk: chunk, engine: true, record: recFile)
        row("same, recording to a file (--record)", formatFixed(withRec / 1e6, 2) + " M events/s")
        print()
    }

    /// Sends `totalEvents` lines over `connections` sockets from writer threads; returns events/s
    /// from the first byte to the last event counted.
    static func measure(connections: Int, totalEvents: Int, chunk: LiveChunk, engine useEngine: Bool, record: String? = nil) async throws -> Double {
        let linesPerChunk = chunk.lines
        let path = "\(BenchScratch.dir)/\(connections).sock"
        let sink = CountingSink()
        let stats = IngestStats()
        let recorder = record.map { Recorder(path: $0, source: "bench") }
        let engine = LiveEngine(stats: stats, refreshInterval: 0.5, recorder: recorder)
        let group = IngestThreads.makeGroup()
        let listener = try await Listener.start(path: path, sink: useEngine ? engine.mailbox : sink, stats: stats, group: group)
        if useEngine { engine.start() }
        let chunksPerConnection = max(1, totalEvents / linesPerChunk / connections)
        let expected = chunksPerConnection * linesPerChunk * connections
        let start = monotonic()
        let cpuStart = processCPUSeconds()
        let threadsStart = ThreadCPU.sample(roles: ThreadCPU.pipelineRoles)
        let threads = (0..<connections).map { _ in
            { @Sendable in
                let w = BenchWriter(path: path)
                var bytes = chunk.bytes
                var stamped = 0.0
                for _ in 0..<chunksPerConnection {
                    // Restamped every 50 ms, so the client's own formatting stays out of the figure.
                    let now = wallClock()
                    if now - stamped >= 0.05 {
                        chunk.stamp(&bytes, at: now)
                        stamped = now
                    }
                    w.send(bytes)
                }
                w.close()
            }
        }
        for (i, t) in threads.enumerated() { startThread(name: "bench-writer-\(i)", t) }
        func received() -> Int { useEngine ? engine.eventsAggregated : sink.count.load(ordering: .relaxed) }
        while received() < expected, monotonic() - start < 120 {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        let elapsed = monotonic() - start
        let cpu = processCPUSeconds() - cpuStart
        lastCoresBusy = cpu / elapsed
        let got = received()
        lastSplit = ThreadCPU.sample(roles: ThreadCPU.pipelineRoles).perItem(since: threadsStart, total: cpu, items: got)
        engine.stop()
        await listener.stop()
        try await group.shutdownGracefully()
        return Double(got) / elapsed
    }
}

/// A blocking writer for the benchmark's client side.
final class BenchWriter {
    let fd: Int32
    init(path: String) {
        fd = connectUnixSocket(path) ?? -1
    }
    func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                guard let base = buf.baseAddress else { return }
                let n = write(fd, base + off, buf.count - off)
                if n <= 0 { return }
                off += n
            }
        }
    }
    func close() { Glibc.close(fd) }
}

enum ReplayBench {
    static func run(quick: Bool, file: String? = nil) throws {
        print("Replay at --speed max (read, decode, aggregate from a recording)")
        let n = quick ? 300_000 : 2_000_000
        let path = file ?? "\(BenchScratch.dir)/replay.ndjson"
        defer { if file == nil { unlink(path) } }
        if !FileManager.default.fileExists(atPath: path) { try write(events: n, to: path) }
        // Best of three: on a shared 2-core machine one run can lose a whole core to a neighbour.
        func best(decoders: Int) throws -> (events: Int, rate: Double) {
            var best = (events: 0, rate: 0.0)
            for _ in 0..<3 {
                // With the default alarm rules, judged every second of event time, as `bfftop replay` runs.
                let engine = try ReplayEngine(paths: [path], speed: .infinity, refreshInterval: 1, alarms: AlarmRule.defaults,
                                              decoding: ReplayDecoding(threads: decoders))
                let start = monotonic()
                engine.start()
                while engine.frame().playback?.atEnd != true, monotonic() - start < 300 { usleep(2_000) }
                let elapsed = monotonic() - start
                let events = engine.frame().ingest.events
                engine.stop()
                if Double(events) / elapsed > best.rate { best = (events, Double(events) / elapsed) }
            }
            return best
        }
        let decoders = ChunkPlan.defaultWorkers
        let main = try best(decoders: decoders)
        row("replay \(main.events) events (best of 3)", formatFixed(main.rate / 1e6, 2) + " M events/s",
            target: "≥ 5 M/s", ok: main.rate >= 5e6)
        print("      (\(decoders) decoding thread\(decoders == 1 ? "" : "s") and the engine thread on \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        // The other setting, for comparison: chunks decoded on two threads, or on one.
        let other = decoders == 1 ? 2 : 1
        let alt = try best(decoders: other)
        row("  same, \(other) decoding thread\(other == 1 ? "" : "s")", formatFixed(alt.rate / 1e6, 2) + " M events/s")
        // The two halves alone, one after the other on this thread (after the run: the memory
        // they hold would slow it down).
        var read = Double.infinity, aggregate = Double.infinity
        for _ in 0..<3 {
            let stages = try ReplayStages.measure(paths: [path], limit: min(n, 1_000_000), alarms: AlarmRule.defaults, clock: monotonic)
            read = min(read, stages.readSeconds / Double(stages.events) * 1e9)
            aggregate = min(aggregate, stages.aggregateSeconds / Double(stages.events) * 1e9)
        }
        row("  read + decode (reader thread)", formatFixed(read, 0) + " ns/event")
        row("    of which decoding lines in memory", formatFixed(try decodeInMemory(path: path), 0) + " ns/event")
        row("  price, aggregate, alarms (engine thread)", formatFixed(aggregate, 0) + " ns/event")
        print()
    }

    /// The fast decoder alone on the recording's first 200,000 lines, already in memory: the
    /// reader's cost without reading, batching or handing over (best of 3).
    static func decodeInMemory(path: String) throws -> Double {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ValidationError("cannot read \(path)") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 64 << 20)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        bytes.removeSubrange(max(n, 0)...)
        var lines: [Range<Int>] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            if lines.count == 200_000 { break }
            lines.append(start..<i)
            start = i + 1
        }
        var best = Double.infinity
        for _ in 0..<3 {
            var decoder = RecordingFastDecoder()
            var ids: [String] = []
            var decoded = 0
            let t0 = monotonic()
            bytes.withUnsafeBytes { all in
                for r in lines where decoder.decode(UnsafeRawBufferPointer(rebasing: all[r]), ids: &ids) != nil { decoded += 1 }
            }
            let dt = monotonic() - t0
            if decoded > 0 { best = min(best, dt / Double(lines.count) * 1e9) }
        }
        return best
    }

    /// A recording of `n` events from 100 endpoints at 10,000 events/s.
    static func write(events n: Int, to path: String) throws {
        var traffic = SyntheticTraffic(endpoints: 100)
        let t0 = 1_732_460_000.0
        var text = #"{"bfftop_recording":1,"started":1732460000,"source":"bench"}"# + "\n"
        text.reserveCapacity(n * 220)
        for i in 0..<n {
            let t = t0 + Double(i) / 10_000
            text += "{\"rt\":\(JSONObjectWriter.fixed(t, decimals: 6))," + NativeEncoder.encode(traffic.event(at: t)).dropFirst() + "\n"
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw ValidationError("cannot write \(path)")
        }
        // Written back before timing: the kernel's writeback of 400 MB would otherwise share the
        // two cores with the replay it measures.
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}

enum AggregateBench {
    static func run(quick: Bool) {
        print("Aggregation (decoded events into per-endpoint tiers, sketches, concurrency, cost)")
        let n = quick ? 500_000 : 2_000_000
        var traffic = SyntheticTraffic(endpoints: 100)
        let t0 = 1_732_460_000.0
        let events = (0..<n).map { traffic.event(at: t0 + Double($0) / 10_000) }
        let agg = Aggregator(config: { var c = AggregatorConfig(); c.startedAt = t0; return c }())
        let start = monotonic()
        var next = t0 + 1
        for (i, e) in events.enumerated() {
            agg.ingest(e)
            let t = t0 + Double(i) / 10_000
            if t >= next {
                agg.advance(to: t)
                next += 1
            }
        }
        let elapsed = monotonic() - start
        row("aggregate, 100 endpoints, 10k events/s stream", formatFixed(elapsed / Double(n) * 1e9, 0) + " ns/event")
        var line = [UInt8]()
        var decoded = 0
        let lines = events.prefix(200_000).map { Array(NativeEncoder.encode($0).utf8) }
        let decoder = NativeDecoder()
        let d0 = monotonic()
        for l in lines {
            line = l
            if case .success = line.withUnsafeBytes({ decoder.decode($0) }) { decoded += 1 }
        }
        let dt = monotonic() - d0
        row("decode one line, general decoder", formatFixed(dt / Double(lines.count) * 1e9, 0) + " ns/line")
        // What a connection runs: successful invocations by the fast path first.
        let block = lines.reduce(into: [UInt8]()) { $0 += $1; $0.append(0x0A) }
        var lineDecoder = LineDecoder()
        let l0 = monotonic()
        _ = block.withUnsafeBytes { lineDecoder.consume($0) }
        let lt = monotonic() - l0
        decoded += lineDecoder.take().events.count
        row("decode one line, as a connection does", formatFixed(lt / Double(lines.count) * 1e9, 0) + " ns/line")
        let s0 = monotonic()
        let snaps = 20
        for i in 0..<snaps { _ = agg.snapshot(SnapshotRequest(window: Window.allCases[i % 4], detailFor: traffic.endpoints[0]), now: t0 + Double(n) / 10_000) }
        row("snapshot of 100 endpoints (all windows avg)", formatFixed((monotonic() - s0) / Double(snaps) * 1000, 2) + " ms")
        print()
    }
}

enum MemoryBench {
    static func run(quick: Bool) throws {
        print("Memory: whole-process RSS after \(quick ? "6 minutes" : "an hour") of simulated traffic (a fresh process each)")
        for (n, target) in [(100, 32), (1000, 128)] {
            let outFile = "\(BenchScratch.dir)/mem-\(n).out"
            defer { unlink(outFile) }
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            _ = try IdleBench.runShell("'\(exe)' bench --memory-child \(n) \(quick ? "--quick" : "") > '\(outFile)'")
            let out = (try? String(contentsOfFile: outFile, encoding: .utf8)) ?? ""
            let fields = Dictionary(uniqueKeysWithValues: out.split(separator: "\n").compactMap { l -> (String, String)? in
                let kv = l.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            })
            let rss = Int(fields["rss"] ?? "") ?? 0
            let base = Int(fields["baseline"] ?? "") ?? 0
            let events = fields["events"] ?? "?"
            row("\(n) endpoints, \(events) events", "RSS \(mib(rss)) (process before data \(mib(base)), endpoint state \(mib(Int(fields["heap"] ?? "") ?? 0)))",
                target: "≤ \(target) MiB", ok: rss <= target << 20)
        }
        print()
    }

    /// Runs in a child process: an hour of traffic at 2,000 events/s spread over n endpoints.
    static func child(endpoints n: Int, hours: Double) {
        let baseline = residentBytes()
        var traffic = SyntheticTraffic(endpoints: n)
        let t0 = 1_732_460_000.0
        let agg = Aggregator(config: { var c = AggregatorConfig(); c.startedAt = t0; return c }())
        let rate = 2000.0
        let total = Int(hours * 3600 * rate)
        var next = t0
        for i in 0..<total {
            let t = t0 + Double(i) / rate
            agg.ingest(traffic.event(at: t))
            if t >= next {
                _ = agg.snapshot(SnapshotRequest(window: .oneMinute, detailFor: traffic.endpoints[0]), now: t)
                next += 1
            }
        }
        _ = agg.snapshot(SnapshotRequest(window: .oneHour), now: t0 + Double(total) / rate)
        print("rss=\(residentBytes())")
        print("baseline=\(baseline)")
        print("heap=\(agg.heapBytes)")
        print("events=\(total)")
    }
}

enum RenderBench {
    static func run(quick: Bool) {
        print("Rendering (state → cell grid, no terminal)")
        var traffic = SyntheticTraffic(endpoints: 1000)
        let t0 = 1_732_460_000.0
        let agg = Aggregator(config: { var c = AggregatorConfig(); c.startedAt = t0; return c }())
        for i in 0..<300_000 { agg.ingest(traffic.event(at: t0 + Double(i) / 5000)) }
        let now = t0 + 60
        let snap = agg.snapshot(SnapshotRequest(window: .oneMinute, detailFor: traffic.endpoints[0]), now: now)
        var ingest = IngestStatus(listenPath: "/tmp/bench.sock")
        ingest.connections = [ConnectionStatus(id: 1, origin: "conn")]
        let frame = EngineFrame(snapshot: snap, ingest: ingest, eventsPerSecond: 5000, sequence: 1)
        var state = AppState(frame: frame, source: SourceInfo(mode: "● live", detail: "/tmp/bench.sock"), width: 200, height: 50)
        state.receive(frame)
        state.selected = traffic.endpoints[0]
        let iterations = quick ? 100 : 500
        var times: [Double] = []
        for _ in 0..<iterations {
            let s = monotonic()
            let grid = Dashboard.render(state)
            times.append(monotonic() - s)
            precondition(grid.width == 200)
        }
        times.sort()
        let mean = times.reduce(0, +) / Double(times.count)
        let p99 = times[min(times.count - 1, Int(Double(times.count) * 0.99))]
        row("frame at 200×50, 1,000 endpoints", "mean \(formatFixed(mean * 1000, 3)) ms, p99 \(formatFixed(p99 * 1000, 3)) ms", target: "≤ 1 ms", ok: mean <= 0.001)
        print()
    }
}

enum IdleBench {
    /// Starts the real dashboard in tmux with no traffic and reads its CPU time from /proc.
    static func run(quick: Bool) throws {
        print("Idle dashboard CPU (real binary in tmux, default 1 s refresh, no traffic)")
        guard (try? runShell("command -v tmux > /dev/null")) == 0 else {
            print("    skipped: tmux not installed (apt-get install -y tmux)\n")
            return
        }
        let server = "bfftop-bench-\(getpid())"
        let sock = "\(BenchScratch.dir)/idle.sock"
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        _ = try runShell("tmux -L \(server) new-session -d -x 200 -y 50 '\(exe) watch --socket \(sock)' > /dev/null 2>&1")
        defer {
            // In two shells: `pkill -f` also matches the shell running it (its command line holds
            // the pattern), so nothing after it in the same shell ran, and the tmux server's socket
            // was left in /tmp after every bench.
            _ = try? runShell("pkill -TERM -f -- '\(sock)'")
            _ = try? runShell("tmux -L \(server) kill-server > /dev/null 2>&1; rm -f \"${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/\(server)\"")
        }
        var pid: Int?
        for _ in 0..<50 where pid == nil {
            usleep(100_000)
            pid = pidOf(sock)
        }
        guard let pid else {
            print("    skipped: the dashboard did not start\n")
            return
        }
        sleep(2)  // settle: first frames, theme loading
        let seconds = quick ? 5.0 : 20.0
        let c0 = cpuSeconds(pid), w0 = monotonic()
        usleep(UInt32(seconds * 1e6))
        let c1 = cpuSeconds(pid), w1 = monotonic()
        let pct = (c1 - c0) / (w1 - w0) * 100
        row("idle CPU over \(Int(seconds)) s", formatFixed(pct, 2) + " % of a core", target: "≤ 0.5 %", ok: pct <= 0.5)
        print()
    }

    static func pidOf(_ sock: String) -> Int? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for e in entries {
            guard let pid = Int(e), let cmd = FileManager.default.contents(atPath: "/proc/\(e)/cmdline") else { continue }
            let args = String(decoding: cmd, as: UTF8.self).split(separator: "\0")
            if args.contains(where: { $0 == sock }), args.contains("watch") { return pid }
        }
        return nil
    }

    static func cpuSeconds(_ pid: Int) -> Double {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = s.lastIndex(of: ")") else { return 0 }
        let f = s[s.index(after: close)...].split(separator: " ")
        // Fields after the command: state is f[0]; utime and stime are fields 14 and 15 overall.
        let utime = Double(f[11]) ?? 0, stime = Double(f[12]) ?? 0
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func runShell(_ command: String) throws -> Int32 {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(command), nil]
        defer { for a in argv { free(a) } }
        guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return (status >> 8) & 0xff
    }
}

enum AlarmBench {
    /// What judging every rule once costs (done once per second of event time, on the engine thread).
    static func run(quick: Bool) {
        print("Alarm evaluation (default rules, once per second of event time)")
        for n in [100, 1000] {
            for (label, rules) in [("default rules", AlarmRule.defaults),
                                   ("+ a p99 rule", AlarmRule.defaults + [AlarmRule(name: "p99", metric: .p99, .greater, 500)])] {
                // n events a second on n endpoints; every second judged while data keeps coming.
                var traffic = SyntheticTraffic(endpoints: n)
                let agg = Aggregator()
                let engine = AlarmEngine(rules: rules)
                let t0 = 1_732_460_000.0
                let seconds = quick ? 30 : 120
                var spent = 0.0
                for s in 0..<(60 + seconds) {
                    for i in 0..<n { agg.ingest(traffic.event(at: t0 + Double(s) + Double(i) / Double(n))) }
                    let start = monotonic()
                    engine.evaluate(agg, upTo: t0 + Double(s + 1))
                    if s >= 60 { spent += monotonic() - start }
                }
                let per = spent / Double(seconds)
                row("\(n) endpoints, \(label)", formatFixed(per * 1000, 3) + " ms per second judged",
                    target: "≤ 5 ms (0.5 % of a core)", ok: per <= 0.005)
            }
        }
        print()
    }
}

enum MetricsBench {
    /// What a swift-metrics call costs the server with `BFFTopMetricsFactory` (nothing listening, so the
    /// figure is the server-side cost alone: cached handler lookup + a bounded-queue append).
    static func run(quick: Bool) {
        print("swift-metrics backend (cost on the server's thread)")
        let n = quick ? 200_000 : 1_000_000
        let factory = BFFTopMetricsFactory(socketPath: "\(BenchScratch.dir)/nobody.sock", service: "bench", capacity: n * 2)
        let dims = [("http.route", "/api/slots/{id}"), ("http.request.method", "GET"), ("http.response.status_code", "200")]
        let timer = factory.makeTimer(label: "http.server.request.duration", dimensions: dims)
        var start = monotonic()
        for i in 0..<n { timer.recordNanoseconds(Int64(1_000_000 + i % 5000)) }
        let record = (monotonic() - start) / Double(n)
        row("Timer.recordNanoseconds (Hummingbird)", formatFixed(record * 1e9, 0) + " ns per value", target: "≤ 1 µs", ok: record <= 1e-6)
        let vdims = [("method", "GET"), ("path", "/users/:userID"), ("status", "200")]
        start = monotonic()
        for i in 0..<(n / 4) {
            factory.makeCounter(label: "http_requests_total", dimensions: vdims).increment(by: 1)
            factory.makeTimer(label: "http_request_duration_seconds", dimensions: vdims).recordNanoseconds(Int64(i))
        }
        let vapor = (monotonic() - start) / Double(n / 4)
        row("Vapor request (new Counter + Timer each)", formatFixed(vapor * 1e9, 0) + " ns per request", target: "≤ 5 µs", ok: vapor <= 5e-6)
        factory.shutdown()
        print()
    }
}

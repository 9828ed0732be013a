import BFFTopDemo
import BFFTopEngine
import BFFTopIngest
import BFFTopStats
import BFFTopWire
import Foundation
import Testing

@Suite struct ReplayTests {
    let t0 = 1_732_460_000.0

    /// Records `seconds` of the seeded demo fleet the way `--record` does, split over `files` files
    /// (events alternate between them, so replay has to merge).
    func makeRecording(seconds: Double, files: Int = 1, truncateLast: Bool = false) throws -> [String] {
        var sim = FleetSimulator(start: t0, seed: 3)
        var batches: [WireEventBatch] = []
        var t = t0
        while t < t0 + seconds {
            t += 0.25
            batches.append(WireEventBatch(receivedAt: t, events: sim.advance(to: t)))
        }
        let paths = (0..<files).map { NSTemporaryDirectory() + "bfftop-replay-\(UUID().uuidString)-\($0).ndjson" }
        var texts = paths.map { _ in #"{"bfftop_recording":1,"started":1732460000,"source":"test"}"# + "\n" }
        var k = 0
        for b in batches {
            for e in b.events {
                let line = NativeEncoder.encode(e)
                texts[k % files] += "{\"rt\":\(JSONObjectWriter.fixed(b.receivedAt, decimals: 6))," + line.dropFirst() + "\n"
                k += 1
            }
        }
        if truncateLast { texts[0] += #"{"rt":1732460099,"v":1,"type":"invoc"# }
        for (p, text) in zip(paths, texts) { try text.write(toFile: p, atomically: true, encoding: .utf8) }
        return paths
    }

    func waitFor(_ engine: ReplayEngine, _ timeout: Double = 10, _ cond: (EngineFrame) -> Bool) async -> EngineFrame {
        let deadline = Date().addingTimeInterval(timeout)
        var f = engine.frame()
        while !cond(f), Date() < deadline {
            try? await Task.sleep(nanoseconds: 20_000_000)
            f = engine.frame()
        }
        return f
    }

    @Test func silenceIsSkippedAtAnySpeed() async throws {
        // Three bursts a day apart: at 1× the gaps would take days.
        let path = NSTemporaryDirectory() + "bfftop-replay-gaps-\(UUID().uuidString).ndjson"
        defer { unlink(path) }
        var text = ""
        for day in 0..<3 {
            for i in 0..<5 {
                text += NativeEncoder.encode(.invocation(Invocation(ts: t0 + Double(day) * 86400 + Double(i) * 0.2, endpoint: "GET /a", durationMs: 10))) + "\n"
            }
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let engine = try ReplayEngine(paths: [path], speed: 1, refreshInterval: 0.05)
        engine.start()
        let end = await waitFor(engine, 20) { $0.playback?.atEnd == true }
        #expect(end.playback?.atEnd == true, "two days of silence played in \(end.playback.map { $0.position - $0.start } ?? 0) s of event time")
        #expect((end.playback?.skippedSilence ?? 0) > 2 * 86400 - 60)
        #expect(end.snapshot.totals.count == 5, "the last burst's figures (1m window)")
        // Stopping returns at once.
        let started = Date()
        engine.stop()
        #expect(Date().timeIntervalSince(started) < 1)
    }

    @Test func quittingDuringALongSeekStopsWithinAFrame() async throws {
        let paths = try makeRecording(seconds: 1800)
        defer { for p in paths { unlink(p) } }
        defer { for p in paths { unlink(p) } }
        let engine = try ReplayEngine(paths: paths, speed: 1)
        engine.start()
        engine.control(.jumpToEnd)  // rebuilds from the first event: the whole file
        try? await Task.sleep(nanoseconds: 20_000_000)
        let started = Date()
        engine.stop()
        #expect(Date().timeIntervalSince(started) < 0.5, "stop waited \(Date().timeIntervalSince(started)) s")
    }

    @Test func seekingBackGivesTheSameFiguresAsPlayingThere() async throws {
        let paths = try makeRecording(seconds: 120)
        defer { for p in paths { unlink(p) } }
        defer { for p in paths { unlink(p) } }
        let request = SnapshotRequest(window: .oneMinute, detailFor: "GET /api/slots")

        // Straight to 90 s at max speed, paused there.
        let direct = try ReplayEngine(paths: paths, speed: .infinity, to: t0 + 90)
        direct.update(request)
        direct.start()
        let a = await waitFor(direct) { $0.playback?.atEnd == true && $0.snapshot.now >= t0 + 90 }
        direct.stop()

        // Play to the end, then seek back to 90 s.
        let seeker = try ReplayEngine(paths: paths, speed: .infinity)
        seeker.update(request)
        seeker.start()
        _ = await waitFor(seeker) { $0.playback?.atEnd == true }
        seeker.control(.seekTo(t0 + 90))
        let b = await waitFor(seeker) { abs(($0.playback?.position ?? 0) - (t0 + 90)) < 1e-9 }
        seeker.stop()

        #expect(a.snapshot.endpoints.count == 14)
        #expect(a.snapshot.endpoints == b.snapshot.endpoints, "figures after a backward seek equal a fresh play")
        #expect(a.snapshot.detail == b.snapshot.detail)
        #expect(a.snapshot.totals == b.snapshot.totals)
    }

    /// The reader thread prepares most events itself (fast decoder, cost, sketch keys); the figures
    /// must be exactly those of decoding every line generally and aggregating in file order.
    @Test func replayGivesExactlyTheFiguresOfAggregatingTheLinesDirectly() throws {
        let paths = try makeRecording(seconds: 90)
        defer { for p in paths { unlink(p) } }
        defer { for p in paths { unlink(p) } }
        let summary = try RecordingSummary.read(paths: paths)
        var config = AggregatorConfig()
        config.startedAt = summary.start
        let reference = Aggregator(config: config)
        let decoder = NativeDecoder()
        var events = 0
        var advanced = Int64.min
        let text = try String(contentsOfFile: paths[0], encoding: .utf8)
        for line in text.split(separator: "\n") {
            let bytes = Array(line.utf8)
            guard case .success(.event(let e, let rt)) = bytes.withUnsafeBytes({ b in
                Result { () throws(DecodeError) in try decoder.decodeRecordingLine(b) }
            }) else { continue }
            let time = rt ?? e.eventTime
            if Int64(time.rounded(.down)) > advanced {  // as replay: at each new second of event time
                reference.passTime(to: time)
                advanced = Int64(time.rounded(.down))
            }
            reference.ingest(e, receivedAt: rt)
            events += 1
        }
        #expect(summary.events == events)
        for window in Window.allCases {
            let request = SnapshotRequest(window: window, detailFor: "GET /api/slots")
            let a = summary.aggregator.snapshot(request, now: summary.end)
            let b = reference.snapshot(request, now: summary.end)
            #expect(a.endpoints == b.endpoints)
            #expect(a.totals == b.totals)
            #expect(a.detail == b.detail)
            #expect(a.recentFailures == b.recentFailures)
        }
    }

    /// A large recording is cut into chunks that several threads decode at once; the events, their
    /// order and every counter must be exactly those of decoding it on one thread.
    @Test func decodingInChunksOnSeveralThreadsGivesExactlyTheSequentialFigures() throws {
        let paths = try makeRecording(seconds: 90, truncateLast: true)
        defer { for p in paths { unlink(p) } }
        defer { for p in paths { unlink(p) } }
        // A malformed line and an application log line in the middle count the same either way.
        var lines = try String(contentsOfFile: paths[0], encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        lines.insert(#"{"v":1,"type":"invocation","ts":"#, at: lines.count / 3)
        lines.insert("2024-11-24T10:00:00Z INFO booking confirmed", at: 2 * lines.count / 3)
        try lines.joined(separator: "\n").write(toFile: paths[0], atomically: true, encoding: .utf8)
        let chunk = 16 << 10
        let chunks = try #require(ChunkPlan.ranges(paths: paths, workers: 2, chunkBytes: chunk))
        #expect(chunks.count > 8, "the recording is cut into many chunks")
        #expect(chunks.first?.lowerBound == 0)
        #expect(zip(chunks, chunks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })

        let sequential = try RecordingSummary.read(paths: paths, decoding: ReplayDecoding(threads: 1))
        #expect(sequential.skippedLines == 1 && sequential.otherLines == 1 && sequential.truncatedLastLines == 1)
        for threads in [2, 3] {
            let parallel = try RecordingSummary.read(paths: paths, decoding: ReplayDecoding(threads: threads, chunkBytes: chunk))
            #expect(parallel.events == sequential.events)
            #expect(parallel.start == sequential.start && parallel.end == sequential.end)
            #expect(parallel.skippedLines == 1 && parallel.otherLines == 1 && parallel.truncatedLastLines == 1)
            for window in Window.allCases {
                let request = SnapshotRequest(window: window, detailFor: "GET /api/slots")
                let a = parallel.aggregator.snapshot(request, now: sequential.end)
                let b = sequential.aggregator.snapshot(request, now: sequential.end)
                #expect(a.endpoints == b.endpoints, "\(threads) threads, \(window)")
                #expect(a.totals == b.totals)
                #expect(a.detail == b.detail)
            }
        }
    }

    @Test func severalFilesMergeInTimeOrderAndATruncatedLastLineIsSkipped() async throws {
        let one = try makeRecording(seconds: 30)
        let split = try makeRecording(seconds: 30, files: 3, truncateLast: true)
        defer { for p in one + split { unlink(p) } }
        defer { for p in one + split { unlink(p) } }
        let x = try ReplayEngine(paths: one, speed: .infinity)
        let y = try ReplayEngine(paths: split, speed: .infinity)
        x.start()
        y.start()
        let fx = await waitFor(x) { $0.playback?.atEnd == true }
        let fy = await waitFor(y) { $0.playback?.atEnd == true && $0.playback?.truncatedLastLines == 1 }
        x.stop()
        y.stop()
        #expect(fx.ingest.events > 1000)
        #expect(fx.ingest.events == fy.ingest.events)
        // Same events in the same time order (ties may interleave differently, so sums may differ in
        // the last bits): compare counts exactly and money to 1e-12.
        let ex = fx.snapshot.endpoints.sorted { $0.name < $1.name }, ey = fy.snapshot.endpoints.sorted { $0.name < $1.name }
        #expect(ex.map(\.name) == ey.map(\.name))
        for (a, b) in zip(ex, ey) {
            #expect(a.count == b.count && a.errors == b.errors && a.cold == b.cold && a.p50 == b.p50 && a.p99 == b.p99, "\(a.name)")
            #expect(abs(a.cost - b.cost) <= 1e-12 * max(1, a.cost), "\(a.name) cost")
        }
        #expect(fy.playback?.truncatedLastLines == 1)
        #expect(fy.playback?.skippedLines == 0)
    }

    @Test func playsOnAVirtualClockAtTheChosenSpeed() async throws {
        let paths = try makeRecording(seconds: 60)
        defer { for p in paths { unlink(p) } }
        defer { for p in paths { unlink(p) } }
        let e = try ReplayEngine(paths: paths, speed: 10, refreshInterval: 0.05)
        let start = e.span.start
        let t1 = Date()
        e.start()
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let f = e.frame()
        let elapsed = Date().timeIntervalSince(t1)
        e.control(.togglePause)
        e.stop()
        let advanced = (f.playback?.position ?? start) - start
        // 10 s of recording per wall second, give or take a refresh interval (frames are 50 ms apart).
        #expect(advanced > 10 * (min(elapsed, 1) - 0.3) && advanced <= 10 * elapsed + 0.01, "at 10× for \(elapsed) s: \(advanced) s")
        #expect(ReplayEngine.step(10, up: true) == 30)
        #expect(ReplayEngine.step(0.1, up: false) == 0.1)
        #expect(ReplayEngine.step(1000, up: true).isInfinite)
    }

    @Test func replaysLambdaReportLinesFromAwsLogsTail() async throws {
        // 60 invocations, one a second, as `aws logs tail --format detailed` prints them, with the
        // START/END lines and application logs around each REPORT.
        var text = ""
        var durations: [Double] = []
        for i in 0..<60 {
            let d = 20.0 + Double(i * 7 % 50)
            durations.append(d)
            let ts = "2024-11-24T10:00:\(i < 10 ? "0" : "")\(i).500000+00:00"
            let stream = "2024/11/24/[$LATEST]c23dcbedb2244aea9a3189ab2bf5c790"
            text += "\(ts) \(stream) START RequestId: r\(i) Version: $LATEST\n"
            text += "\(ts) \(stream) 2024-11-24T10:00:00.000Z\tr\(i)\tINFO\thandling\n"
            text += "\(ts) \(stream) END RequestId: r\(i)\n"
            let initPart = i % 20 == 0 ? "Init Duration: 180.5 ms\t" : ""
            let status = i == 30 ? "\tStatus: timeout" : ""
            text += "\(ts) \(stream) REPORT RequestId: r\(i)\tDuration: \(d) ms\tBilled Duration: \(Int(d.rounded(.up))) ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB\t\(initPart)\(status)\n"
        }
        let path = NSTemporaryDirectory() + "bfftop-lambda-\(UUID().uuidString).log"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let e = try ReplayEngine(paths: [path], speed: .infinity, function: "resize-image")
        e.update(SnapshotRequest(window: .fiveMinutes))
        e.start()
        let f = await waitFor(e) { $0.playback?.atEnd == true && $0.ingest.events == 60 }
        e.stop()
        let fig = try #require(f.snapshot.endpoints.first { $0.name == "resize-image" })
        #expect(fig.count == 60)
        #expect(fig.cold == 3)
        #expect(fig.timeouts == 1)
        #expect(fig.kind == .function)
        let sorted = durations.sorted()
        #expect(abs((fig.p99 ?? 0) - sorted[59]) / sorted[59] <= 0.01)
        #expect(f.playback?.otherLines == 180, "START, END and app lines are counted, not aggregated")
        let cost = durations.reduce(0.0) { $0 + 0.0000002 + $1.rounded(.up) / 1000 * 0.5 * 0.0000166667 }
        #expect(abs(fig.cost - cost) < 1e-12)
    }

    @Test func replaysTelemetryAPIEventsLinesAndBatches() async throws {
        var lines = [#"{"time":"2024-11-24T10:00:00.000Z","type":"platform.initStart","record":{"functionName":"checkout","phase":"init"}}"#]
        var batch: [String] = []
        for i in 0..<40 {
            let s = i < 10 ? "0\(i)" : "\(i)"
            let report = #"{"time":"2024-11-24T10:00:\#(s).000Z","type":"platform.report","record":{"requestId":"r\#(i)","status":"success","metrics":{"durationMs":\#(10 + i),"billedDurationMs":\#(10 + i),"memorySizeMB":256,"maxMemoryUsedMB":80\#(i == 0 ? #","initDurationMs":300"# : "")}}}"#
            if i < 20 { lines.append(report) } else { batch.append(report) }
        }
        lines.append("[" + batch.joined(separator: ",") + "]")
        let path = NSTemporaryDirectory() + "bfftop-telemetry-\(UUID().uuidString).ndjson"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let e = try ReplayEngine(paths: [path], speed: .infinity)
        e.update(SnapshotRequest(window: .fiveMinutes))
        e.start()
        let f = await waitFor(e) { $0.playback?.atEnd == true && $0.ingest.events == 40 }
        e.stop()
        let fig = try #require(f.snapshot.endpoints.first { $0.name == "checkout" })
        #expect(fig.count == 40)
        #expect(fig.cold == 1)
        #expect(fig.max == 49)
        #expect(f.playback?.skippedLines == 0)
    }

    /// Valid JSON with absurd figures (a duration of 1e308 ms, a time in milliseconds) once crashed
    /// replay and report converting the event time to whole seconds; now each such line is skipped.
    @Test func linesWithAbsurdFiguresAreSkippedNotFatal() throws {
        let path = NSTemporaryDirectory() + "bfftop-absurd-\(UUID().uuidString).ndjson"
        defer { unlink(path) }
        try """
            {"v":1,"type":"invocation","ts":1732460000,"endpoint":"GET /x","kind":"route","duration_ms":1e308,"outcome":"ok"}
            {"v":1,"type":"invocation","ts":1732460000123,"endpoint":"GET /x","kind":"route","duration_ms":5,"outcome":"ok"}
            {"rt":1e300,"v":1,"type":"invocation","ts":1732460000,"endpoint":"GET /x","duration_ms":5}
            {"v":1,"type":"invocation","ts":1732460001,"endpoint":"GET /x","kind":"route","duration_ms":12,"outcome":"ok"}

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let summary = try RecordingSummary.read(paths: [path])
        #expect(summary.events == 1)
        #expect(summary.skippedLines == 3)
    }

    @Test func missingOrEmptyFilesSaySo() throws {
        #expect(throws: ReplayError.self) { _ = try ReplayEngine(paths: ["/nonexistent/rec.ndjson"]) }
        let empty = NSTemporaryDirectory() + "bfftop-empty-\(UUID().uuidString).ndjson"
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        defer { unlink(empty) }
        #expect(throws: ReplayError.noEvents(paths: [empty])) { _ = try ReplayEngine(paths: [empty]) }
    }
}

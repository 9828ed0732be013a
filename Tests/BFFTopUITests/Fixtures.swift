import BFFTopDemo
import BFFTopEngine
import BFFTopIngest
import BFFTopStats
import BFFTopUI
import BFFTopWire
import Foundation

enum Fixtures {
    static let t0 = 1_732_460_000.0

    /// Five minutes of the seeded demo fleet, aggregated: a deterministic busy dashboard.
    static func busyFrame(window: Window = .oneMinute, detailFor: String? = "GET /api/slots") -> EngineFrame {
        var sim = FleetSimulator(start: t0, seed: 7)
        let agg = Aggregator(config: { var c = AggregatorConfig(); c.startedAt = t0; return c }())
        var t = t0
        while t < t0 + 300 {
            t += 0.5
            agg.ingest(sim.advance(to: t))
        }
        let snap = agg.snapshot(SnapshotRequest(window: window, detailFor: detailFor), now: t0 + 300)
        var ingest = IngestStatus(listenPath: "/tmp/bfftop-test.sock")
        ingest.connections = [ConnectionStatus(id: 1, origin: "conn", lines: snap.eventsAggregated, events: snap.eventsAggregated, malformed: 0)]
        ingest.events = snap.eventsAggregated
        return EngineFrame(snapshot: snap, ingest: ingest, eventsPerSecond: 412, sequence: 1)
    }

    static func emptyFrame() -> EngineFrame {
        EngineFrame(snapshot: .empty(now: t0), ingest: IngestStatus(listenPath: "/tmp/bfftop-test.sock"), sequence: 1)
    }

    static func state(_ frame: EngineFrame, width: Int = 80, height: Int = 24, depth: ColorDepth = .indexed256) -> AppState {
        var s = AppState(
            frame: frame, source: SourceInfo(mode: "● live", detail: "/tmp/bfftop-test.sock"),
            themes: [ThemeLoader.builtin("dark")!, ThemeLoader.builtin("light")!, .mono], colorDepth: depth,
            width: width, height: height, utcOffset: 0)
        s.receive(frame)
        if let d = frame.snapshot.detail?.name { s.selected = d }  // the endpoint the frame has detail for
        s.clampOffsets()
        return s
    }

    /// Compares the grid's text with a golden file; BFFTOP_RECORD_SNAPSHOTS=1 rewrites it. A missing
    /// golden file is written on a developer's machine, but fails under CI (`CI` set): a test that
    /// writes its own expectation there would pass whatever it drew.
    static func assertSnapshot(_ grid: CellGrid, named name: String, file: StaticString = #filePath) -> String? {
        let dir = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Snapshots")
        let url = dir.appendingPathComponent(name + ".txt")
        let text = grid.text + "\n"
        let env = ProcessInfo.processInfo.environment
        if !FileManager.default.fileExists(atPath: url.path), env["CI"].map({ !$0.isEmpty }) == true, env["BFFTOP_RECORD_SNAPSHOTS"] != "1" {
            return "no golden file \(url.lastPathComponent): record it with BFFTOP_RECORD_SNAPSHOTS=1 swift test and commit it"
        }
        if env["BFFTOP_RECORD_SNAPSHOTS"] == "1" || !FileManager.default.fileExists(atPath: url.path) {
            try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try? text.write(to: url, atomically: true, encoding: .utf8)
            return nil
        }
        guard let want = try? String(contentsOf: url, encoding: .utf8) else { return "cannot read \(url.path)" }
        if want == text { return nil }
        let a = want.split(separator: "\n", omittingEmptySubsequences: false)
        let b = text.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(a.count, b.count) where (i < a.count ? a[i] : "") != (i < b.count ? b[i] : "") {
            return "snapshot \(name) differs at row \(i):\n want: \(i < a.count ? a[i] : "")\n  got: \(i < b.count ? b[i] : "")"
        }
        return "snapshot \(name) differs"
    }
}

extension Fixtures {
    /// The busy fleet with the default alarm rules judged along the way (deterministic: seeded data,
    /// event-time evaluation).
    static func alarmedFrame() -> EngineFrame {
        var sim = FleetSimulator(start: t0, seed: 7)
        let engine = Engine(config: { var c = AggregatorConfig(); c.startedAt = t0; return c }(), alarms: AlarmRule.defaults)
        var t = t0
        while t < t0 + 300 {
            t += 0.5
            for e in sim.advance(to: t) {
                engine.passTime(to: e.eventTime)
                engine.aggregator.ingest(e)
            }
        }
        engine.passTime(to: t0 + 300)
        var f = busyFrame()
        (f.snapshot, f.alarms) = engine.frame(SnapshotRequest(window: .oneMinute, detailFor: "GET /api/slots"), now: t0 + 300)
        return f
    }
}

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
    /// The grid as text, and with `styles`, each cell's style too (as ratatui compares buffers):
    /// below the text, one letter per cell naming its style, and a legend of the styles.
    static func styledText(_ grid: CellGrid) -> String {
        var legend: [Style: Character] = [:]
        var order: [Style] = []
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var rows: [String] = []
        for y in 0..<grid.height {
            var row = ""
            for x in 0..<grid.width {
                let st = grid[x, y].style
                if legend[st] == nil {
                    legend[st] = order.count < letters.count ? letters[order.count] : "?"
                    order.append(st)
                }
                row.append(legend[st] ?? "?")
            }
            rows.append(row)
        }
        func describe(_ c: Color) -> String {
            switch c {
            case .terminalDefault: "default"
            case .ansi(let n): "ansi(\(n))"
            case .indexed(let n): "indexed(\(n))"
            case .rgb(let r, let g, let b): "#" + [r, g, b].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            }
        }
        let names: [(TextAttributes, String)] = [(.bold, "bold"), (.dim, "dim"), (.reverse, "reverse"), (.underline, "underline"), (.italic, "italic")]
        let key = order.map { st in
            "\(legend[st] ?? "?"): fg \(describe(st.fg)) bg \(describe(st.bg))" + names.filter { st.attrs.contains($0.0) }.map { " " + $0.1 }.joined()
        }
        return grid.text + "\n--- styles\n" + rows.joined(separator: "\n") + "\n--- legend\n" + key.joined(separator: "\n")
    }

    static func assertSnapshot(_ grid: CellGrid, named name: String, styles: Bool = false, file: StaticString = #filePath) -> String? {
        let dir = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().appendingPathComponent("Snapshots")
        let url = dir.appendingPathComponent(name + ".txt")
        let text = (styles ? styledText(grid) : grid.text) + "\n"
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

import Foundation
import BFFTopEngine
import BFFTopIngest
import BFFTopInvoke
import BFFTopStats
import BFFTopWire
import Testing
@testable import BFFTopUI

/// The alarms, invocations and raw-metrics panes and the alarm badge, rendered without a terminal.
@Suite struct NewPaneSnapshotTests {
    static let alarmed = Fixtures.alarmedFrame()

    @Test func alarmsPaneHeaderBadgeAndColouredCells() throws {
        var s = Fixtures.state(Self.alarmed, width: 120, height: 36)
        let firing = Self.alarmed.alarms.active.filter { $0.phase == .firing }
        try #require(!firing.isEmpty, "the demo fleet's errors and timeouts fire default alarms")
        s.handle(.char("A"))
        #expect(s.lowerPane == .alarms)
        let grid = Dashboard.render(s)
        #expect(Fixtures.assertSnapshot(grid, named: "alarms-120x36") == nil)
        let text = grid.text
        #expect(text.contains("⚠ \(firing.count) alarm"), "header badge")
        #expect(text.contains("Alarms \(firing.count) firing"))
        let first = try #require(firing.first)
        #expect(text.contains("\(first.rule) · \(first.endpoint)"))
        // The offending endpoint's name is marked in the table.
        #expect(text.contains("⚠ \(first.endpoint)") || first.endpoint.count > 14)
        // Critical alarms use the alarm role on the notice line.
        let notice = grid.row(1)
        #expect(notice.contains("⚠"), "notice: \(notice)")
        // A firing alarm never takes the fleet's summary away: it leads the row, the notice follows.
        #expect(notice.hasPrefix(" 121 rps now · 0.9% failed"), "summary kept beside the alarm: \(notice)")
        #expect(notice.trimmingCharacters(in: .whitespaces).hasSuffix("…"), "a notice cut short says so")
    }

    @Test func invocationsPane() {
        var s = Fixtures.state(Fixtures.busyFrame(), width: 120, height: 36)
        s.lowerPane = .invocations
        var log = InvocationLogSnapshot()
        log.total = 3
        log.running = [PlanStatus(id: 2, endpoint: "GET /api/slots", plan: .burst(20), sent: 20, done: 2, failed: 1, cancelled: false)]
        log.records = [
            InvocationRecord(id: 3, plan: 2, time: Fixtures.t0 + 299, endpoint: "GET /api/slots", target: "GET http://localhost:3000/api/slots",
                             status: 503, outcome: .error, latencyMs: 88, bytes: 20, coldStart: nil, error: "HTTP 503: upstream down", report: nil),
            InvocationRecord(id: 2, plan: 2, time: Fixtures.t0 + 298, endpoint: "booking-create", target: "λ booking-create @ http://localhost:3001",
                             status: 200, outcome: .ok, latencyMs: 412, bytes: 512, coldStart: true, error: nil, report: nil),
        ]
        s.invocations = log
        let grid = Dashboard.render(s)
        #expect(Fixtures.assertSnapshot(grid, named: "invocations-120x36") == nil)
        let text = grid.text
        #expect(text.contains("Invocations 3"))
        #expect(text.contains("▶ burst of 20 · GET /api/slots · 2/20 done"), "the running burst (the pane is narrow: the rest is cut)")
        #expect(text.contains("503") && text.contains("HTTP 503"))
        #expect(text.contains("❄"), "cold start marked")
    }

    @Test func rawMetricsPane() {
        var f = Fixtures.busyFrame()
        var d = DogStatsDStatus()
        d.listeners = ["unixgram:///tmp/dsd.sock"]
        d.metrics = 10
        d.noteRaw(DogStatsDMetric(name: "queue.depth", values: [5], kind: .gauge, sampleRate: 1, tags: [("queue", "jobs")], timestamp: nil), at: Fixtures.t0)
        f.ingest.dogstatsd = d
        var s = Fixtures.state(f, width: 120, height: 36)
        s.handle(.char("A"))
        s.handle(.char("A"))
        s.handle(.char("A"))
        #expect(s.lowerPane == .metrics, "the cycle includes raw metrics when DogStatsD runs")
        let text = Dashboard.render(s).text
        #expect(text.contains("Raw metrics 1"))
        #expect(text.contains("queue.depth") && text.contains("queue:jobs"))
        #expect(text.contains("dsd 10 rcvd"), "header counters")
        // End stops at the last metric: the pane never scrolls into emptiness.
        s.focus = .metrics
        s.handle(.end)
        #expect(s.metricsOffset == 0, "one metric: nothing to scroll past")
        #expect(Dashboard.render(s).text.contains("queue.depth"))
    }
}

import BFFTopEngine
import BFFTopStats
import BFFTopWire
@testable import BFFTopUI
import Testing

/// The Alarms pane: a legend, where the view is in the list, Enter on an alarm for its whole
/// story and a jump to its endpoint, and `a` acknowledging the one alarm under the cursor.
@Suite struct AlarmInspectionTests {
    static let alarmed = Fixtures.alarmedFrame()

    @Test func enterOpensTheAlarmAndEnterAgainGoesToItsEndpoint() throws {
        var s = Fixtures.state(Self.alarmed, width: 120, height: 36)
        s.lowerPane = .alarms
        s.focus = .alarms
        s.handle(.down)
        let second = try #require(AlarmsView.alarm(at: 1, in: s.displayed.alarms))
        let text = Dashboard.render(s).text
        #expect(text.contains("●firing ✓acked ◌pending"), "the marks explained")
        #expect(text.contains("2-"), "the position in the list on the border")
        s.perform(.detail)
        #expect(s.inspecting == .alarm(second))
        let overlay = Dashboard.render(s).text
        #expect(overlay.contains("condition") && overlay.contains(second.endpoint) && overlay.contains("Enter goes to the endpoint"))
        s.filter = "no-such-endpoint"
        s.refreshRows()
        _ = s.handle(.enter)
        #expect(s.inspecting == nil && s.focus == .endpoints && s.selected == second.endpoint, "jumped to \(second.endpoint)")
        #expect(s.filter.isEmpty, "a filter that hid it is cleared")
    }

    @Test func aInTheAlarmsPaneAcknowledgesOnlyTheSelectedAlarm() throws {
        var s = Fixtures.state(Self.alarmed, width: 120, height: 36)
        s.lowerPane = .alarms
        s.focus = .alarms
        let first = try #require(AlarmsView.alarm(at: 0, in: s.displayed.alarms))
        s.perform(.acknowledge)
        #expect(s.takeAcknowledge() == .one(rule: first.rule, endpoint: first.endpoint))
        s.focus = .endpoints
        s.perform(.acknowledge)
        #expect(s.takeAcknowledge() == .all, "elsewhere, every firing alarm")
    }

    @Test func mMutesTheSelectedAlarmsRule() throws {
        var s = Fixtures.state(Self.alarmed, width: 120, height: 36)
        s.lowerPane = .alarms
        s.focus = .alarms
        let first = try #require(AlarmsView.alarm(at: 0, in: s.displayed.alarms))
        s.handle(.char("m"))
        #expect(s.takeAcknowledge() == .toggleMute(rule: first.rule))
        s.focus = .endpoints
        s.handle(.char("m"))
        #expect(s.takeAcknowledge() == nil && s.message?.contains("Alarms pane") == true, "m elsewhere says where it works")
    }

    @Test func aMutedRuleIsJudgedButNotSignalled() {
        let engine = AlarmEngine(rules: [AlarmRule(name: "errors", metric: .errorRate, .greater, 1, for: 0, severity: .critical)])
        let agg = Aggregator()
        let t0 = Fixtures.t0
        for i in 0..<40 { agg.ingest(.invocation(Invocation(ts: t0 + Double(i) * 0.1, endpoint: "GET /a", durationMs: 5, outcome: i % 2 == 0 ? .error : .ok))) }
        for sec in 0...6 { engine.evaluate(agg, upTo: t0 + Double(sec)) }
        #expect(engine.snapshot.firing == 1 && engine.snapshot.worst == .critical)
        engine.acknowledge(.toggleMute(rule: "errors"))
        let muted = engine.snapshot
        #expect(muted.firing == 0 && muted.unacknowledged == 0 && muted.worst == nil, "no badge, bell or colour")
        #expect(muted.active.count == 1 && muted.active[0].muted && muted.mutedRules == ["errors"], "still judged and listed")
        engine.acknowledge(.toggleMute(rule: "errors"))
        #expect(engine.snapshot.firing == 1, "m again unmutes")
    }

    @Test func theEngineAcknowledgesOneAlarmAndLeavesTheOthers() {
        let engine = AlarmEngine(rules: [AlarmRule(name: "errors", metric: .errorRate, .greater, 1, for: 0, severity: .critical)])
        let agg = Aggregator()
        let t0 = Fixtures.t0
        for i in 0..<40 {
            for name in ["GET /a", "GET /b"] {
                agg.ingest(.invocation(Invocation(ts: t0 + Double(i) * 0.1, endpoint: name, durationMs: 5, outcome: i % 2 == 0 ? .error : .ok)))
            }
        }
        for s in 0...6 { engine.evaluate(agg, upTo: t0 + Double(s)) }
        #expect(engine.snapshot.firing == 2)
        engine.acknowledge(.one(rule: "errors", endpoint: "GET /a"))
        let a = engine.snapshot.active
        #expect(a.first { $0.endpoint == "GET /a" }?.acknowledged == true)
        #expect(a.first { $0.endpoint == "GET /b" }?.acknowledged == false)
        #expect(engine.snapshot.unacknowledged == 1)
    }
}

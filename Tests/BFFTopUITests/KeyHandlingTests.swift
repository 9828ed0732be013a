import BFFTopStats
import BFFTopUI
import Foundation
import Testing

@Suite struct KeyHandlingTests {
    static let busy = Fixtures.busyFrame()

    @Test func selectionMovesAndStaysOnScreen() {
        var s = Fixtures.state(Self.busy)
        let rows = s.rows
        s.handle(.home)
        #expect(s.selected == rows[0].name)
        s.handle(.down)
        s.handle(.char("j"))
        #expect(s.selected == rows[2].name)
        s.handle(.char("k"))
        #expect(s.selected == rows[1].name)
        s.handle(.end)
        #expect(s.selected == rows.last?.name)
        let visible = DashboardLayout.tableRows(s)
        #expect(s.tableOffset == rows.count - visible)
        let text = Dashboard.render(s).text
        #expect(text.contains(rows.last!.name.prefix(14)))
        s.handle(.home)
        #expect(s.selected == rows[0].name)
        #expect(s.tableOffset == 0)
    }

    @Test func sortCyclesColumnsAndReverses() {
        var s = Fixtures.state(Self.busy)
        #expect(s.sortColumn == .rps)
        s.handle(.char("s"))
        #expect(s.sortColumn == .p50)
        #expect(s.rows.map { $0.p50 ?? -1 } == s.rows.map { $0.p50 ?? -1 }.sorted(by: >))
        s.handle(.char("S"))
        #expect(!s.sortDescending)
        #expect(s.rows.map { $0.p50 ?? -1 } == s.rows.map { $0.p50 ?? -1 }.sorted())
        #expect(s.message?.contains("P50") == true)
        for _ in 0..<20 { s.handle(.char("s")) }  // cycles without getting stuck
        #expect(Column.allCases.contains(s.sortColumn))
    }

    @Test func filterNarrowsLiveAndEscapeRestores() {
        var s = Fixtures.state(Self.busy)
        s.handle(.char("/"))
        #expect(s.filterEditing)
        for c in "book" { s.handle(.char(c)) }
        #expect(s.rows.map(\.name).allSatisfy { $0.lowercased().contains("book") })
        #expect(s.rows.count == 3)
        #expect(Dashboard.render(s).text.contains("/ filter: book"))
        s.handle(.backspace)
        #expect(s.filter == "boo")
        s.handle(.enter)
        #expect(!s.filterEditing)
        #expect(s.filter == "boo")
        s.handle(.char("/"))
        s.handle(.char("x"))
        s.handle(.escape)
        #expect(s.filter == "boo", "Esc restores the filter from before editing")
        s.handle(.escape)
        #expect(s.filter.isEmpty, "Esc outside editing clears it")
        // A filter that matches by service or kind.
        s.handle(.char("/"))
        for c in "mobile-bff" { s.handle(.char(c)) }
        #expect(s.rows.count == 3)
    }

    @Test func pauseFreezesTheDisplayWhileDataKeepsComing() {
        var s = Fixtures.state(Self.busy)
        s.handle(.char("p"))
        #expect(s.paused)
        var newer = Self.busy
        newer.eventsPerSecond = 9999
        newer.sequence = 2
        s.receive(newer)
        #expect(s.displayed.eventsPerSecond == 412)
        #expect(s.frame.eventsPerSecond == 9999)
        #expect(Dashboard.render(s).text.contains("PAUSED"))
        s.handle(.char("p"))
        #expect(s.displayed.eventsPerSecond == 9999)
    }

    @Test func windowThemeHelpZoomAndPanes() {
        var s = Fixtures.state(Self.busy)
        s.handle(.char("w"))
        #expect(s.window == .fiveMinutes)
        #expect(s.snapshotRequest.window == .fiveMinutes)
        for _ in 0..<3 { s.handle(.char("w")) }
        #expect(s.window == .oneMinute)
        s.handle(.char("t"))
        #expect(s.theme.name == "light")
        s.handle(.char("?"))
        #expect(s.showHelp)
        s.handle(.char("j"))
        #expect(!s.showHelp, "any key closes help")
        s.handle(.enter)
        #expect(s.zoomed)
        s.handle(.escape)
        #expect(!s.zoomed)
        s.handle(.tab)
        #expect(s.focus == .detail)
        s.handle(.tab)
        s.handle(.tab)
        #expect(s.focus == .errors)
        s.handle(.down)
        #expect(s.errorsOffset == 1, "arrows scroll the focused errors pane")
        s.handle(.backTab)
        #expect(s.focus == .concurrency)
        s.handle(.char("q"))
        #expect(s.shouldQuit)
    }

    @Test func selectionFollowsTheEndpointNotTheRowWhenDataChanges() {
        var s = Fixtures.state(Self.busy)
        s.handle(.down)
        s.handle(.down)
        let chosen = s.selected
        s.handle(.char("s"))  // resort
        #expect(s.selected == chosen)
        #expect(s.snapshotRequest.detailFor == chosen)
    }

    @Test func unknownKeysDoNothing() {
        var s = Fixtures.state(Self.busy)
        let handled = s.handle(.char("Z"))
        #expect(!handled)
        #expect(!s.shouldQuit)
    }
}

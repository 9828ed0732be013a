import BFFTopEngine
import BFFTopIngest
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
        #expect(s.sortColumn == .rpsWindow, "the current rate, then the window's average")
        #expect(s.rows.map(\.rps) == s.rows.map(\.rps).sorted(by: >))
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

@Suite struct ReplayKeyTests {
    func replayState() -> AppState {
        var frame = Fixtures.busyFrame()
        frame.playback = PlaybackStatus(start: Fixtures.t0, end: Fixtures.t0 + 300, position: Fixtures.t0 + 100, speed: 1, paused: false,
                                        files: ["rec.ndjson"], skippedLines: 0, truncatedLastLines: 0)
        var s = Fixtures.state(frame)
        s.keymap = .replay
        return s
    }

    @Test func replayKeysBecomePlaybackCommands() {
        var s = replayState()
        for k: Key in [.char(" "), .left, .right, .shiftLeft, .shiftRight, .char("["), .char("]"), .home, .end] { s.handle(k) }
        #expect(s.takeCommands() == [.togglePause, .seekBy(-10), .seekBy(10), .seekBy(-60), .seekBy(60), .slower, .faster, .jumpToStart, .jumpToEnd])
        #expect(s.takeCommands().isEmpty)
        s.handle(.char("g"))
        #expect(s.gotoEditing)
        for c in "+90s" { s.handle(.char(c)) }
        s.handle(.enter)
        #expect(s.takeCommands() == [.seekTo(Fixtures.t0 + 190)])
        let text = Dashboard.render(s).text
        #expect(text.contains("▶ 1×"), "progress bar")
        #expect(text.contains("1:40 / 5:00"))
    }

    @Test func liveModeExplainsReplayKeys() {
        var s = Fixtures.state(Fixtures.busyFrame())
        s.handle(.char(" "))
        #expect(s.takeCommands().isEmpty)
        #expect(s.message?.contains("replay") == true)
    }

    @Test func timesParse() {
        let start = 1_732_460_000.0  // 14:53:20 UTC
        #expect(AppState.parseTime("90", start: start, position: start + 50, utcOffset: 0) == start + 90)
        #expect(AppState.parseTime("5m", start: start, position: start + 50, utcOffset: 0) == start + 300)
        #expect(AppState.parseTime("+30s", start: start, position: start + 50, utcOffset: 0) == start + 80)
        #expect(AppState.parseTime("-1m", start: start, position: start + 100, utcOffset: 0) == start + 40)
        #expect(AppState.parseTime("15:00:00", start: start, position: start, utcOffset: 0) == start + 400)
        #expect(AppState.parseTime("16:00:00", start: start, position: start, utcOffset: 3600) == start + 400)
        #expect(AppState.parseTime("1732460123", start: start, position: start, utcOffset: 0) == 1_732_460_123)
        #expect(AppState.parseTime("soon", start: start, position: start, utcOffset: 0) == nil)
    }
}

/// `o`: a menu of every column with the key that picks it.
@Suite struct SortMenuTests {
    @Test func aColumnsKeySortsByItAndAgainReverses() {
        var s = Fixtures.state(Fixtures.busyFrame())
        s.handle(.char("o"))
        #expect(s.choosingSort)
        let text = Dashboard.render(s).text
        #expect(text.contains("Sort by") && text.contains("RPS 5s (now) ▼") && text.contains("P99"))
        let p99 = AppState.sortChoices.first { $0.column == .p99 }!.key
        s.handle(.char(p99))
        #expect(!s.choosingSort && s.sortColumn == .p99 && s.sortDescending)
        #expect(s.rows.map { $0.p99 ?? -1 } == s.rows.map { $0.p99 ?? -1 }.sorted(by: >))
        s.handle(.char("o"))
        s.handle(.char(p99))
        #expect(!s.sortDescending, "the same column again reverses")
        s.handle(.char("o"))
        s.handle(.escape)
        #expect(!s.choosingSort && s.sortColumn == .p99, "Esc closes without changing")
    }
}

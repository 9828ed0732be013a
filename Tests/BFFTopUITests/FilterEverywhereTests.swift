import BFFTopEngine
import BFFTopStats
import BFFTopWire
@testable import BFFTopUI
import Testing

/// The filter narrows every pane, not only the table; hiding test traffic is shown.
@Suite struct FilterEverywhereTests {
    static let alarmed = Fixtures.alarmedFrame()

    @Test func theFilterNarrowsConcurrencyErrorsAndAlarms() {
        var s = Fixtures.state(Self.alarmed, width: 160, height: 48)
        s.filter = "image"
        s.refreshRows()
        let text = Dashboard.render(s).text
        let concurrency = text.split(separator: "\n").compactMap { line -> Substring? in
            guard let bar = line.lastIndex(of: "╮") ?? line.lastIndex(of: "│") else { return nil }
            return line[..<bar]
        }
        #expect(!text.contains("slots-query ▬"), "concurrency rows of other endpoints are hidden:\n\(text)")
        #expect(ErrorsView.failures(s).allSatisfy { $0.endpoint.contains("image") }, "errors of other endpoints are hidden")
        #expect(!ErrorsView.failures(s).isEmpty)
        #expect(AlarmsView.filtered(s).active.allSatisfy { $0.endpoint.contains("image") || $0.endpoint == AlarmScope.totalName })
        #expect(!concurrency.isEmpty)
    }

    @Test func hidingTestTrafficIsShownInTheHeader() {
        var s = Fixtures.state(Self.alarmed, width: 160, height: 48)
        #expect(!Dashboard.render(s).text.contains("test traffic hidden"))
        s.handle(.char("T"))
        #expect(Dashboard.render(s).text.contains("T: test traffic hidden"))
    }
}

import BFFTopStats
@testable import BFFTopUI
import Testing

/// Small terminals: the table gets the rows it needs first, labels never collide, counters never
/// say "1-0".
@Suite struct SmallLayoutTests {
    static let busy = Fixtures.busyFrame()

    @Test func at80x24TheTableShowsNineOfFourteenEndpoints() {
        let s = Fixtures.state(Self.busy, width: 80, height: 24)
        #expect(DashboardLayout.tableRows(s) == 9)
        #expect(Dashboard.render(s).text.contains("1-9/14"))
    }

    @Test(arguments: [(60, 20), (20, 6), (21, 7), (80, 18), (61, 18)])
    func tinySizesDrawNothingNonsensical(width: Int, height: Int) {
        let s = Fixtures.state(Self.busy, width: width, height: height)
        let text = Dashboard.render(s).text
        #expect(!text.contains("1-0/"), "\(text)")
        #expect(!text.contains("2.000") && !text.contains("0.00s0"), "axis labels collide:\n\(text)")
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) { #expect(String(line).displayWidth == width) }
    }
}

import BFFTopEngine
import BFFTopIngest
import BFFTopStats
import BFFTopUI
import Testing

@Suite struct ViewSnapshotTests {
    static let busy = Fixtures.busyFrame()

    @Test(arguments: [(80, 24), (200, 50)])
    func busyDashboard(width: Int, height: Int) {
        let s = Fixtures.state(Self.busy, width: width, height: height)
        let grid = Dashboard.render(s)
        #expect(Fixtures.assertSnapshot(grid, named: "busy-\(width)x\(height)") == nil)
        let text = grid.text
        // Every pane is there, with live figures.
        #expect(text.contains("bfftop"))
        #expect(text.contains("Endpoints 14"))
        #expect(text.contains("Concurrency"))
        #expect(text.contains("Errors"))
        #expect(text.contains("GET /api/slots · route · web-bff"))
        #expect(text.contains("p99"))
        #expect(text.contains("412 ev/s"))
        #expect(grid.row(height - 1).contains("q quit"))
    }

    @Test(arguments: [(80, 24), (200, 50)])
    func emptyDashboard(width: Int, height: Int) {
        let grid = Dashboard.render(Fixtures.state(Fixtures.emptyFrame(), width: width, height: height))
        #expect(Fixtures.assertSnapshot(grid, named: "empty-\(width)x\(height)") == nil)
        #expect(grid.text.contains("Waiting for events on /tmp/bfftop-test.sock"))
        #expect(grid.text.contains("nothing running"))
        #expect(grid.text.contains("no failures"))
    }

    @Test func zoomedDetailShowsChartHistogramAndFanOut() {
        var s = Fixtures.state(Self.busy, width: 100, height: 40)
        s.perform(.detail)
        let grid = Dashboard.render(s)
        #expect(Fixtures.assertSnapshot(grid, named: "zoomed-100x40") == nil)
        let text = grid.text
        #expect(text.contains("calls →"))
        #expect(text.contains("slots-query"))
        #expect(text.contains("≤"), "histogram rows")
        let hasBraille = text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) }
        #expect(hasBraille, "braille chart")
        #expect(!text.contains("Concurrency"), "zoom hides the other panes")
    }

    @Test func helpOverlayIsGeneratedFromTheKeymap() {
        var s = Fixtures.state(Self.busy)
        s.perform(.help)
        let text = Dashboard.render(s).text
        for row in s.keymap.helpRows(replay: false) {
            #expect(text.contains(row.help), "help lists \(row.help)")
        }
        // Rebinding shows up in the overlay.
        s.keymap.bind(.char("x"), to: .pause)
        #expect(Dashboard.render(s).text.contains("p x"))
    }

    @Test func tableRowsFollowTheSortAndShowTrueFigures() {
        let s = Fixtures.state(Self.busy, width: 200, height: 50)
        let rows = s.rows
        #expect(rows.map(\.rpsNow) == rows.map(\.rpsNow).sorted(by: >), "sorted by the current rate")
        let grid = Dashboard.render(s)
        guard let top = rows.first else { Issue.record("no rows"); return }
        let line = grid.text.split(separator: "\n").first { $0.contains(top.name) } ?? ""
        #expect(line.contains(Format.ms(top.p99)))
        #expect(line.contains(Format.count(top.rps)) && line.contains(Format.count(top.rpsNow)))
    }

    @Test func monochromeUsesAttributesOnly() {
        var s = Fixtures.state(Self.busy, depth: .mono)
        s.themeIndex = 2
        let grid = Dashboard.render(s)
        let colourless = grid.cells.allSatisfy { $0.style.fg == .terminalDefault && $0.style.bg == .terminalDefault }
        let reversed = grid.cells.contains { $0.style.attrs.contains(.reverse) }
        #expect(colourless)
        #expect(reversed, "selection stays visible")
    }

    @Test func tinyTerminalSaysSoInsteadOfDrawingGarbage() {
        let grid = Dashboard.render(Fixtures.state(Self.busy, width: 18, height: 5))
        #expect(grid.text.hasPrefix("bfftop: terminal"))
    }

    @Test func sixteenColoursResolveToANSI() {
        let s = Fixtures.state(Self.busy, depth: .ansi16)
        for cell in Dashboard.render(s).cells {
            for c in [cell.style.fg, cell.style.bg] {
                switch c {
                case .terminalDefault, .ansi: break
                default: Issue.record("\(c) at 16 colours")
                }
            }
        }
    }
}

/// Figures at the edges of what the engine can hand the views (saturated counts, the largest
/// figures the protocol admits, NaN and infinities from a bug upstream): every pane draws, at every
/// size, without trapping. Bars and chart heights are clamped cell counts (`Int(cells:limit:)`).
@Suite struct ExtremeFigureTests {
    @Test(arguments: [(80, 24), (120, 40), (200, 50), (20, 6)])
    func panesDrawExtremeFiguresWithoutTrapping(width: Int, height: Int) {
        var frame = Fixtures.busyFrame()
        let extremes: [Double] = [1e10, 1e300, .infinity, .nan, -1, 0, .greatestFiniteMagnitude]
        for i in frame.snapshot.endpoints.indices {
            let x = extremes[i % extremes.count], y = extremes[(i + 3) % extremes.count]
            frame.snapshot.endpoints[i].concurrencyNow = x
            frame.snapshot.endpoints[i].concurrencyPeak = y
            frame.snapshot.endpoints[i].concurrencyLimit = i % 2 == 0 ? 1 : nil
            frame.snapshot.endpoints[i].p99 = x
            frame.snapshot.endpoints[i].rps = y
            frame.snapshot.endpoints[i].cost = x
            frame.snapshot.endpoints[i].rpsSeries = frame.snapshot.endpoints[i].rpsSeries.map { _ in y }
        }
        frame.snapshot.losses.tooOld = Int.max / 2
        frame.snapshot.endpointsOverCap = 123_456_789
        var s = Fixtures.state(frame, width: width, height: height)
        _ = Dashboard.render(s)
        s.perform(.detail)
        _ = Dashboard.render(s)
        #expect(Dashboard.render(s).text.isEmpty == false)
    }
}

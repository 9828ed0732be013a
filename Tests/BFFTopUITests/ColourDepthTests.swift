import BFFTopStats
@testable import BFFTopUI
import Testing

/// Every colour depth a terminal can have, with every built-in theme: no cell is drawn in its own
/// background's colour, and on eight colours nothing relies on colours an eight-colour terminal
/// shows as black (grey, bright colours) or on a background colour for the selection.
@Suite struct ColourDepthTests {
    static let busy = Fixtures.busyFrame()

    @Test(arguments: [ColorDepth.ansi8, .ansi16, .indexed256, .truecolor])
    func noCellIsDrawnInItsOwnBackgroundColour(depth: ColorDepth) {
        for (index, theme) in ["dark", "light"].enumerated() {
            var s = Fixtures.state(Self.busy, width: 120, height: 36, depth: depth)
            s.themeIndex = index  // the fixture's themes: dark, light, mono
            let grid = Dashboard.render(s)
            for (i, c) in grid.cells.enumerated() where c.style.fg == c.style.bg && c.style.bg != .terminalDefault {
                Issue.record("\(theme) at \(depth): cell \(i % grid.width),\(i / grid.width) '\(c.scalar)' in its background's colour \(c.style.bg)")
                return
            }
        }
    }

    @Test func eightColoursUseAttributesForMutedTextAndTheSelection() {
        let s = Fixtures.state(Self.busy, width: 120, height: 36, depth: .ansi8)
        let grid = Dashboard.render(s)
        for c in grid.cells {
            for colour in [c.style.fg, c.style.bg] {
                switch colour {
                case .terminalDefault: continue
                case .ansi(let n): #expect((1...6).contains(n), "only chromatic colours on eight: \(colour)")
                default: Issue.record("not an eight-colour colour: \(colour)")
                }
            }
            #expect(c.style.bg == .terminalDefault, "no background colours on eight: the selection is reverse video")
        }
        // The selected row is reverse video, so it stands out whatever the terminal's palette.
        let row = grid.text.split(separator: "\n").firstIndex { $0.contains(s.selected ?? "\u{0}") } ?? -1
        #expect(row >= 0)
        let selected = (0..<grid.width).map { grid[$0, row].style }.filter { $0.attrs.contains(.reverse) }
        #expect(selected.count > grid.width / 2, "the selected row is reverse video")
    }

    @Test func percentilesAreColouredOnlyAgainstABudget() {
        #expect(EndpointTableView.latencyRole(120, nil) == .text)
        #expect(EndpointTableView.latencyRole(120, 100) == .bad)
        #expect(EndpointTableView.latencyRole(85, 100) == .warn)
        #expect(EndpointTableView.latencyRole(40, 100) == .text)
    }
}

import BFFTopEngine
import BFFTopStats
import BFFTopWire
import Testing
@testable import BFFTopUI

/// The request waterfall (`W`) on the seeded demo fleet, whose routes send spans: what a person
/// sees, and the keys that move through it.
@Suite struct WaterfallViewTests {
    static let frame = Fixtures.busyFrame()

    func opened(width: Int = 120, height: Int = 36) throws -> AppState {
        var s = Fixtures.state(Self.frame, width: width, height: height)
        try #require(!(Self.frame.snapshot.detail?.traces.isEmpty ?? true), "the demo fleet sends spans")
        s.handle(.char("W"))
        return s
    }

    @Test func opensOnTheSlowestTraceWithEveryBarWhereItsSpanRan() throws {
        let s = try opened()
        let w = try #require(s.waterfall)
        let traces = try #require(Self.frame.snapshot.detail?.traces)
        #expect(w.trace == traces[0] && w.trace.slowest)
        #expect(w.trace.durationMs >= traces.map(\.durationMs).max()! - 1e-6 || !traces[0].slowest)
        let grid = Dashboard.render(s)
        #expect(Fixtures.assertSnapshot(grid, named: "waterfall-120x36", styles: true) == nil)
        let text = grid.text
        #expect(text.contains("Trace · GET /api/slots · slowest of the last minute 1/\(traces.count)"))
        #expect(text.contains("trace \(w.trace.traceID)"))
        // Each span's row: its name (indented under its caller), and its bar where it ran on the
        // request's time axis (ground truth: the span's own start and end over the trace's).
        let cols = WaterfallView.Columns(width: 118)
        let barX = 1 + 1 + cols.name + 1
        for (i, span) in w.trace.spans.enumerated() {
            let row = Array(grid.row(5 + i))
            let name = String(repeating: "  ", count: span.depth) + (span.depth > 0 ? "└ " : "") + span.endpoint
            #expect(String(row[2..<(2 + name.count)]) == name, "row \(i): \(String(row))")
            let bar = row[barX..<(barX + cols.bar)]
            let first = try #require(bar.firstIndex { $0 == "█" || $0 == "░" }) - barX
            let last = try #require(bar.lastIndex { $0 == "█" }) - barX
            let scale = Double(cols.bar) / (w.trace.end - w.trace.start)
            #expect(abs(Double(first) - (span.barStart - w.trace.start) * scale) <= 1, "\(span.endpoint) starts at \(first)")
            #expect(abs(Double(last + 1) - (span.end - w.trace.start) * scale) <= 1, "\(span.endpoint) ends at \(last)")
            if let initMs = span.initMs, initMs / 1000 * scale >= 1.5 { #expect(bar.contains("░"), "init drawn for \(span.endpoint)") }
            if span.initMs == nil { #expect(!bar.contains("░")) }
            #expect(String(row).contains(Format.ms(span.durationMs)))
        }
        // The trace's total cost: the sum of its spans'.
        #expect(text.contains("cost \(Format.exactDollars(w.trace.spans.reduce(0) { $0 + $1.cost }))"))
    }

    @Test func keysStepTracesSelectSpansAndGoToAnEndpoint() throws {
        var s = try opened()
        let traces = Self.frame.snapshot.detail!.traces
        try #require(traces.count >= 2)
        s.handle(.char("n"))
        #expect(s.waterfall?.trace == traces[1])
        s.handle(.char("N"))
        #expect(s.waterfall?.trace == traces[0])
        s.handle(.char("N"))
        #expect(s.waterfall?.trace == traces.last, "wraps round")
        s.handle(.char("N"))
        // ↓ to a function's bar, Enter: that function's row in the table.
        let spans = s.waterfall!.trace.spans
        let target = try #require(spans.firstIndex { $0.kind == .function })
        s.handle(.home)
        for _ in 0..<target { s.handle(.down) }
        #expect(s.waterfall?.row == target)
        s.handle(.enter)
        #expect(s.waterfall == nil)
        #expect(s.selected == spans[target].endpoint)
        #expect(s.focus == .endpoints && !s.zoomed)
        // Esc and W close it; the footer shows the waterfall's keys while it is open.
        s = try opened()
        #expect(Dashboard.render(s).row(35).contains("n next trace"))
        s.handle(.escape)
        #expect(s.waterfall == nil)
        s = try opened()
        s.handle(.char("W"))
        #expect(s.waterfall == nil)
    }

    @Test func fitsEightyByTwentyFourAndSaysWhenThereAreNoTraces() throws {
        let s = try opened(width: 80, height: 24)
        #expect(Fixtures.assertSnapshot(Dashboard.render(s), named: "waterfall-80x24") == nil)
        var empty = Fixtures.state(Fixtures.emptyFrame())
        empty.selected = "GET /x"
        empty.handle(.char("W"))
        #expect(empty.waterfall == nil)
        #expect(empty.message?.contains("trace and span ids") == true)
        // The help overlay is generated from the keymap: the new keys are in it.
        let help = Keymap.standard.helpRows(replay: false).map(\.help)
        #expect(help.contains("request waterfall (traces)"))
    }

    @Test func exactDollarsKeepsTwoSignificantDigits() {
        #expect(Format.exactDollars(0.0000021) == "$0.0000021")
        #expect(Format.exactDollars(0.00042) == "$0.00042")
        #expect(Format.exactDollars(0.12) == "$0.12")
        #expect(Format.exactDollars(0) == "$0")
    }
}

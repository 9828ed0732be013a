import BFFTopEngine
import BFFTopStats
import BFFTopWire
@testable import BFFTopUI
import Testing

/// Goldens that hold each cell's style as well as its character (as ratatui's buffer equality
/// does): the busy fleet plus CJK and emoji names, at three sizes, in 8, 16 and 256 colours and
/// truecolor. A colour that changes, a selection that loses its background, a wide character that
/// shifts a row: each fails here.
@Suite struct StyledSnapshotTests {
    static let frame: EngineFrame = {
        let t0 = Fixtures.t0
        var f = Fixtures.busyFrame()
        // Names a real fleet can have beside the demo's.
        let agg = Aggregator(config: { var c = AggregatorConfig(); c.startedAt = t0; return c }())
        for i in 0..<300 {
            let name = ["GET /api/予約/枠", "🚀-deploy-fn", "café-ménu"][i % 3]
            agg.ingest(.invocation(Invocation(ts: t0 + 280 + Double(i) * 0.05, endpoint: name, durationMs: Double(20 + i % 40), status: 200)))
        }
        f.snapshot.endpoints += agg.snapshot(SnapshotRequest(window: .oneMinute), now: t0 + 300).endpoints
        return f
    }()

    @Test(arguments: [(80, 24), (120, 40), (200, 50)], [ColorDepth.ansi8, .ansi16, .indexed256, .truecolor])
    func busyDashboardWithWideNames(size: (Int, Int), depth: ColorDepth) {
        var s = Fixtures.state(Self.frame, width: size.0, height: size.1, depth: depth)
        s.selected = "GET /api/予約/枠"
        s.refreshRows()
        let name = "styled-\(size.0)x\(size.1)-\(depth)"
        #expect(Fixtures.assertSnapshot(Dashboard.render(s), named: name, styles: true) == nil)
    }
}

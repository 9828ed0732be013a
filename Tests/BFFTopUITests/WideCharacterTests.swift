import BFFTopEngine
import BFFTopProtocol
import BFFTopStats
@testable import BFFTopUI
import Testing

/// CJK and emoji take two columns, combining marks and joiners none: the grid, truncation and
/// every pane measure text the way a terminal lays it out, so rows never shift.
@Suite struct WideCharacterTests {
    @Test func widthsOfTheCharactersNamesCarry() {
        #expect("GET /api".displayWidth == 8)
        #expect("予約".displayWidth == 4)
        #expect("🚀 deploy".displayWidth == 9)
        #expect("e\u{301}".displayWidth == 1, "a combining accent takes no column")
        #expect("👩\u{200D}💻".displayWidth == 4, "joined emoji: each part as terminals without the sequence draw it")
        #expect("☀\u{FE0F}".displayWidth == 2, "emoji presentation widens a text symbol")
        #expect("✓ ⚠ ● ▶ ⏸ ⏱ ❄".displayWidth == 13, "bfftop's own glyphs stay narrow")
        #expect("予約-booking".padded(to: 6) == "予約-b")
        #expect("予約".padded(to: 3) == "予 ", "a wide character that would straddle the edge is left out")
    }

    @Test func theGridLaysOutWideCharactersInTwoCellsAndNeverBreaksOne() {
        var g = CellGrid(width: 10, height: 1)
        #expect(g.put(0, 0, "予約ok", .plain) == 6)
        #expect(g.row(0) == "予約ok    ")
        #expect(g[1, 0].scalar == CellGrid.continuation)
        // Writing over the right half blanks the left half, and the other way round.
        g.put(1, 0, "x", .plain)
        #expect(g.row(0) == " x約ok    ")
        g.put(2, 0, "y", .plain)
        #expect(g.row(0) == " xy ok    ")
        // A wide character that does not fit the clip is left out, not cut in half.
        var h = CellGrid(width: 5, height: 1)
        #expect(h.put(0, 0, "ab予約", .plain, maxWidth: 5) == 4)
        #expect(h.row(0) == "ab予 ")
        #expect(CellGrid.truncate("予約システム", 7) == "予約シ…")
        #expect(CellGrid.truncate("予約システム", 7).displayWidth == 7)
    }

    @Test(arguments: [(80, 24), (120, 40), (200, 50)])
    func panesWithCJKAndEmojiNamesKeepEveryRowTheScreensWidth(width: Int, height: Int) throws {
        let t0 = Fixtures.t0
        let agg = Aggregator(config: { var c = AggregatorConfig(); c.startedAt = t0; return c }())
        let names = ["GET /api/予約/枠", "🚀-deploy-fn", "POST /api/book", "e\u{301}tat-café", "👩\u{200D}💻-worker", "☀\u{FE0F}-weather"]
        for i in 0..<600 {
            let name = names[i % names.count]
            let failed = i % 17 == 0
            agg.ingest(.invocation(Invocation(ts: t0 + Double(i) * 0.05, endpoint: name, kind: i % 2 == 0 ? .route : .function,
                                              durationMs: Double(10 + i % 90), outcome: failed ? .error : .ok, status: failed ? 503 : 200,
                                              error: failed ? "上游 timeout 🚨 on \(name)" : nil)))
        }
        let snap = agg.snapshot(SnapshotRequest(window: .oneMinute, detailFor: names[0]), now: t0 + 31)
        let frame = EngineFrame(snapshot: snap, ingest: IngestStatus(listenPath: "/tmp/bfftop-test.sock"), sequence: 1)
        var s = Fixtures.state(frame, width: width, height: height)
        s.selected = names[0]
        let grid = Dashboard.render(s)
        for y in 0..<height {
            #expect(grid.row(y).displayWidth == width, "row \(y) is \(grid.row(y).displayWidth) columns: \(grid.row(y))")
        }
        // The table's columns line up whatever the names: each row's right border is where the header's is.
        let rows = grid.text.split(separator: "\n").filter { $0.hasPrefix("┃") }
        #expect(rows.count > 3)
        #expect(Set(rows.map { String($0).displayWidth }).count == 1)
        #expect(grid.text.contains("予約") && grid.text.contains("🚀"))
    }
}

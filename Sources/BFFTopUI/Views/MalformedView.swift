import BFFTopEngine

/// The most recent lines and messages no decoder read, newest first: when, from where, the reason
/// and the start of the line (Enter shows one whole). The header counts them all; this is the list.
enum MalformedView {
    static func lines(_ s: AppState) -> [MalformedLine] { s.displayed.ingest.recentMalformed.reversed() }

    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let list = lines(s)
        let total = s.displayed.ingest.malformed + (s.displayed.ingest.dogstatsd?.malformed ?? 0)
        p.pane(r, title: "Malformed \(total)" + (total > list.count ? " (last \(list.count))" : ""), focused: s.focus == .malformed)
        let inner = r.inset(1)
        guard inner.width > 10, inner.height > 0 else { return }
        guard !list.isEmpty else {
            p.grid.put(inner.x + 1, inner.y, "every line read ✓", p.style(.good), maxWidth: inner.width - 1)
            return
        }
        for (i, m) in list.dropFirst(s.malformedOffset).prefix(inner.height).enumerated() {
            let y = inner.y + i
            var x = inner.x + 1
            x += p.grid.put(x, y, Format.clock(m.time, utcOffset: s.utcOffset) + " ", p.style(.muted))
            x += p.grid.put(x, y, CellGrid.truncate(m.origin.isEmpty ? "#\(m.connection)" : m.origin, 10).padded(to: 11), p.style(.muted))
            // The reason first (it says what to fix); the line's start gets what is left, at least a little.
            x += p.grid.put(x, y, CellGrid.truncate(m.reason, max(10, (inner.maxX - x) * 3 / 4)) + " ", p.style(.warn), maxWidth: inner.maxX - x)
            p.grid.put(x, y, m.excerpt, p.style(.text), maxWidth: inner.maxX - x)
            if i == 0, s.focus == .malformed { p.selectRow(Rect(x: inner.x, y: y, width: inner.width, height: 1)) }
        }
    }
}

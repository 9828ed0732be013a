import BFFTopEngine

/// DogStatsD metrics that map to no endpoint: shown, not lost. Most recent first.
enum RawMetricsView {
    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let d = s.displayed.ingest.dogstatsd ?? DogStatsDStatus()
        let list = d.rawList
        p.pane(r, title: "Raw metrics \(list.count)", focused: s.focus == .metrics)
        let inner = r.inset(1)
        guard inner.width > 10, inner.height > 0 else { return }
        guard !list.isEmpty else {
            let text = d.metrics > 0 ? "every metric maps to an endpoint ✓" : "no DogStatsD metrics yet on \(d.listeners.joined(separator: ", "))"
            p.grid.put(inner.x + 1, inner.y, text, p.style(.muted), maxWidth: inner.width - 1)
            return
        }
        for (i, m) in list.dropFirst(s.metricsOffset).prefix(inner.height).enumerated() {
            let y = inner.y + i
            var x = inner.x + 1
            x += p.grid.put(x, y, m.kind.padded(to: 3), p.style(.muted))
            x += p.grid.put(x, y, CellGrid.truncate(m.name, 30) + " ", p.style(.text), maxWidth: inner.maxX - x)
            x += p.grid.put(x, y, Format.count(m.last).padded(to: 7), p.style(.invocations), maxWidth: inner.maxX - x)
            x += p.grid.put(x, y, "×\(m.samples) ", p.style(.muted), maxWidth: inner.maxX - x)
            p.grid.put(x, y, m.tags, p.style(.muted), maxWidth: inner.maxX - x)
        }
    }
}

import BFFTopStats
import BFFTopWire

/// Who is running how much right now: a bar per endpoint, against its limit when one is known.
enum ConcurrencyView {
    /// The first `count` of `order` by concurrency now, then peak, both descending, ties by name.
    /// This runs every frame over every endpoint: the figures are sorted by their two numbers
    /// alone, and names compared only within the runs of equal numbers the rows shown reach
    /// (sorting with names throughout compared strings for every tie: a fifth of a frame with 1,000
    /// endpoints, most of them idle alike).
    static func busiest(_ order: [Int], of all: [EndpointFigures], count: Int) -> [Int] {
        var keyed = order.map { (now: all[$0].concurrencyNow, peak: all[$0].concurrencyPeak, index: $0) }
        keyed.sort { $0.now != $1.now ? $0.now > $1.now : $0.peak > $1.peak }
        var start = 0
        while start < min(count, keyed.count) {
            var end = start + 1
            while end < keyed.count, keyed[end].now == keyed[start].now, keyed[end].peak == keyed[start].peak { end += 1 }
            if end - start > 1 { keyed[start..<end].sort { all[$0.index].name < all[$1.index].name } }
            start = end
        }
        return keyed.prefix(count).map(\.index)
    }

    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let all = s.displayed.snapshot.endpoints
        let order = all.indices.filter { (all[$0].concurrencyPeak > 0 || all[$0].concurrencyNow > 0) && s.matchesFilter(all[$0]) }
        let list = busiest(order, of: all, count: max(0, r.height - 2)).map { all[$0] }
        let total = order.reduce(0) { $0 + all[$1].concurrencyNow }
        p.pane(r, title: "Concurrency \(Format.count(total)) now", focused: s.focus == .concurrency)
        let inner = r.inset(1)
        guard inner.width > 10, inner.height > 0 else { return }
        guard !list.isEmpty else {
            p.grid.put(inner.x + 1, inner.y, "nothing running", p.style(.muted))
            return
        }
        let scale = max(1, order.lazy.map { all[$0].concurrencyLimit ?? all[$0].concurrencyPeak }.max() ?? 1)
        let nameWidth = min(22, max(8, inner.width / 3))
        let numWidth = 11
        let barWidth = max(1, inner.width - nameWidth - numWidth - 3)
        for (i, f) in list.prefix(inner.height).enumerated() {
            let y = inner.y + i
            p.grid.put(inner.x + 1, y, CellGrid.truncate(f.name, nameWidth), p.style(.text))
            let limit = f.concurrencyLimit ?? scale
            let nowCells = Int(cells: f.concurrencyNow / max(limit, 1) * Double(barWidth), limit: barWidth)
            let peakCell = Int(cells: f.concurrencyPeak / max(limit, 1) * Double(barWidth), limit: barWidth + 1)
            let hot = f.concurrencyLimit.map { f.concurrencyNow >= 0.8 * $0 } ?? false
            let bx = inner.x + 2 + nameWidth
            p.grid.put(bx, y, String(repeating: "▬", count: min(barWidth, max(f.concurrencyNow > 0 ? 1 : 0, nowCells))), p.style(hot ? .warn : .concurrency))
            if peakCell > nowCells, peakCell <= barWidth { p.grid.set(bx + max(0, peakCell - 1), y, "│", p.style(.muted)) }
            let limitText = f.concurrencyLimit.map { "/\(Format.count($0))" } ?? ""
            p.grid.putRight(inner.x, y, width: inner.width - 1, "\(Format.count(f.concurrencyNow))↑\(Format.count(f.concurrencyPeak))\(limitText)", p.style(hot ? .warn : .text))
        }
    }
}

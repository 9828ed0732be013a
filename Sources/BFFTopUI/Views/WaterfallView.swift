import BFFTopStats

/// One BFF request as a waterfall (`W`): the route's span, the functions and operations under it
/// (in parallel or in sequence), each bar placed on the request's own time axis, a cold start's
/// init drawn before its handler, failures in their outcome's colour, and each span's duration and
/// cost. ↑↓ select a span, Enter goes to its endpoint, n/N step through the endpoint's exemplars.
enum WaterfallView {
    static func draw(_ s: AppState, _ w: WaterfallCursor, _ r: Rect, _ p: inout Painter) {
        let list = s.exemplarTraces
        let t = w.trace
        let position = list.firstIndex { $0.traceID == t.traceID }.map { " \($0 + 1)/\(list.count)" } ?? ""
        let why = t.slowest ? "slowest of the last minute" : "recent"
        p.pane(r, title: "Trace · \(w.endpoint) · \(why)\(position)", focused: true)
        let inner = r.inset(1)
        guard inner.width > 20, inner.height > 2 else { return }
        guard !t.spans.isEmpty else {
            p.grid.put(inner.x + 1, inner.y, "trace \(t.traceID) is no longer held (n: next trace)", p.style(.muted), maxWidth: inner.width - 1)
            return
        }
        summary(s, t, Rect(x: inner.x, y: inner.y, width: inner.width, height: 1), &p)
        let hintRow = inner.height >= 6 ? 1 : 0
        let rowsRect = Rect(x: inner.x, y: inner.y + 2, width: inner.width, height: inner.height - 2 - hintRow)
        let cols = Columns(width: inner.width)
        axis(t, cols, Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: 1), &p)
        let visible = max(1, rowsRect.height)
        let first = max(0, min(w.row - visible / 2, t.spans.count - visible))
        for (n, i) in (first..<min(t.spans.count, first + visible)).enumerated() {
            let y = rowsRect.y + n
            row(t.spans[i], in: t, cols, x: inner.x, y: y, focus: i == t.focus, &p)
            if i == w.row { p.selectRow(Rect(x: inner.x, y: y, width: inner.width, height: 1)) }
        }
        if hintRow > 0 {
            let more = t.spansNotKept > 0 ? "+\(t.spansNotKept) spans not kept · " : ""
            p.grid.put(inner.x + 1, inner.maxY - 1, more + "↑↓ span · Enter go to its endpoint · n/N next/previous trace · Esc close",
                       p.style(.muted), maxWidth: inner.width - 1)
        }
    }

    /// Where a row's parts go: the name, the bar, the figures.
    struct Columns {
        var name: Int
        var bar: Int
        var figures: Int
        init(width: Int) {
            figures = min(30, max(12, width / 4))
            name = min(34, max(12, width * 3 / 10))
            bar = max(4, width - name - figures - 3)
        }
    }

    static func summary(_ s: AppState, _ t: TraceWaterfall, _ r: Rect, _ p: inout Painter) {
        // Most telling first: what it took and cost, then the rest as the width allows.
        var items: [(String, String, Role)] = [("took", Format.ms(t.durationMs), .latencyP50), ("cost", Format.exactDollars(t.cost), .cost)]
        if t.coldStarts > 0 { items.append(("cold", "\(t.coldStarts)", .coldStart)) }
        if t.failures > 0 { items.append(("failed", "\(t.failures)", .errors)) }
        items += [("spans", "\(t.spans.count)", .text), ("at", Format.clock(t.start, utcOffset: s.utcOffset), .text), ("trace", t.traceID, .text)]
        var x = r.x + 1
        for (label, value, role) in items {
            // A figure is shown whole or not at all ("$0.000" would read as nothing, half an id finds nothing).
            guard x + label.displayWidth + 1 + value.displayWidth <= r.maxX else { continue }
            x += p.grid.put(x, r.y, label + " ", p.style(.muted))
            x += p.grid.put(x, r.y, value, p.style(role)) + 2
        }
    }

    /// The time axis over the bars: 0 at the request's start, its duration at the end.
    static func axis(_ t: TraceWaterfall, _ c: Columns, _ r: Rect, _ p: inout Painter) {
        let x0 = r.x + 1 + c.name + 1
        let total = Format.ms(t.durationMs)
        p.grid.put(x0, r.y, "0", p.style(.chartAxis))
        if c.bar >= 24 { p.grid.put(x0 + c.bar / 2 - 2, r.y, "│" + Format.ms(t.durationMs / 2), p.style(.chartAxis)) }
        p.grid.putRight(x0, r.y, width: c.bar, total, p.style(.chartAxis))
    }

    static func row(_ span: WaterfallSpan, in t: TraceWaterfall, _ c: Columns, x: Int, y: Int, focus: Bool, _ p: inout Painter) {
        let indent = String(repeating: "  ", count: span.depth) + (span.depth > 0 ? "└ " : "")
        let name = CellGrid.truncate(indent + span.endpoint, c.name)
        p.grid.put(x + 1, y, name, p.style(focus ? .header : span.kind == .function ? .text : .key), maxWidth: c.name)
        let (initCells, barCells) = cells(span, in: t, width: c.bar)
        let x0 = x + 1 + c.name + 1
        if initCells.count > 0 { p.grid.put(x0 + initCells.lowerBound, y, String(repeating: "░", count: initCells.count), p.style(.coldStart)) }
        p.grid.put(x0 + barCells.lowerBound, y, String(repeating: "█", count: barCells.count), p.style(role(span)))
        // The duration always; then the cold start, the failure and the cost while they fit whole.
        var figures = Format.ms(span.durationMs)
        var extras: [String] = []
        if span.coldStart { extras.append("❄" + (span.initMs.map { Format.ms($0) } ?? "")) }
        if span.outcome != .ok { extras.append(span.status.map(String.init) ?? span.outcome.description) }
        if span.cost > 0 { extras.append(Format.exactDollars(span.cost)) }
        for e in extras where figures.displayWidth + 1 + e.displayWidth <= c.figures { figures += " " + e }
        p.grid.putRight(x0 + c.bar + 1, y, width: c.figures, figures, p.style(span.outcome == .ok ? .text : role(span)))
    }

    /// The init's and the handler's cells on a bar `width` wide: at least one for the handler.
    static func cells(_ span: WaterfallSpan, in t: TraceWaterfall, width: Int) -> (Range<Int>, Range<Int>) {
        let total = max(t.end - t.start, 1e-6)
        func col(_ time: Double) -> Int { Int(cells: (time - t.start) / total * Double(width), limit: width) }
        let a = min(col(span.barStart), width - 1)
        let i = max(a, min(col(span.start), width - 1))
        let b = max(i + 1, col(span.end))
        return (a..<i, i..<min(width, b))
    }

    static func role(_ span: WaterfallSpan) -> Role {
        switch span.outcome {
        case .ok: span.kind == .route ? .invocations : .latencyP50
        case .error: .errors
        case .timeout: .timeouts
        case .throttle: .throttles
        }
    }
}

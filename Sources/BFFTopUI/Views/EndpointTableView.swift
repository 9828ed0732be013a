import BFFTopStats

/// The endpoints table: one row per endpoint, sortable by every column, columns dropped by
/// priority when the terminal is narrow (the sparkline first, then p95, then kind).
enum EndpointTableView {
    struct Col {
        var column: Column
        var width: Int
        var priority: Int  // higher = dropped first
    }

    static let fixed: [Col] = [
        Col(column: .kind, width: 5, priority: 3), Col(column: .rps, width: 7, priority: 0), Col(column: .rpsWindow, width: 7, priority: 3),
        Col(column: .p50, width: 7, priority: 1),
        Col(column: .p95, width: 7, priority: 4), Col(column: .p99, width: 7, priority: 0), Col(column: .errorRate, width: 6, priority: 0),
        Col(column: .concurrency, width: 9, priority: 1), Col(column: .cold, width: 6, priority: 2), Col(column: .costPerHour, width: 7, priority: 2),
        Col(column: .trend, width: 8, priority: 5),
    ]
    static let minNameWidth = 16

    /// Columns that fit in `inner` columns, and the widths of the name and trend columns.
    static func columns(inner: Int, longestName: Int = 40) -> (cols: [Col], name: Int) {
        var cols = fixed
        func used(_ c: [Col]) -> Int { c.reduce(0) { $0 + $1.width + 1 } }
        while used(cols) + minNameWidth > inner, let worst = cols.indices.max(by: { cols[$0].priority < cols[$1].priority }) {
            cols.remove(at: worst)
        }
        // Names get what they need (up to 48), the sparkline what is left (its series stretched to fit).
        var spare = inner - used(cols) - minNameWidth
        let name = minNameWidth + max(0, min(spare, min(48, longestName + 1) - minNameWidth))
        spare -= name - minNameWidth
        if let t = cols.firstIndex(where: { $0.column == .trend }) {
            cols[t].width += max(0, spare)
        }
        return (cols, name)
    }

    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let rows = s.rows
        let total = s.displayed.snapshot.endpoints.count
        var title = "Endpoints \(rows.count)" + (rows.count != total ? "/\(total)" : "")
        if !s.filter.isEmpty { title += " /\(s.filter)" }
        p.pane(r, title: title, focused: s.focus == .endpoints)
        let inner = r.inset(1)
        guard inner.width > 0, inner.height > 0 else { return }
        let (cols, nameWidth) = columns(inner: inner.width, longestName: s.widestRowName)
        // Column header with the sort indicator.
        var x = inner.x
        let arrow = s.sortDescending ? "▼" : "▲"
        let hs = p.style(.header)
        let nameTitle = Column.endpoint.title + (s.sortColumn == .endpoint ? arrow : "")
        p.grid.put(x, inner.y, nameTitle, hs, maxWidth: nameWidth)
        x += nameWidth + 1
        for c in cols {
            // The window average says which window; every other figure is over it too (the header says so).
            let title = c.column == .rpsWindow ? "RPS \(s.window)" : c.column.title
            let t = title + (s.sortColumn == c.column ? arrow : "")
            if c.column == .trend || c.column == .kind {
                p.grid.put(x, inner.y, t, hs, maxWidth: c.width)
            } else {
                p.grid.putRight(x, inner.y, width: c.width, t, hs)
            }
            x += c.width + 1
        }
        let body = Rect(x: inner.x, y: inner.y + 1, width: inner.width, height: inner.height - 1)
        guard !rows.isEmpty else {
            emptyState(s, body, &p)
            return
        }
        for (i, f) in rows.dropFirst(s.tableOffset).prefix(body.height).enumerated() {
            let y = body.y + i
            let selected = f.name == s.selected
            drawRow(f, y: y, x: body.x, nameWidth: nameWidth, cols: cols, alarms: s.displayed.alarms, &p)
            if selected { p.selectRow(Rect(x: body.x, y: y, width: body.width, height: 1), recolourText: true) }
        }
        if rows.count > body.height, body.height > 0 {
            let shown = "\(s.tableOffset + 1)-\(min(rows.count, s.tableOffset + body.height))/\(rows.count)"
            p.grid.putRight(r.x, r.maxY - 1, width: r.width - 2, " \(shown) ", p.style(.muted))
        }
    }

    /// The alarm metrics each column shows; a firing alarm on one colours that cell.
    static let alarmMetrics: [Column: Set<AlarmMetric>] = [
        .endpoint: [.timeouts, .oom, .durationVsTimeout, .memoryUsed, .silent], .rps: [.rps], .rpsWindow: [.rps], .p50: [.p50], .p95: [.p95],
        .p99: [.p99], .errorRate: [.errorRate, .throttleRate], .concurrency: [.concurrencyVsLimit], .cold: [.coldRate],
        .costPerHour: [.costPerHour],
    ]

    static func drawRow(_ f: EndpointFigures, y: Int, x x0: Int, nameWidth: Int, cols: [Col], alarms: AlarmSnapshot = AlarmSnapshot(), _ p: inout Painter) {
        func alarmRole(_ c: Column) -> Role? {
            guard !alarms.active.isEmpty, let m = alarmMetrics[c], let sev = alarms.firing(f.name, m) else { return nil }
            return sev == .critical ? .alarm : .alarmWarning
        }
        let nameRole = alarmRole(.endpoint)
        p.grid.put(x0, y, CellGrid.truncate((nameRole != nil ? "⚠ " : "") + f.name, nameWidth), p.style(nameRole ?? .text), maxWidth: nameWidth)
        var x = x0 + nameWidth + 1
        for c in cols {
            var (text, role) = cell(f, c.column, width: c.width)
            role = alarmRole(c.column) ?? role
            if c.column == .trend || c.column == .kind {
                p.grid.put(x, y, text, p.style(role), maxWidth: c.width)
            } else {
                p.grid.putRight(x, y, width: c.width, text, p.style(role))
            }
            x += c.width + 1
        }
    }

    static func cell(_ f: EndpointFigures, _ c: Column, width: Int) -> (String, Role) {
        let idle = f.count == 0
        switch c {
        case .endpoint: return (f.name, .text)
        case .kind: return (f.kind == .route ? "route" : "fn", .muted)
        case .rps: return (Format.count(f.rpsNow), idle ? .muted : .invocations)
        case .rpsWindow: return (Format.count(f.rps), idle ? .muted : .text)
        // Coloured by value against the endpoint's latency budget, or not at all: a fixed colour per
        // column reads as a severity it does not have.
        case .p50: return (Format.ms(f.p50), latencyRole(f.p50, f.latencyBudgetMs))
        case .p95: return (Format.ms(f.p95), latencyRole(f.p95, f.latencyBudgetMs))
        case .p99: return (Format.ms(f.p99), latencyRole(f.p99, f.latencyBudgetMs))
        case .errorRate:
            let r = f.errorRate
            return (idle ? Format.missing : Format.percent(r), r >= 0.10 ? .bad : r >= 0.01 ? .warn : r > 0 ? .text : .muted)
        case .concurrency:
            // Known only from histograms and counters: no start times, so no concurrency to claim.
            guard f.concurrencyKnown else { return (Format.missing, .muted) }
            let now = Format.count(f.concurrencyNow), peak = Format.count(f.concurrencyPeak)
            let nearLimit = f.concurrencyLimit.map { $0 > 0 && f.concurrencyPeak >= 0.8 * $0 } ?? false
            return ("\(now)/\(peak)", nearLimit ? .warn : .concurrency)
        case .cold:
            return (idle ? Format.missing : Format.percent(f.coldRate), f.coldRate >= 0.2 ? .bad : f.cold > 0 ? .coldStart : .muted)
        case .costPerHour: return (f.costPerHour > 0 ? Format.dollars(f.costPerHour) : Format.missing, f.costPerHour > 0 ? .cost : .muted)
        case .trend: return (Format.sparkline(Format.fit(f.rpsSeries, to: width), width: width), .sparkline)
        }
    }

    static func emptyState(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let lines: [(String, Role)]
        if !s.filter.isEmpty {
            lines = [("No endpoint matches /\(s.filter)", .text), ("Esc clears the filter", .muted)]
        } else {
            lines = [("Waiting for events on \(s.source.detail)", .text)]
                + s.frame.ingest.receivers.map { ($0, .text) }
                + [("Try: bfftop simulate --socket \(s.source.detail)", .muted),
                   ("Protocol: one JSON object per line, see docs/protocol.md", .muted)]
        }
        let top = r.y + max(0, (r.height - lines.count) / 2)
        for (i, (t, role)) in lines.enumerated() where top + i < r.maxY {
            let text = CellGrid.truncate(t, r.width - 2)
            p.grid.put(r.x + max(1, (r.width - text.displayWidth) / 2), top + i, text, p.style(role), maxWidth: r.width - 1)
        }
    }

    /// A percentile's role: over its budget bad, within a fifth of it a warning, else plain text.
    static func latencyRole(_ v: Double?, _ budget: Double?) -> Role {
        guard let v, let budget, budget > 0 else { return .text }
        return v > budget ? .bad : v >= 0.8 * budget ? .warn : .text
    }

}

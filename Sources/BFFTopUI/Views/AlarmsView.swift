import BFFTopStats

/// Firing alarms first (critical, then warning), then pending ones, then the recent history.
enum AlarmsView {
    static func lineCount(_ a: AlarmSnapshot) -> Int { a.active.count + a.history.count + (a.history.isEmpty ? 0 : 1) }

    /// The alarms the filter keeps (the total's always: it is no endpoint).
    static func filtered(_ s: AppState) -> AlarmSnapshot {
        guard !s.filter.isEmpty else { return s.displayed.alarms }
        var a = s.displayed.alarms
        a.active = a.active.filter { $0.endpoint == AlarmScope.totalName || s.matchesFilter(name: $0.endpoint) }
        a.history = a.history.filter { $0.endpoint == AlarmScope.totalName || s.matchesFilter(name: $0.endpoint) }
        return a
    }

    /// The active alarm on line `i` (the history below them is not selectable).
    static func alarm(at i: Int, in a: AlarmSnapshot) -> ActiveAlarm? { i < a.active.count ? a.active[i] : nil }

    /// What the marks mean, at the pane's foot when it has room.
    static let legend = "●firing ✓acked ◌pending –muted C crit W warn ▲fired ▼resolved"


    static func condition(_ m: AlarmMetric, _ value: Double, _ op: AlarmComparison, _ threshold: Double) -> String {
        "\(m.rawValue) \(number(value, m)) \(op.rawValue) \(number(threshold, m))"
    }

    static func number(_ v: Double, _ m: AlarmMetric) -> String {
        switch m.unit {
        case "ms": Format.ms(v)
        case "%": Format.fixed(v, v < 10 ? 1 : 0) + "%"
        case "$/h": Format.dollars(v) + "/h"
        case "s": Format.fixed(v, 0) + "s"
        default: v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : Format.count(v)
        }
    }

    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let a = filtered(s)
        let title = a.firing > 0 ? "Alarms \(a.firing) firing" : "Alarms"
        p.pane(r, title: title, focused: s.focus == .alarms)
        let inner = r.inset(1)
        guard inner.width > 10, inner.height > 0 else { return }
        guard lineCount(a) > 0 else {
            p.grid.put(inner.x + 1, inner.y, "no alarms ✓", p.style(.good))
            return
        }
        var lines: [(String, String, Role)] = []
        for x in a.active {
            // Severity is the colour, and C/W for monochrome; ✓ acknowledged, ◌ pending.
            let sev = x.severity == .critical ? "C" : "W"
            let state = (x.muted ? "–" : x.phase == .firing ? (x.acknowledged ? "✓" : "●") : "◌") + sev
            let role: Role = x.phase != .firing || x.acknowledged || x.muted ? .muted : (x.severity == .critical ? .alarm : .alarmWarning)
            let when = Format.clock(x.firedAt ?? x.since, utcOffset: s.utcOffset)
            lines.append(("\(state) \(when) ", "\(x.rule) · \(x.endpoint) · \(condition(x.metric, x.value, x.comparison, x.threshold))", role))
        }
        if !a.history.isEmpty { lines.append(("recent", "", .header)) }
        for h in a.history {
            let mark = h.phase == .firing ? "▲ " : "▼ "
            lines.append(("\(mark) \(Format.clock(h.time, utcOffset: s.utcOffset)) ", "\(h.rule) · \(h.endpoint)", h.phase == .firing ? .text : .good))
        }
        // The legend takes the last line when the pane has a few to spare.
        let withLegend = inner.height >= 4
        let rows = withLegend ? inner.height - 1 : inner.height
        for (i, line) in lines.dropFirst(s.alarmsOffset).prefix(rows).enumerated() {
            let y = inner.y + i
            let x = inner.x + 1 + p.grid.put(inner.x + 1, y, line.0, p.style(line.2), maxWidth: inner.width - 1)
            p.grid.put(x, y, CellGrid.truncate(line.1, inner.maxX - x), p.style(line.2 == .header ? .header : .text), maxWidth: inner.maxX - x)
            if i == 0, s.focus == .alarms, s.alarmsOffset < a.active.count { p.selectRow(Rect(x: inner.x, y: y, width: inner.width, height: 1)) }
        }
        if withLegend { p.grid.put(inner.x + 1, inner.maxY - 1, CellGrid.truncate(legend, inner.width - 1), p.style(.muted)) }
        // Where the view is in the list, on the bottom border (the title counts only what fires).
        if lines.count > rows {
            let shown = "\(s.alarmsOffset + 1)-\(min(lines.count, s.alarmsOffset + rows))/\(lines.count)"
            p.grid.putRight(r.x, r.maxY - 1, width: r.width - 2, " \(shown) ", p.style(.muted))
        }
    }
}

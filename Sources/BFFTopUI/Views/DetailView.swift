import BFFTopStats

/// The selected endpoint: a figures line, p50/p99 over time (braille), cold starts over time,
/// the latency histogram and fan-out with cost shares. Zoomed, everything gets more room.
enum DetailView {
    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let f = s.rows.first { $0.name == s.selected } ?? s.displayed.snapshot.endpoints.first { $0.name == s.selected }
        let title = f.map { "\($0.name) · \($0.kind)" + ($0.service.map { " · \($0)" } ?? "") } ?? "Detail"
        p.pane(r, title: title, focused: s.focus == .detail)
        let inner = r.inset(1)
        guard inner.width > 4, inner.height > 0 else { return }
        guard let f, let d = s.displayed.snapshot.detail, d.name == f.name else {
            p.grid.put(inner.x + 1, inner.y, f == nil ? "Select an endpoint (↑↓)" : "collecting…", p.style(.muted), maxWidth: inner.width - 1)
            return
        }
        var y = inner.y
        y += figuresLines(f, traces: d.traces.count, Rect(x: inner.x, y: y, width: inner.width, height: s.zoomed ? 3 : 2), &p)
        let remaining = inner.maxY - y
        // Split what is left between the chart and the lists below it.
        // The chart keeps at least three rows (two of plot, one of axis) before the fan-out list gets any.
        var fanRows = max(0, min(d.fanOut.count + d.calledBy.count + (d.fanOut.isEmpty ? 0 : 1) + (d.calledBy.isEmpty ? 0 : 1), s.zoomed ? 12 : 3,
                                 remaining - 1 - 3))
        if fanRows < 2 { fanRows = 0 }  // a heading without an entry says nothing
        let coldRow = 1
        let histRows = s.zoomed ? min(10, max(0, remaining / 3)) : (remaining >= 14 ? min(6, remaining / 4) : 0)
        let chartRows = max(2, remaining - fanRows - coldRow - histRows)
        if remaining >= 3 {
            chart(d, s.window, Rect(x: inner.x, y: y, width: inner.width, height: min(chartRows, remaining - coldRow)), &p)
            y += min(chartRows, remaining - coldRow)
        }
        if y < inner.maxY {
            coldLine(d, Rect(x: inner.x, y: y, width: inner.width, height: 1), &p)
            y += 1
        }
        if histRows > 0, y < inner.maxY {
            histogram(d, Rect(x: inner.x, y: y, width: inner.width, height: min(histRows, inner.maxY - y)), &p)
            y += histRows
        }
        if y < inner.maxY { fanOut(d, Rect(x: inner.x, y: y, width: inner.width, height: inner.maxY - y), &p) }
    }

    /// Key figures, wrapped over up to `r.height` lines. Returns lines used.
    static func figuresLines(_ f: EndpointFigures, traces: Int = 0, _ r: Rect, _ p: inout Painter) -> Int {
        var items: [(String, String, Role)] = [
            ("n", Format.count(Double(f.count)), .invocations), ("p50", Format.ms(f.p50), .latencyP50),
            ("p90", Format.ms(f.p90), .latencyP95), ("p99", Format.ms(f.p99), .latencyP99), ("max", Format.ms(f.max), .latencyP99),
            ("err", "\(f.errors)", f.errors > 0 ? .errors : .muted), ("timeout", "\(f.timeouts)", f.timeouts > 0 ? .timeouts : .muted),
            ("throttle", "\(f.throttles)", f.throttles > 0 ? .throttles : .muted),
            ("cold", "\(f.cold) (\(Format.percent(f.coldRate)))", f.cold > 0 ? .coldStart : .muted),
        ]
        if f.test > 0 { items.append(("test", "\(f.test) of \(f.count)", .key)) }
        if f.cold > 0 { items.append(("init p50/p99", "\(Format.ms(f.initP50))/\(Format.ms(f.initP99))", .coldStart)) }
        if let m = f.memoryMB {
            items.append(("mem", "\(f.maxMemoryUsedMB.map { Format.count($0) } ?? "?")/\(Format.count(m))MB", .text))
        }
        if f.timeoutMs != nil, f.maxTimeoutRatio > 0 { items.append(("max/timeout", Format.percent(f.maxTimeoutRatio), f.maxTimeoutRatio >= 0.9 ? .warn : .text)) }
        items.append(("cost", "\(Format.dollars(f.costPerHour))/h", .cost))
        if f.costPerMillion > 0 { items.append(("per 1M", Format.dollars(f.costPerMillion), .cost)) }
        if f.cost > 0 {
            items.append(("compute/requests", "\(Format.percent(f.costCompute / f.cost))/\(Format.percent(f.costRequests / f.cost))", .cost))
        }
        if f.provisionedPerHour > 0 { items.append(("provisioned", "\(Format.dollars(f.provisionedPerHour))/h", .cost)) }
        if let m = f.suggestedMemoryMB, let save = f.rightSizingSavingPerHour, save > 0 {
            items.append(("right-size", "\(Format.count(m))MB saves \(Format.dollars(save))/h", .good))
        }
        if f.fanOutCost > 0 { items.append(("fan-out", "\(Format.dollars(f.fanOutCost / max(1, Double(f.count)) * 1_000_000))/1M", .cost)) }
        if traces > 0 { items.append(("traces", "\(traces) · W waterfall", .key)) }
        var x = r.x + 1
        var y = r.y
        for (label, value, role) in items {
            let need = label.displayWidth + value.displayWidth + 3
            if x + need > r.maxX {
                y += 1
                x = r.x + 1
                if y >= r.maxY { break }
            }
            x += p.grid.put(x, y, label + " ", p.style(.muted))
            x += p.grid.put(x, y, value, p.style(role)) + 2
        }
        return min(r.height, y - r.y + 1)
    }

    static func chart(_ d: EndpointDetail, _ w: Window, _ r: Rect, _ p: inout Painter) {
        guard r.height >= 2, r.width > 12 else { return }
        let top = niceCeiling(d.p99Series.compactMap { $0 }.max() ?? 0)
        let axisWidth = 7
        let plot = Rect(x: r.x + axisWidth, y: r.y, width: r.width - axisWidth - 1, height: r.height - 1)
        p.grid.putRight(r.x, plot.y, width: axisWidth - 1, Format.ms(top), p.style(.chartAxis))
        // With a single plot row the two labels would share it.
        if plot.height >= 2 { p.grid.putRight(r.x, plot.maxY - 1, width: axisWidth - 1, "0", p.style(.chartAxis)) }
        for yy in plot.y..<plot.maxY { p.grid.set(plot.x - 1, yy, "┤", p.style(.chartAxis)) }
        var canvas = BrailleCanvas(cols: plot.width, rows: plot.height)
        canvas.series(d.p50Series, top: top, role: .latencyP50)
        canvas.series(d.p99Series, top: top, role: .latencyP99)
        canvas.draw(into: &p, at: plot.x, plot.y)
        let yAxis = plot.maxY
        p.grid.put(plot.x, yAxis, "-\(w)", p.style(.chartAxis))
        var x = plot.x + 6
        x += p.grid.put(x, yAxis, "━ p50 ", p.style(.latencyP50))
        x += p.grid.put(x, yAxis, "━ p99 ", p.style(.latencyP99))
        p.grid.putRight(plot.x, yAxis, width: plot.width, "now", p.style(.chartAxis))
    }

    static func coldLine(_ d: EndpointDetail, _ r: Rect, _ p: inout Painter) {
        let label = "cold "
        let n = p.grid.put(r.x + 1, r.y, label, p.style(.muted))
        let width = r.width - n - 10
        let series = Format.fold(d.coldSeries.map(Double.init), into: max(1, width))
        p.grid.put(r.x + 1 + n, r.y, Format.sparkline(series, width: max(0, width)), p.style(.coldStart))
        p.grid.putRight(r.x, r.y, width: r.width - 1, "\(d.coldSeries.reduce(0, +)) cold", p.style(.coldStart))
    }

    /// Latency distribution folded into at most `r.height` log-spaced rows.
    static func histogram(_ d: EndpointDetail, _ r: Rect, _ p: inout Painter) {
        guard !d.histogram.isEmpty, r.height > 0 else { return }
        let bins = d.histogram
        let groups = min(r.height, bins.count)
        var rows: [(upper: Double, count: Int)] = []
        for g in 0..<groups {
            let slice = bins[(g * bins.count / groups)..<((g + 1) * bins.count / groups)]
            rows.append((slice.last?.upperMs ?? 0, slice.reduce(0) { $0 + $1.count }))
        }
        let top = rows.map(\.count).max() ?? 1
        let barWidth = max(1, r.width - 22)
        for (i, row) in rows.enumerated() {
            let y = r.y + i
            p.grid.putRight(r.x, y, width: 9, "≤" + Format.ms(row.upper), p.style(.muted))
            let n = Int(cells: (Double(row.count) / Double(top) * Double(barWidth)).rounded(.up), limit: barWidth)
            p.grid.put(r.x + 10, y, String(repeating: "█", count: max(row.count > 0 ? 1 : 0, n)), p.style(.histogram), maxWidth: barWidth)
            p.grid.putRight(r.x + 10 + barWidth, y, width: 10, Format.count(Double(row.count)), p.style(.text))
        }
    }

    static func fanOut(_ d: EndpointDetail, _ r: Rect, _ p: inout Painter) {
        var y = r.y
        for (title, list) in [("calls →", d.fanOut), ("called by ←", d.calledBy)] where !list.isEmpty {
            guard y < r.maxY else { return }
            p.grid.put(r.x + 1, y, title, p.style(.header))
            y += 1
            for share in list {
                guard y < r.maxY else { return }
                let right = "\(Format.count(Double(share.calls))) calls \(Format.dollars(share.cost)) \(Format.percent(share.share))"
                let barSpace = min(10, max(0, r.width - right.count - 8) / 3)
                let nameWidth = max(4, r.width - right.count - barSpace - 5)
                p.grid.put(r.x + 2, y, CellGrid.truncate(share.endpoint, nameWidth), p.style(.text))
                let bar = Int(cells: share.share * Double(barSpace), limit: barSpace)
                p.grid.put(r.x + 3 + nameWidth, y, String(repeating: "■", count: bar), p.style(.cost), maxWidth: barSpace)
                p.grid.putRight(r.x, y, width: r.width - 1, right, p.style(.cost))
                y += 1
            }
        }
    }
}

import BFFTopStats
import BFFTopWire

/// Failures in the window: first those known only from a counter (a DogStatsD or EMF error count:
/// no time, duration or message of their own), per endpoint; then recent failed invocations, newest
/// first: time, outcome, endpoint, duration and message.
enum ErrorsView {
    /// Endpoints with counted failures in the window, most first.
    static func counted(_ s: AppState) -> [EndpointFigures] {
        s.displayed.snapshot.endpoints.filter { $0.countedFailures > 0 && s.matchesFilter($0) }.sorted { $0.countedFailures > $1.countedFailures }
    }

    /// Rows the pane can scroll through.
    static func lineCount(_ s: AppState) -> Int { counted(s).count + failures(s).count }

    /// Recent failures the filter keeps.
    static func failures(_ s: AppState) -> [FailureRecord] {
        s.filter.isEmpty ? s.displayed.snapshot.recentFailures : s.displayed.snapshot.recentFailures.filter { s.matchesFilter(name: $0.endpoint) }
    }

    /// What line `i` of the pane stands for (Enter opens it whole).
    static func record(at i: Int, in s: AppState) -> Inspected? {
        let counted = counted(s)
        if i < counted.count {
            return .counted(endpoint: counted[i].name, failed: counted[i].countedFailures, window: s.displayed.snapshot.request.window.description)
        }
        let failures = failures(s)
        let k = i - counted.count
        return k < failures.count ? .failure(failures[k]) : nil
    }

    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let failures = failures(s)
        let counted = counted(s)
        let countedTotal = counted.reduce(0) { $0 + $1.countedFailures }
        let title = "Errors \(failures.count)" + (countedTotal > 0 ? " + \(Format.count(Double(countedTotal))) counted" : "")
        p.pane(r, title: title, focused: s.focus == .errors)
        let inner = r.inset(1)
        guard inner.width > 10, inner.height > 0 else { return }
        guard !failures.isEmpty || !counted.isEmpty else {
            p.grid.put(inner.x + 1, inner.y, "no failures ✓", p.style(.good))
            return
        }
        var y = inner.y
        var skip = s.errorsOffset
        for f in counted {
            guard y < inner.maxY else { return }
            if skip > 0 {
                skip -= 1
                continue
            }
            var x = inner.x + 1
            x += p.grid.put(x, y, "counted  ", p.style(.muted))
            x += p.grid.put(x, y, "\(Format.count(Double(f.countedFailures))) failed".padded(to: 11), p.style(.errors))
            x += p.grid.put(x, y, CellGrid.truncate(f.name, 18) + " ", p.style(.text), maxWidth: inner.maxX - x)
            p.grid.put(x, y, "in \(s.displayed.snapshot.request.window) by an error counter (no details)", p.style(.muted), maxWidth: inner.maxX - x)
            if y == inner.y, s.focus == .errors { p.selectRow(Rect(x: inner.x, y: y, width: inner.width, height: 1)) }
            y += 1
        }
        for e in failures.dropFirst(skip) {
            guard y < inner.maxY else { return }
            var x = inner.x + 1
            x += p.grid.put(x, y, Format.stamp(e.time, now: s.displayed.snapshot.now, utcOffset: s.utcOffset) + " ", p.style(.muted))
            let role: Role = e.outcome == .timeout ? .timeouts : e.outcome == .throttle ? .throttles : .errors
            let tag = e.status.map { "\($0)" } ?? e.outcome.description
            x += p.grid.put(x, y, tag.padded(to: 8), p.style(role))
            x += p.grid.put(x, y, CellGrid.truncate(e.endpoint, 18) + " ", p.style(.text), maxWidth: inner.maxX - x)
            let msg = [Format.ms(e.durationMs), e.message].compactMap { $0 }.joined(separator: " ")
            p.grid.put(x, y, msg, p.style(.muted), maxWidth: inner.maxX - x)
            if y == inner.y, s.focus == .errors { p.selectRow(Rect(x: inner.x, y: y, width: inner.width, height: 1)) }
            y += 1
        }
    }
}

import BFFTopStats
import BFFTopWire

/// Recent failed invocations, newest first: time, outcome, endpoint, duration and message.
enum ErrorsView {
    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let failures = s.displayed.snapshot.recentFailures
        p.pane(r, title: "Errors \(failures.count)", focused: s.focus == .errors)
        let inner = r.inset(1)
        guard inner.width > 10, inner.height > 0 else { return }
        guard !failures.isEmpty else {
            p.grid.put(inner.x + 1, inner.y, "no failures ✓", p.style(.good))
            return
        }
        for (i, e) in failures.dropFirst(s.errorsOffset).prefix(inner.height).enumerated() {
            let y = inner.y + i
            var x = inner.x + 1
            x += p.grid.put(x, y, Format.clock(e.time, utcOffset: s.utcOffset) + " ", p.style(.muted))
            let role: Role = e.outcome == .timeout ? .timeouts : e.outcome == .throttle ? .throttles : .errors
            let tag = e.status.map { "\($0)" } ?? e.outcome.description
            x += p.grid.put(x, y, tag.padded(to: 8), p.style(role))
            x += p.grid.put(x, y, CellGrid.truncate(e.endpoint, 18) + " ", p.style(.text), maxWidth: inner.maxX - x)
            let msg = [Format.ms(e.durationMs), e.message].compactMap { $0 }.joined(separator: " ")
            p.grid.put(x, y, msg, p.style(.muted), maxWidth: inner.maxX - x)
        }
    }
}

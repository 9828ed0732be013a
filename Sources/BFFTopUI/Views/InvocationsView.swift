import BFFTopInvoke

/// Test invocations fired from the dashboard: bursts and ramps under way, then each result, newest
/// first: time, endpoint, status or outcome, latency, bytes, cold start, error.
enum InvocationsView {
    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let inv = s.invocations
        let title = "Invocations \(inv.total)" + (inv.inFlight > 0 ? " · \(inv.inFlight) in flight" : "")
        p.pane(r, title: title, focused: s.focus == .invocations)
        let inner = r.inset(1)
        guard inner.width > 10, inner.height > 0 else { return }
        var y = inner.y
        if inv.records.isEmpty && inv.running.isEmpty {
            let hint = s.selected.map { s.target(for: $0) == nil ? "\($0) has no target: add a [[target]] to the config" : "i invoke · b burst · B ramp · I preset" }
            p.grid.put(inner.x + 1, y, hint ?? "select an endpoint, then i", p.style(.muted), maxWidth: inner.width - 1)
            return
        }
        for plan in inv.running where y < inner.maxY {
            let text = "▶ \(plan.plan) · \(plan.endpoint) · \(plan.done)/\(plan.plan.count) done, \(plan.failed) failed" + (plan.cancelled ? " · cancelling" : " · x cancels")
            p.grid.put(inner.x + 1, y, text, p.style(.key), maxWidth: inner.width - 1)
            y += 1
        }
        for rec in inv.records where y < inner.maxY {
            var x = inner.x + 1
            x += p.grid.put(x, y, Format.clock(rec.time, utcOffset: s.utcOffset) + " ", p.style(.muted))
            let tag = rec.status.map(String.init) ?? rec.outcome.description
            let role: Role = rec.outcome == .ok ? .good : rec.outcome == .timeout ? .timeouts : rec.outcome == .throttle ? .throttles : .errors
            x += p.grid.put(x, y, tag.padded(to: 8), p.style(role))
            x += p.grid.put(x, y, Format.ms(rec.latencyMs).padded(to: 7), p.style(.latencyP50), maxWidth: inner.maxX - x)
            if rec.coldStart == true { x += p.grid.put(x, y, "❄ ", p.style(.coldStart), maxWidth: inner.maxX - x) }
            x += p.grid.put(x, y, CellGrid.truncate(rec.endpoint, 22) + " ", p.style(.text), maxWidth: inner.maxX - x)
            let rest = rec.error ?? "\(Format.bytes(rec.bytes)) · \(rec.target)"
            p.grid.put(x, y, rest, p.style(rec.error == nil ? .muted : .errors), maxWidth: inner.maxX - x)
            y += 1
        }
    }
}

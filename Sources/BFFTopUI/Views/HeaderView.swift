import BFFTopEngine
import BFFTopStats

/// Two rows: identity and vital signs on the first, the most urgent notice on the second.
enum HeaderView {
    struct Segment {
        var text: String
        var role: Role
        var priority: Int  // lower survives longer when space runs out
    }

    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        guard r.height > 0 else { return }
        let f = s.displayed
        let snap = f.snapshot
        let clock = Format.clock(snap.now, utcOffset: s.utcOffset)
        let malformed = f.ingest.malformed
        var segs = [Segment(text: "\(s.source.mode) \(s.source.detail)", role: .muted, priority: 8)]
        if f.playback != nil {
            // Replay: what was read and skipped stands where live shows connections and rates.
            segs.append(Segment(text: "\(Format.count(Double(f.ingest.events))) events", role: .text, priority: 3))
            segs.append(Segment(text: "\(malformed) skipped", role: malformed > 0 ? .warn : .muted, priority: 6))
        } else {
            // "⇄ 0 emitters" beside a receiver that is taking data (OTLP, DogStatsD) would read as
            // "nothing connected": the socket's count shows when it has emitters or nothing else feeds.
            let otherFeeds = (f.ingest.otlp.map { $0.exports + $0.metricExports + $0.logExports > 0 } ?? false)
                || (f.ingest.dogstatsd.map { $0.received > 0 } ?? false)
            if f.ingest.connected > 0 || !otherFeeds {
                segs.append(Segment(text: "⇄ \(f.ingest.connected) emitter\(f.ingest.connected == 1 ? "" : "s")", role: .text, priority: 3))
            }
            segs.append(Segment(text: "\(Format.count(f.eventsPerSecond)) ev/s", role: .invocations, priority: 2))
            segs.append(Segment(text: "✗ \(malformed) malformed", role: malformed > 0 ? .bad : .muted, priority: malformed > 0 ? 1 : 6))
            if let d = f.ingest.dogstatsd {
                let dropped = d.clientDropped + d.kernelDropped
                var text = "dsd \(Format.count(Double(d.received))) rcvd, \(Format.count(Double(d.mapped))) mapped"
                if d.malformed > 0 { text += ", \(d.malformed) bad" }
                if dropped > 0 || d.truncated > 0 { text += ", \(Format.count(Double(dropped + d.truncated))) dropped" }
                segs.append(Segment(text: text, role: dropped + d.truncated + d.malformed > 0 ? .warn : .text, priority: 3))
            }
            if let o = f.ingest.otlp {
                // Spans taken; those waiting for their route; exports refused while the engine was behind.
                var parts: [String] = []
                if o.spans > 0 || o.points == 0 { parts.append("\(Format.count(Double(o.spans))) spans") }
                if o.points > 0 { parts.append("\(Format.count(Double(o.points))) points") }
                var text = "otlp " + parts.joined(separator: ", ")
                if o.held > 0 { text += ", \(Format.count(Double(o.held))) held" }
                if o.busy > 0 { text += ", \(Format.count(Double(o.busy))) busy" }
                segs.append(Segment(text: text, role: o.busy > 0 ? .warn : .text, priority: 3))
            }
        }
        segs += [
            Segment(text: "window \(s.window)", role: .text, priority: 4),
            Segment(text: "\(Format.dollars(snap.totals.costSoFar)) so far", role: .cost, priority: 5),
            Segment(text: "\(Format.dollars(snap.totals.projectedPerMonth))/mo", role: .cost, priority: 5),
        ]
        if s.paused { segs.insert(Segment(text: "⏸ PAUSED", role: .paused, priority: 0), at: 0) }
        if s.hideTestTraffic { segs.append(Segment(text: "T: test traffic hidden", role: .warn, priority: 1)) }
        let alarms = f.alarms
        if let worst = alarms.worst {
            let unacked = alarms.unacknowledged
            let text = "⚠ \(alarms.firing) alarm\(alarms.firing == 1 ? "" : "s")" + (unacked > 0 ? "" : " ✓")
            segs.insert(Segment(text: text, role: worst == .critical ? .alarm : .alarmWarning, priority: 0), at: 0)
        }
        if let rec = f.recording {
            var text = rec.error == nil ? "● REC \(Format.bytes(rec.bytesWritten))" : "● REC ✗"
            if rec.dropped > 0 { text += " (\(Format.count(Double(rec.dropped))) not recorded: disk behind)" }
            segs.insert(Segment(text: text, role: rec.error == nil && rec.dropped == 0 ? .recording : .bad, priority: 0), at: 0)
        }
        if f.backlogDropped > 0 {
            segs.append(Segment(text: "⚠ \(Format.count(Double(f.backlogDropped))) dropped (engine behind)", role: .bad, priority: 1))
        }
        // Opted in with --listen-beyond-loopback: say so for as long as it is true.
        if !f.ingest.beyondLoopback.isEmpty {
            segs.append(Segment(text: "⚠ open to the network: \(f.ingest.beyondLoopback.joined(separator: ", "))", role: .bad, priority: 0))
        }
        if f.ingest.shedConnections > 0 {
            segs.append(Segment(text: "⚠ \(Format.count(Double(f.ingest.shedConnections))) connections refused (out of file descriptors)", role: .bad, priority: 1))
        }
        // Events the aggregator could not count, and names past the endpoint cap: never unseen.
        if snap.losses.total > 0 {
            segs.append(Segment(text: "⚠ \(Format.count(Double(snap.losses.total))) not counted (\(snap.losses.summary))", role: .warn, priority: 1))
        }
        if snap.endpointsOverCap > 0 {
            let n = snap.endpointsOverCap
            segs.append(Segment(text: "⚠ \(n >= 256 ? "≈" : "")\(Format.count(Double(n))) endpoints over the cap", role: .warn, priority: 1))
        }
        let y = r.y
        p.grid.fill(Rect(x: r.x, y: y, width: r.width, height: 1), Cell(" ", p.style(.text)))
        let badge = " bfftop "
        var x = r.x + p.grid.put(r.x, y, badge, p.style(.badgeFg))
        let right = " " + clock
        let avail = r.width - badge.count - right.count - 1
        // Drop the least important segments until the rest fit.
        var shown = segs
        func width(_ list: [Segment]) -> Int { list.reduce(0) { $0 + $1.text.displayWidth + 2 } }
        while width(shown) > avail, let worst = shown.indices.max(by: { shown[$0].priority < shown[$1].priority }) {
            if shown[worst].priority == 8, avail - width(shown) + shown[worst].text.count > 12 {
                // Shorten the socket path rather than lose it.
                let keep = avail - (width(shown) - shown[worst].text.count)
                shown[worst].text = CellGrid.truncate(shown[worst].text, keep)
                break
            }
            shown.remove(at: worst)
        }
        for seg in shown {
            x += 2
            x += p.grid.put(x, y, seg.text, p.style(seg.role), maxWidth: r.maxX - x)
        }
        p.grid.putRight(r.x, y, width: r.width, right, p.style(.muted))
        if r.height > 1 { drawNotice(s, Rect(x: r.x, y: y + 1, width: r.width, height: 1), &p) }
    }

    /// Replay position: ▶/⏸, speed, a bar over the recording's span, clock time, elapsed / total.
    static func progressBar(_ pb: PlaybackStatus, _ s: AppState, _ r: Rect, _ p: inout Painter) {
        let icon = pb.paused ? (pb.atEnd ? "■" : "⏸") : "▶"
        let speed = pb.speed.isInfinite ? "max" : (pb.speed == pb.speed.rounded() ? Format.fixed(pb.speed, 0) : Format.fixed(pb.speed, 2)) + "×"
        let left = " \(icon) \(speed) "
        let right = " \(Format.clock(pb.position, utcOffset: s.utcOffset))  \(duration(pb.position - pb.start)) / \(duration(pb.end - pb.start)) "
        var x = r.x + p.grid.put(r.x, r.y, left, p.style(.replay))
        let barWidth = max(4, r.width - left.count - right.count - 1)
        let filled = Int(cells: pb.fraction * Double(barWidth - 1), limit: max(0, barWidth - 1))
        for i in 0..<barWidth {
            p.grid.set(x + i, r.y, i == filled ? "●" : (i < filled ? "━" : "─"), p.style(i <= filled ? .replay : .muted))
        }
        x += barWidth
        p.grid.put(x, r.y, right, p.style(.text), maxWidth: r.maxX - x)
    }

    static func duration(_ secs: Double) -> String {
        let s = max(0, Int(secs.rounded(.down)))
        return s >= 3600 ? "\(s / 3600):" + Format.two(s / 60 % 60) + ":" + Format.two(s % 60) : "\(s / 60):" + Format.two(s % 60)
    }

    /// The second row: filter prompt, pause, the last malformed line, a transient message, or a summary.
    static func drawNotice(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        let f = s.displayed
        let t = f.snapshot.totals
        if s.gotoEditing {
            let n = p.grid.put(r.x + 1, r.y, "go to: ", p.style(.key))
            p.grid.put(r.x + 1 + n, r.y, s.gotoText + "▏", p.style(.text), maxWidth: r.width - n - 2)
            p.grid.putRight(r.x, r.y, width: r.width - 1, "12:00:30 · 5m from the start · +90s/-2m from here · Enter go · Esc", p.style(.muted))
            return
        }
        if let c = s.confirming {
            let why = s.confirmingReason.map { " (\($0))" } ?? ""
            let text = "⚠ \(c.endpoint): \(c.plan == .once ? "invoke" : c.plan.description) → \(c.target.summary)\(c.preset.map { " (payload \($0))" } ?? "")\(why)? y / n"
            p.grid.put(r.x + 1, r.y, text, p.style(.warn), maxWidth: r.width - 2)
            return
        }
        if let (endpoint, spec) = s.choosingPreset {
            let list = spec.presets.prefix(9).enumerated().map { "\($0.offset + 1) \($0.element.name)" }.joined(separator: "  ")
            p.grid.put(r.x + 1, r.y, "payload for \(endpoint): \(list) · other key cancels", p.style(.key), maxWidth: r.width - 2)
            return
        }
        if let pb = f.playback, s.message == nil, !s.filterEditing {
            progressBar(pb, s, r, &p)
            return
        }
        if s.filterEditing {
            let n = p.grid.put(r.x + 1, r.y, "/ filter: ", p.style(.key))
            p.grid.put(r.x + 1 + n, r.y, s.filter + "▏", p.style(.text), maxWidth: r.width - n - 2)
            p.grid.putRight(r.x, r.y, width: r.width - 1, "Enter keep · Esc cancel", p.style(.muted))
            return
        }
        // The fleet's summary always leads the row (an alarm fires within seconds in a busy fleet and
        // must not take it away); what needs attention follows it, cut with an ellipsis.
        var parts = ["\(Format.count(t.rpsNow)) rps now", "\(Format.percent(t.count > 0 ? min(1, Double(t.failures) / Double(t.count)) : 0)) failed",
                     "\(Format.percent(t.count > 0 ? Double(t.cold) / Double(t.count) : 0)) cold", "\(Format.dollars(t.costPerHour))/h"]
        if !s.filter.isEmpty { parts.append("filter /\(s.filter)") }
        let n = p.grid.put(r.x + 1, r.y, parts.joined(separator: " · "), p.style(.muted), maxWidth: r.width - 2)
        let notice: (text: String, role: Role)?
        if let problem = f.recording?.error {
            notice = (problem, .bad)
        } else if let m = s.message {
            notice = (m, .key)
        } else if let a = f.alarms.active.first(where: { $0.phase == .firing && !$0.acknowledged }) {
            let more = f.alarms.unacknowledged - 1
            notice = ("⚠ \(a.severity.rawValue): \(a.rule) on \(a.endpoint) — \(AlarmsView.condition(a.metric, a.value, a.comparison, a.threshold))"
                + (more > 0 ? " (+\(more) more)" : "") + " · A alarms · a acknowledge", a.severity == .critical ? .alarm : .alarmWarning)
        } else if let bad = f.ingest.lastMalformed {
            notice = ("last malformed line (conn \(bad.connection)): \(bad.reason) ⟨\(bad.excerpt)⟩", .warn)
        } else {
            notice = nil
        }
        guard let notice else { return }
        let x = r.x + 1 + n
        let room = r.maxX - 1 - (x + 3)
        guard room >= 12 else { return }
        p.grid.put(x, r.y, " │ ", p.style(.muted))
        p.grid.put(x + 3, r.y, CellGrid.truncate(notice.text, room), p.style(notice.role), maxWidth: room)
    }
}

enum FooterView {
    static let shown: [Action] = [.quit, .help, .down, .detail, .nextPane, .sortNext, .filter, .pause, .cycleWindow, .cycleTheme]
    /// While the waterfall is open: its own keys.
    static let waterfall: [Action] = [.back, .down, .detail, .nextTrace, .previousTrace, .quit, .help]

    static func label(_ a: Action, waterfall: Bool = false) -> String {
        if waterfall {
            switch a {
            case .back: return "close"
            case .down: return "span"
            case .detail: return "go to endpoint"
            case .nextTrace: return "next trace"
            case .previousTrace: return "previous"
            default: break
            }
        }
        return switch a {
        case .down: "select"
        case .detail: "zoom"
        case .nextPane: "pane"
        case .sortNext: "sort"
        case .cycleWindow: "window"
        case .cycleTheme: "theme"
        default: a.rawValue
        }
    }

    static func draw(_ s: AppState, _ r: Rect, _ p: inout Painter) {
        guard r.height > 0 else { return }
        var x = r.x + 1
        let inWaterfall = s.waterfall != nil
        for a in inWaterfall ? waterfall : shown {
            var keys = s.keymap.keys(for: a).map(\.label)
            if a == .down { keys = ["↑↓"] }
            guard let k = keys.first else { continue }
            let text = label(a, waterfall: inWaterfall)
            let need = k.count + text.count + 3
            if x + need > r.maxX { break }
            x += p.grid.put(x, r.y, k, p.style(.key))
            x += p.grid.put(x, r.y, " " + text + "  ", p.style(.muted))
        }
    }
}

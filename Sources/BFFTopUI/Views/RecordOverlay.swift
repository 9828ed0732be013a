import BFFTopEngine
import BFFTopProtocol
import BFFTopStats

/// Enter on a line of the Errors or Malformed pane: the whole record, wrapped, over the dashboard.
/// Any key closes it.
enum RecordOverlay {
    static func fields(_ record: Inspected, _ s: AppState) -> (title: String, rows: [(String, String)]) {
        switch record {
        case .failure(let f):
            var rows = [("time", Format.clock(f.time, utcOffset: s.utcOffset) + " (" + Format.date(f.time, utcOffset: s.utcOffset) + ")"),
                        ("endpoint", f.endpoint), ("outcome", f.outcome.description)]
            if let st = f.status { rows.append(("status", "\(st)")) }
            rows.append(("duration", Format.ms(f.durationMs)))
            rows.append(("message", f.message ?? "(none)"))
            rows.append(("trace id", f.traceID ?? "(none)"))
            return ("Failed invocation", rows)
        case .counted(let name, let n, let window):
            return ("Counted failures", [("endpoint", name), ("failed", "\(n) in the last \(window)"),
                                         ("source", "an error counter (DogStatsD, EMF, swift-metrics): no time, duration or message per request")])
        case .alarm(let x):
            var rows = [("alarm", "\(x.rule) (\(x.severity == .critical ? "critical" : "warning"))"), ("endpoint", x.endpoint),
                        ("condition", AlarmsView.condition(x.metric, x.value, x.comparison, x.threshold)),
                        ("state", (x.phase == .firing ? (x.acknowledged ? "firing, acknowledged" : "firing") : "pending") + (x.muted ? " (rule muted)" : ""))]
            rows.append(("since", Format.stamp(x.since, now: s.displayed.snapshot.now, utcOffset: s.utcOffset)))
            if let f = x.firedAt { rows.append(("fired", Format.stamp(f, now: s.displayed.snapshot.now, utcOffset: s.utcOffset))) }
            return ("Alarm", rows)
        case .malformed(let m):
            return ("Malformed line", [("time", Format.clock(m.time, utcOffset: s.utcOffset) + " (" + Format.date(m.time, utcOffset: s.utcOffset) + ")"),
                                      ("from", m.origin.isEmpty ? "connection #\(m.connection)" : "\(m.origin) (connection #\(m.connection))"),
                                      ("reason", m.reason), ("line", m.excerpt)])
        }
    }

    static func draw(_ s: AppState, _ record: Inspected, _ p: inout Painter) {
        let (title, rows) = fields(record, s)
        let w = min(p.grid.width - 2, 100)
        let labelWidth = 10
        let textWidth = max(10, w - labelWidth - 5)
        var lines: [(String, String)] = []
        for (label, value) in rows {
            for (i, part) in wrap(value, textWidth).enumerated() { lines.append((i == 0 ? label : "", part)) }
        }
        let h = min(p.grid.height - 2, lines.count + 4)
        let r = Rect(x: (p.grid.width - w) / 2, y: max(0, (p.grid.height - h) / 2), width: w, height: h)
        p.grid.fill(r, Cell(" ", p.style(.text)))
        p.grid.box(r, title: title, p.style(.borderFocus), p.style(.title), focused: true)
        for (i, line) in lines.prefix(h - 4).enumerated() {
            p.grid.put(r.x + 2, r.y + 1 + i, line.0, p.style(.muted))
            p.grid.put(r.x + 2 + labelWidth + 1, r.y + 1 + i, line.1, p.style(.text), maxWidth: textWidth)
        }
        let hint = if case .alarm = record { "Enter goes to the endpoint · a acknowledges · m mutes its rule · other keys close" } else { "any key closes" }
        p.grid.put(r.x + 2, r.maxY - 2, CellGrid.truncate(hint, w - 4), p.style(.muted), maxWidth: w - 4)
    }

    /// `text` cut into lines of at most `width` columns, at spaces where it can.
    static func wrap(_ text: String, _ width: Int) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while String(rest).displayWidth > width {
            var head = DisplayWidthPrefix.of(rest, width)
            if head.isEmpty { head = rest.prefix(1) }  // a character wider than the width: one a line
            let cut = head.lastIndex(of: " ").map { head.distance(from: head.startIndex, to: $0) > width / 2 ? $0 : head.endIndex } ?? head.endIndex
            out.append(String(rest[..<cut]))
            rest = rest[cut...].drop { $0 == " " }
        }
        out.append(String(rest))
        return out
    }
}

/// What Enter opened.
public enum Inspected: Sendable, Equatable {
    case failure(FailureRecord)
    case counted(endpoint: String, failed: Int, window: String)
    case malformed(MalformedLine)
    case alarm(ActiveAlarm)
}

enum DisplayWidthPrefix {
    /// The longest prefix of `s` within `columns`, as a slice of it.
    static func of(_ s: Substring, _ columns: Int) -> Substring {
        let p = DisplayWidth.prefix(String(s), columns)
        return s.prefix(p.count)
    }
}

import BFFTopStats

/// Which exemplar trace the waterfall shows, and which of its spans is selected. The trace is
/// kept as it was when it was opened (a newer frame's copy replaces it, picking up late spans), so
/// the picture does not change under the reader when the endpoint's recent traces move on.
public struct WaterfallCursor: Sendable, Equatable {
    public var endpoint: String
    public var trace: TraceWaterfall
    public var row: Int
}

/// The request waterfall (`W`): one exemplar trace of the selected endpoint, full size.
extension AppState {
    /// The selected endpoint's exemplar traces in the displayed frame.
    var exemplarTraces: [TraceWaterfall] {
        guard let d = displayed.snapshot.detail, d.name == selected else { return [] }
        return d.traces
    }

    /// Opens the waterfall on the endpoint's first exemplar (the slowest of the last minute), or closes it.
    mutating func toggleWaterfall() {
        if waterfall != nil {
            waterfall = nil
            return
        }
        guard let name = selected else {
            message = "select an endpoint first (↑↓)"
            return
        }
        guard let first = exemplarTraces.first else {
            message = "no traces for \(name) yet: they come from emitters that send trace and span ids (OTLP, or trace_id + span_id)"
            return
        }
        waterfall = WaterfallCursor(endpoint: name, trace: first, row: first.focus ?? 0)
    }

    /// The next (`by` 1) or previous (-1) exemplar of the endpoint, wrapping round.
    mutating func stepTrace(by d: Int) {
        guard let w = waterfall else {
            toggleWaterfall()
            return
        }
        let list = exemplarTraces
        guard !list.isEmpty else { return }
        let i = list.firstIndex { $0.traceID == w.trace.traceID }
        let next = i.map { ($0 + d + list.count) % list.count } ?? 0
        waterfall = WaterfallCursor(endpoint: w.endpoint, trace: list[next], row: list[next].focus ?? 0)
    }

    /// Keys while the waterfall is open; false for keys it leaves to the rest of the dashboard.
    mutating func waterfallKey(_ action: Action) -> Bool {
        guard var w = waterfall else { return false }
        let last = max(0, w.trace.spans.count - 1)
        switch action {
        case .up: w.row = max(0, w.row - 1)
        case .down: w.row = min(last, w.row + 1)
        case .pageUp: w.row = max(0, w.row - 10)
        case .pageDown: w.row = min(last, w.row + 10)
        case .top: w.row = 0
        case .bottom: w.row = last
        case .back, .waterfall:
            waterfall = nil
            return true
        case .detail:
            // To the selected span's endpoint in the table.
            guard w.trace.spans.indices.contains(w.row) else { return true }
            let name = w.trace.spans[w.row].endpoint
            waterfall = nil
            goToEndpoint(name)
            return true
        case .nextTrace:
            stepTrace(by: 1)
            return true
        case .previousTrace:
            stepTrace(by: -1)
            return true
        default: return false
        }
        waterfall = w
        return true
    }

    /// A new frame: the open trace's newer copy, if the endpoint still has it.
    mutating func refreshWaterfall() {
        guard var w = waterfall, let fresh = exemplarTraces.first(where: { $0.traceID == w.trace.traceID }) else { return }
        w.trace = fresh
        w.row = min(w.row, max(0, fresh.spans.count - 1))
        waterfall = w
    }
}

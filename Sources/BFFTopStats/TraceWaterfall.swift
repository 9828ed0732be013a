import BFFTopWire

/// One exemplar trace of an endpoint, laid out as a request waterfall: its spans depth first (each
/// under the endpoint span above it), each child after the ones that started before it.
public struct TraceWaterfall: Sendable, Equatable {
    /// The trace id as sent (32 hex digits for W3C/OpenTelemetry ids).
    public var traceID: String
    /// The slowest of the last minute (else one of the most recent).
    public var slowest: Bool
    /// The exemplar's own span (the endpoint it was kept for), as an index into `spans`.
    public var focus: Int?
    public var spans: [WaterfallSpan]
    /// Spans of the trace that were not kept (past the per-trace limit), and the trace is gone
    /// altogether when `spans` is empty.
    public var spansNotKept: Int
    /// From the first span's start (its init, for a cold start) to the last one's end, Unix seconds.
    public var start: Double
    public var end: Double

    public var durationMs: Double { (end - start) * 1000 }
    public var cost: Double { spans.reduce(0) { $0 + $1.cost } }
    public var coldStarts: Int { spans.count { $0.coldStart } }
    public var failures: Int { spans.count { $0.outcome != .ok } }
}

public struct WaterfallSpan: Sendable, Equatable {
    public var endpoint: String
    public var kind: EndpointKind
    /// 0 for a root; one more per endpoint span above it.
    public var depth: Int
    /// When the handler started, Unix seconds (a cold start's init comes before it).
    public var start: Double
    public var durationMs: Double
    public var initMs: Double?
    public var coldStart: Bool
    public var outcome: Outcome
    public var status: Int?
    public var cost: Double
    public var spanID: String

    public var end: Double { start + durationMs / 1000 }
    /// Where the bar begins: the init's start for a cold start with an init duration.
    public var barStart: Double { start - (initMs ?? 0) / 1000 }
}

extension TraceWaterfall {
    /// The deepest nesting drawn; spans below it are drawn at this depth.
    public static let maxDepth = 12

    /// Lays `trace`'s spans out; `name` gives an endpoint id's name.
    init(key: TraceKey, trace: TraceStore.StoredTrace?, focusSpan: UInt64, slowest: Bool, name: (Int32) -> String) {
        traceID = trace?.text ?? key.hex
        self.slowest = slowest
        spansNotKept = trace?.notKept ?? 0
        let all = trace?.spans ?? []
        var index: [UInt64: Int] = [:]
        for (i, s) in all.enumerated() where index[s.span] == nil { index[s.span] = i }
        var children = Array(repeating: [Int](), count: all.count)
        var roots: [Int] = []
        for (i, s) in all.enumerated() {
            if s.parent != 0, s.parent != s.span, let p = index[s.parent], p != i {
                children[p].append(i)
            } else {
                roots.append(i)
            }
        }
        let byStart = { (a: Int, b: Int) -> Bool in (all[a].start, all[a].endpoint, a) < (all[b].start, all[b].endpoint, b) }
        var order: [(Int, Int)] = []
        var seen = Array(repeating: false, count: all.count)
        func walk(_ start: [Int]) {
            var stack = start.sorted(by: byStart).reversed().map { ($0, 0) }
            while let (i, depth) = stack.popLast() {
                guard !seen[i] else { continue }
                seen[i] = true
                order.append((i, depth))
                for c in children[i].sorted(by: byStart).reversed() { stack.append((c, min(depth + 1, Self.maxDepth))) }
            }
        }
        walk(roots)
        // Spans in a parent loop have no root: drawn as roots, after the rest.
        walk(all.indices.filter { !seen[$0] })
        spans = order.map { i, depth in
            let s = all[i]
            return WaterfallSpan(
                endpoint: name(s.endpoint), kind: s.kind, depth: depth, start: s.start, durationMs: s.durationMs,
                initMs: s.initMs.isNaN ? nil : s.initMs, coldStart: s.coldStart, outcome: s.outcome,
                status: s.status >= 0 ? Int(s.status) : nil, cost: s.cost, spanID: SpanIDText.hex(s.span))
        }
        focus = order.firstIndex { all[$0.0].span == focusSpan }
        start = spans.map(\.barStart).min() ?? 0
        end = spans.map(\.end).max() ?? 0
    }
}

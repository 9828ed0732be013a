import BFFTopWire

/// Traced invocations into the trace store, and the selected endpoint's exemplar traces out.
extension Aggregator {
    /// A traced invocation's span, for its endpoint's exemplar traces.
    func trace(_ p: PreparedInvocation, id: Int32, span: SpanContext, status: Int16, text: String?) {
        let s = StoredSpan(
            span: span.span, parent: span.parent, start: p.start, durationMs: p.durationMs, initMs: p.initMs ?? .nan,
            cost: p.costTotal, endpoint: id, status: status, kind: p.kind, outcome: p.outcome, coldStart: p.coldStart)
        traces.add(s, trace: span.trace, text: text, end: p.time)
    }

    /// Spans the trace store keeps now, the most it may keep, and the most of one trace.
    public var traceSpans: (kept: Int, bound: Int, perTrace: Int) {
        (traces.keptSpans, traces.limits.spans + traces.limits.heldSpans, traces.limits.spansPerTrace)
    }

    /// Endpoint `id`'s exemplar traces as waterfalls: the slowest of the last minute, then the most recent.
    func waterfalls(of id: Int32, now: Double) -> [TraceWaterfall] {
        traces.exemplars(of: Int(id), now: now).map { x, slowest in
            TraceWaterfall(key: x.trace, trace: traces.trace(x.trace), focusSpan: x.span, slowest: slowest) { endpoints[Int($0)].name }
        }
    }

}

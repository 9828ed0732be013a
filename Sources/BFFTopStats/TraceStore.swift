import BFFTopWire

/// The spans of recent traces, and per endpoint a few exemplar traces to draw as request
/// waterfalls: the slowest of each quarter of the last minute and the most recent few.
///
/// Spans arrive in any order (a function's span usually before its route's), so every traced span
/// is kept for a while in a first-in-first-out store bounded by traces and by spans. A trace that
/// an exemplar still points at is not forgotten when it leaves that store: it moves to the held
/// store (bounded too), where spans arriving late still join it. Whatever a bound refuses is
/// counted (`TraceStoreCounters`), never silently lost.
struct TraceStore {
    struct Limits: Sendable {
        /// Traces and spans in the first-in-first-out store.
        var traces = 8_192
        var spans = 65_536
        /// Spans kept of one trace (a waterfall taller than a screen is not read).
        var spansPerTrace = 64
        /// Spans of traces held for exemplars after they left the store.
        var heldSpans = 131_072
        var recentPerEndpoint = 3
        /// The slowest exemplar is kept per slice of `sliceSeconds` of end time; the slowest of the
        /// last `windowSeconds` is the slowest of the slices that overlap it (up to 75 s back).
        var sliceSeconds = 15.0
        var windowSeconds = 60.0
        /// Enough slots for every slice a window can overlap.
        var slices: Int { Int((windowSeconds / sliceSeconds).rounded(.up)) + 1 }
    }

    struct StoredTrace {
        var spans: [StoredSpan] = []
        /// Spans past `spansPerTrace`.
        var notKept = 0
        /// Exemplars pointing at it.
        var pins = 0
        /// The trace id as the emitter wrote it (when it is not 32 hex digits).
        var text: String?

        /// Keeps `s` if the trace has fewer than `limit` spans; counts it otherwise.
        mutating func take(_ s: StoredSpan, text: String?, limit: Int) -> Bool {
            if self.text == nil, let text { self.text = text }
            guard spans.count < limit else {
                notKept += 1
                return false
            }
            spans.append(s)
            return true
        }
    }

    struct Exemplar {
        var trace: TraceKey
        var span: UInt64
        var end: Double
        var durationMs: Double
    }

    struct EndpointExemplars {
        /// Oldest first.
        var recent: [Exemplar] = []
        /// Slot `slice % slices`: the slowest of that slice (`slowestSlice` says which).
        var slowest: [Exemplar?]
        var slowestSlice: [Int64]
        init(slices: Int) {
            slowest = Array(repeating: nil, count: slices)
            slowestSlice = Array(repeating: .min, count: slices)
        }
    }

    let limits: Limits
    private var live: [TraceKey: StoredTrace] = [:]
    /// `live`'s keys, oldest first from `head`.
    private var order: [TraceKey] = []
    private var head = 0
    private var liveSpans = 0
    private var held: [TraceKey: StoredTrace] = [:]
    private var heldSpans = 0
    private var exemplars: [EndpointExemplars] = []
    private(set) var counters = TraceStoreCounters()

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// A traced span of endpoint `endpoint`, ending at `end`.
    mutating func add(_ s: StoredSpan, trace: TraceKey, text: String?, end: Double) {
        counters.spans += 1
        let kept: Bool
        if held[trace] != nil {
            // An exemplar's trace that left the store: late spans still join it.
            kept = held[trace]?.take(s, text: text, limit: heldSpans < limits.heldSpans ? limits.spansPerTrace : 0) ?? false
            if kept { heldSpans += 1 }
        } else if live[trace] != nil {
            kept = live[trace]?.take(s, text: text, limit: limits.spansPerTrace) ?? false
            if kept { liveSpans += 1 }
        } else {
            makeRoom()
            var t = StoredTrace()
            kept = t.take(s, text: text, limit: limits.spansPerTrace)
            live[trace] = t
            order.append(trace)
            liveSpans += 1
        }
        if !kept { counters.notKept += 1 }
        noteExemplar(Exemplar(trace: trace, span: s.span, end: end, durationMs: s.durationMs), endpoint: Int(s.endpoint))
    }

    /// Forgets the oldest traces until one more fits; those an exemplar points at move to the held store.
    private mutating func makeRoom() {
        while order.count - head >= limits.traces || liveSpans >= limits.spans, head < order.count {
            let key = order[head]
            head += 1
            guard let t = live.removeValue(forKey: key) else { continue }
            liveSpans -= t.spans.count
            if t.pins > 0 {
                if heldSpans + t.spans.count <= limits.heldSpans {
                    held[key] = t
                    heldSpans += t.spans.count
                } else {
                    counters.exemplarsLost += t.pins
                }
            }
        }
        // Compact the key list once its dead half is large.
        if head > 4_096, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    private mutating func noteExemplar(_ x: Exemplar, endpoint e: Int) {
        guard e >= 0 else { return }
        while exemplars.count <= e { exemplars.append(EndpointExemplars(slices: limits.slices)) }
        pin(x.trace)
        exemplars[e].recent.append(x)
        if exemplars[e].recent.count > limits.recentPerEndpoint { unpin(exemplars[e].recent.removeFirst().trace) }
        let slice = Int64((x.end / limits.sliceSeconds).rounded(.down))
        let slot = Int(slice.magnitude % UInt64(limits.slices))
        let current = exemplars[e].slowest[slot]
        if exemplars[e].slowestSlice[slot] != slice || current.map({ x.durationMs > $0.durationMs }) ?? true {
            pin(x.trace)
            if let old = current { unpin(old.trace) }
            exemplars[e].slowest[slot] = x
            exemplars[e].slowestSlice[slot] = slice
        }
    }

    private mutating func pin(_ key: TraceKey) {
        if held[key] != nil { held[key]?.pins += 1 } else { live[key]?.pins += 1 }
    }

    private mutating func unpin(_ key: TraceKey) {
        if let t = held[key] {
            if t.pins <= 1 {
                held[key] = nil
                heldSpans -= t.spans.count
            } else {
                held[key]?.pins -= 1
            }
        } else {
            live[key]?.pins -= 1
        }
    }

    func trace(_ key: TraceKey) -> StoredTrace? { held[key] ?? live[key] }

    /// Endpoint `e`'s exemplars at `now`: the slowest of the slices overlapping the last minute
    /// first, then the most recent, newest first; each trace once.
    func exemplars(of e: Int, now: Double) -> [(exemplar: Exemplar, slowest: Bool)] {
        guard e >= 0, e < exemplars.count else { return [] }
        let x = exemplars[e]
        let firstSlice = Int64(((now - limits.windowSeconds) / limits.sliceSeconds).rounded(.down))
        var slowest: Exemplar?
        for (slot, candidate) in x.slowest.enumerated() {
            // Ends a little ahead of `now` count: an emitter's clock may run ahead (and spans are
            // stamped when they end, which a fleet's exporter can put just past the receive time).
            guard let c = candidate, x.slowestSlice[slot] >= firstSlice else { continue }
            if c.durationMs > slowest?.durationMs ?? -1 { slowest = c }
        }
        var out: [(exemplar: Exemplar, slowest: Bool)] = []
        if let slowest { out.append((slowest, true)) }
        for r in x.recent.reversed() where !out.contains(where: { $0.exemplar.trace == r.trace }) { out.append((r, false)) }
        return out
    }

    var keptSpans: Int { liveSpans + heldSpans }
}

/// One span as the trace store keeps it (figures worked out by the aggregator: cost, skew).
struct StoredSpan: Sendable {
    var span: UInt64
    var parent: UInt64
    var start: Double
    var durationMs: Double
    /// NaN: none.
    var initMs: Double
    var cost: Double
    var endpoint: Int32
    /// -1: none.
    var status: Int16
    var kind: EndpointKind
    var outcome: Outcome
    var coldStart: Bool
}

/// What the trace store refused, and what it took.
public struct TraceStoreCounters: Sendable, Equatable {
    /// Traced spans taken.
    public var spans = 0
    /// Spans not kept: past a trace's span limit, or past the held store's.
    public var notKept = 0
    /// Exemplars whose trace was forgotten (the held store was full).
    public var exemplarsLost = 0
    public init() {}
}

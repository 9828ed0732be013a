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
        var key: TraceKey
        var spans: [StoredSpan] = []
        /// Spans past `spansPerTrace`.
        var notKept = 0
        /// Exemplars pointing at it.
        var pins = 0
        /// Left the first-in-first-out store; kept while exemplars point at it.
        var held = false
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

    /// An exemplar names its trace's slot (and key: a slot is reused once its trace is gone).
    struct Exemplar {
        var trace: TraceKey
        var slot: Int32
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
    // Traces live in slots found by one hash of their key; exemplars name slots, so pinning and
    // unpinning (on most spans) touch an array, not a dictionary.
    private var index: [TraceKey: Int32] = [:]
    private var slots: [StoredTrace] = []
    private var freeSlots: [Int32] = []
    /// The slots of the first-in-first-out store, oldest first from `head`.
    private var order: [Int32] = []
    private var head = 0
    private var liveCount = 0
    private var liveSpans = 0
    private var heldSpans = 0
    private var exemplars: [EndpointExemplars] = []
    private(set) var counters = TraceStoreCounters()

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// A traced span of endpoint `endpoint`, ending at `end`.
    mutating func add(_ s: StoredSpan, trace: TraceKey, text: String?, end: Double) {
        counters.spans += 1
        let slot: Int32
        let kept: Bool
        if let found = index[trace] {
            slot = found
            let i = Int(found)
            // An exemplar's trace that left the store: late spans still join it, within the held bound.
            let held = slots[i].held
            kept = slots[i].take(s, text: text, limit: held && heldSpans >= limits.heldSpans ? 0 : limits.spansPerTrace)
            if kept { if held { heldSpans += 1 } else { liveSpans += 1 } }
        } else {
            makeRoom()
            var t = StoredTrace(key: trace)
            t.spans.reserveCapacity(8)  // a request's route and the few calls under it: one allocation
            kept = t.take(s, text: text, limit: limits.spansPerTrace)
            if let free = freeSlots.popLast() {
                slot = free
                slots[Int(free)] = t
            } else {
                slot = Int32(slots.count)
                slots.append(t)
            }
            index[trace] = slot
            order.append(slot)
            liveCount += 1
            liveSpans += 1
        }
        if !kept { counters.notKept += 1 }
        noteExemplar(Exemplar(trace: trace, slot: slot, span: s.span, end: end, durationMs: s.durationMs), endpoint: Int(s.endpoint))
    }

    /// Forgets the oldest traces until one more fits; those an exemplar points at are held instead.
    private mutating func makeRoom() {
        while liveCount >= limits.traces || liveSpans >= limits.spans, head < order.count {
            let i = Int(order[head])
            head += 1
            liveCount -= 1
            liveSpans -= slots[i].spans.count
            if slots[i].pins > 0, heldSpans + slots[i].spans.count <= limits.heldSpans {
                slots[i].held = true
                heldSpans += slots[i].spans.count
            } else {
                counters.exemplarsLost += slots[i].pins
                free(i)
            }
        }
        // Compact the slot list once its dead half is large.
        if head > 4_096, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    private mutating func free(_ i: Int) {
        index[slots[i].key] = nil
        slots[i].spans = []
        slots[i].pins = 0
        slots[i].held = false
        slots[i].text = nil
        freeSlots.append(Int32(i))
    }

    private mutating func noteExemplar(_ x: Exemplar, endpoint e: Int) {
        guard e >= 0 else { return }
        while exemplars.count <= e { exemplars.append(EndpointExemplars(slices: limits.slices)) }
        pin(x)
        exemplars[e].recent.append(x)
        if exemplars[e].recent.count > limits.recentPerEndpoint { unpin(exemplars[e].recent.removeFirst()) }
        let slice = Int64((x.end / limits.sliceSeconds).rounded(.down))
        let slot = Int(slice.magnitude % UInt64(limits.slices))
        let current = exemplars[e].slowest[slot]
        if exemplars[e].slowestSlice[slot] != slice || current.map({ x.durationMs > $0.durationMs }) ?? true {
            pin(x)
            if let old = current { unpin(old) }
            exemplars[e].slowest[slot] = x
            exemplars[e].slowestSlice[slot] = slice
        }
    }

    /// The slot of `x`'s trace while it still holds that trace.
    private func slot(of x: Exemplar) -> Int? {
        let i = Int(x.slot)
        return i < slots.count && slots[i].key == x.trace && !slots[i].spans.isEmpty ? i : nil
    }

    private mutating func pin(_ x: Exemplar) {
        if let i = slot(of: x) { slots[i].pins += 1 }
    }

    private mutating func unpin(_ x: Exemplar) {
        guard let i = slot(of: x) else { return }
        slots[i].pins -= 1
        if slots[i].pins <= 0, slots[i].held {
            heldSpans -= slots[i].spans.count
            free(i)
        }
    }

    func trace(_ key: TraceKey) -> StoredTrace? { index[key].map { slots[Int($0)] } }

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

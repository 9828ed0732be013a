import BFFTopStats
import BFFTopWire
import Synchronization

/// The one batch type every source hands the engine: the events decoded from one read (a socket
/// read, a round of datagrams), stamped with when they arrived.
///
/// Successful invocations the fast stage read travel as `PackedInvocation`s: plain values whose
/// names are ids in the source's own name table, which grows by `newNames` batch by batch (names
/// cross once per source, not once per event). Everything else travels as a general `WireEvent`
/// at its place in the order (`positions`), so a concurrency `start` and the invocation that ends
/// it are aggregated in the order they were sent.
public struct WireEventBatch: Sendable {
    public var receivedAt: Double
    /// General events; with packed ones present, `events[i]` comes at `positions[i]` of the order.
    public var events: [WireEvent]
    public var positions: [Int32] = []
    public var packed: [PackedInvocation] = []
    /// Names first seen by this batch's source, continuing its ids.
    public var newNames: [String] = []
    /// In-flight ids of packed invocations (`PackedInvocation.id` indexes this).
    public var ids: [String] = []
    /// The trace spans of packed invocations: empty, or one per packed invocation (traced
    /// sources, OTLP). A side list so that sources without spans pay nothing for them.
    public var packedSpans: [SpanContext?] = []
    /// Whose name table packed ids refer to (`BatchSource.next()`); 0: a source without names.
    public var source: Int = 0
    /// The source is gone: its name table can be forgotten.
    public var closesSource = false

    public init(receivedAt: Double, events: [WireEvent]) {
        self.receivedAt = receivedAt
        self.events = events
    }

    /// How many events it carries.
    public var count: Int { events.count + packed.count }

    /// A general event after those already in the batch (its place in the order kept).
    public mutating func append(general e: WireEvent) {
        positions.append(Int32(truncatingIfNeeded: count))
        events.append(e)
    }

    /// Takes the names of the source's table past the `sent` first ones (advancing `sent`).
    public mutating func takeNewNames(_ names: [String], sent: inout Int) {
        guard names.count > sent else { return }
        newNames = Array(names[sent...])
        sent = names.count
    }

    /// Keeps only what later batches of the source depend on (its new names, its end): what a full
    /// queue does instead of dropping a batch whole, so the batches after it still name their events.
    public var bookkeeping: WireEventBatch? {
        guard !newNames.isEmpty || closesSource else { return nil }
        var b = WireEventBatch(receivedAt: receivedAt, events: [])
        b.newNames = newNames
        b.source = source
        b.closesSource = closesSource
        return b
    }

    /// Calls `general` and `packed` for each event in order (`packed` with its index).
    @inline(__always) public func forEachInOrder(general: (WireEvent) -> Void, packed onPacked: (Int) -> Void) {
        guard !packed.isEmpty else {
            for e in events { general(e) }
            return
        }
        var g = 0
        for i in packed.indices {
            while g < events.count, Int(positions[g]) == i + g {
                general(events[g])
                g += 1
            }
            onPacked(i)
        }
        while g < events.count {
            general(events[g])
            g += 1
        }
    }
}

/// Allocates the ids batches name their sources by (connections, DogStatsD readers), unique for
/// the process.
public enum BatchSource {
    private static let counter = Atomic<Int>(0)
    public static func next() -> Int { counter.wrappingAdd(1, ordering: .relaxed).newValue }
}

/// The name tables of every source, as a consumer of batches keeps them (the engine, the
/// recorder, tests): turns packed events back into general ones when a consumer needs names.
public struct BatchNames {
    private var tables: [Int: [String]] = [:]

    public init() {}

    /// Takes the batch's new names (and forgets a source that closed) and returns its events in
    /// order as general events.
    public mutating func events(of batch: WireEventBatch) -> [WireEvent] {
        var out: [WireEvent] = []
        out.reserveCapacity(batch.count)
        forEach(in: batch) { out.append($0) }
        return out
    }

    /// Each event of the batch in order, packed ones named (see `events(of:)`).
    public mutating func forEach(in batch: WireEventBatch, _ body: (WireEvent) -> Void) {
        guard batch.source != 0 else {
            for e in batch.events { body(e) }
            return
        }
        var names = tables.removeValue(forKey: batch.source) ?? []
        names += batch.newNames
        batch.forEachInOrder(general: body) { i in
            var inv = batch.packed[i].invocation(names: names, ids: batch.ids)
            if i < batch.packedSpans.count { inv.span = batch.packedSpans[i] }
            body(.invocation(inv))
        }
        if !batch.closesSource { tables[batch.source] = names }
    }

    /// Sources with a table kept.
    public var sources: Int { tables.count }
}

/// The engine's side of `BatchNames`: each source's name ids mapped to endpoints, so a packed event
/// is aggregated without a `String` (`Aggregator.ingest(_:inFlightID:names:)`).
struct BatchNameMappings {
    private var mappings: [Int: NameMapping] = [:]

    mutating func ingest(_ batch: WireEventBatch, into aggregator: Aggregator) {
        guard batch.source != 0 else {
            aggregator.ingest(batch.events, receivedAt: batch.receivedAt)
            return
        }
        var mapping = mappings.removeValue(forKey: batch.source) ?? NameMapping()
        mapping.append(batch.newNames)
        let received = batch.receivedAt
        @inline(__always) func packed(_ p: PackedInvocation, span: SpanContext? = nil) {
            var p = p
            p.receivedAt = received
            aggregator.ingest(p, inFlightID: p.id >= 0 ? batch.ids[Int(p.id)] : nil, names: &mapping, span: span)
        }
        if !batch.packedSpans.isEmpty {
            // Traced (OTLP): each with its span; the common batch (only packed events) read in place.
            if batch.events.isEmpty, batch.packedSpans.count == batch.packed.count {
                batch.packed.withUnsafeBufferPointer { all in
                    batch.packedSpans.withUnsafeBufferPointer { spans in for i in all.indices { packed(all[i], span: spans[i]) } }
                }
            } else {
                batch.forEachInOrder(general: { aggregator.ingest($0, receivedAt: received) }) { i in
                    packed(batch.packed[i], span: i < batch.packedSpans.count ? batch.packedSpans[i] : nil)
                }
            }
        } else if batch.events.isEmpty {
            // The common live batch: only packed events, read in place.
            batch.packed.withUnsafeBufferPointer { all in for i in all.indices { packed(all[i]) } }
        } else {
            batch.forEachInOrder(general: { aggregator.ingest($0, receivedAt: received) }) { i in packed(batch.packed[i]) }
        }
        if !batch.closesSource { mappings[batch.source] = mapping }
    }

    var sources: Int { mappings.count }
}

import BFFTopStats
import BFFTopWire
import Dispatch
import Synchronization

/// Events in time order as the reader thread hands them over: successful invocations in bfftop's
/// own format as plain values (no reference counting), the rest as general events at their
/// positions in the order.
struct ReplayBatch: Sendable {
    var packed: [RecordingStream.PackedItem] = []
    var general: [(position: Int, item: RecordingStream.Item)] = []
    /// Names first seen in this batch, continuing the reader's `NameTable` ids.
    var newNames: [String] = []
    /// In-flight ids of packed invocations (`PackedItem.id` indexes this).
    var ids: [String] = []
    var counters = PrefetchingStream.Counters()
    var last = false

    var count: Int { packed.count + general.count }

    mutating func append(_ item: RecordingStream.Item) { general.append((count, item)) }

    mutating func removeAll() {
        packed.removeAll(keepingCapacity: true)
        general.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
    }
}

/// A position in a `ReplayBatch`: the batch keeps packed and general events apart, each general
/// one with its place in the order.
struct BatchCursor {
    private var position = 0
    private var packedIndex = 0
    private var generalIndex = 0

    private func nextIsGeneral(_ b: ReplayBatch) -> Bool {
        generalIndex < b.general.count && b.general[generalIndex].position == position
    }

    func atEnd(of b: ReplayBatch) -> Bool { position >= b.count }

    func time(in b: ReplayBatch) -> Double? {
        guard position < b.count else { return nil }
        return nextIsGeneral(b) ? b.general[generalIndex].item.time : b.packed[packedIndex].time
    }

    /// Aggregates the event at the cursor and steps on (the cursor must not be at the end).
    @inline(__always) mutating func ingest(from b: ReplayBatch, into aggregator: Aggregator, names: inout NameMapping) {
        if nextIsGeneral(b) {
            let g = b.general[generalIndex].item
            aggregator.ingest(g.event, receivedAt: g.receivedAt)
            generalIndex += 1
        } else {
            let p = b.packed[packedIndex]
            aggregator.ingest(p.invocation, inFlightID: p.id >= 0 ? b.ids[Int(p.id)] : nil, names: &names)
            packedIndex += 1
        }
        position += 1
    }

    /// Appends the event at the cursor to `out` and steps on; false at the end.
    mutating func move(from b: ReplayBatch, into out: inout ReplayBatch) -> Bool {
        guard position < b.count else { return false }
        if nextIsGeneral(b) {
            out.append(b.general[generalIndex].item)
            generalIndex += 1
        } else {
            var p = b.packed[packedIndex]
            if p.id >= 0 {
                out.ids.append(b.ids[Int(p.id)])
                p.id = Int32(out.ids.count - 1)
            }
            out.packed.append(p)
            packedIndex += 1
        }
        position += 1
        return true
    }
}

/// Reads, decodes and prepares recordings on a thread of its own, a few batches ahead, so that
/// work overlaps with aggregation on the engine thread. The consumer sees the same events in the
/// same order as reading the files directly, and the line counters as of the last batch it took.
/// The reader thread holds only the hand-off, never this object, so dropping the stream (a seek
/// back builds a new one) stops the reader. One consumer thread.
final class PrefetchingStream {
    struct Counters: Sendable, Equatable {
        var skipped = 0
        var truncatedLastLines = 0
        var otherLines = 0
    }

    static let batchSize = 8192
    private let handOff: HandOff
    // Touched per event by the one consumer thread: no run-time exclusivity checks.
    @exclusivity(unchecked) private var batch = ReplayBatch()
    @exclusivity(unchecked) private var cursor = BatchCursor()
    @exclusivity(unchecked) private var done = false
    @exclusivity(unchecked) private var names = NameMapping()
    private(set) var counters = Counters()

    init(paths: [String], function: String, ahead: Int = 6) throws(ReplayError) {
        let stream = UncheckedBox(try RecordingStream(paths: paths, function: function))
        let h = HandOff(ahead: ahead)
        handOff = h
        startThread(name: "bfftop-prefetch") { h.produce(stream.value) }
    }

    /// Makes sure an event is at hand; false at the end.
    @inline(__always) private func ready() -> Bool {
        while cursor.atEnd(of: batch) {
            if done { return false }
            guard let next = handOff.take() else { continue }
            batch = next
            cursor = BatchCursor()
            counters = next.counters
            done = next.last
            names.append(next.newNames)
        }
        return true
    }

    /// The time of the next event (waiting for the reader if it is behind); nil at the end.
    @inline(__always) func peekTime() -> Double? {
        guard ready() else { return nil }
        return cursor.time(in: batch)
    }

    /// Aggregates the next event — the caller has looked at its time with `peekTime` — and those
    /// after it while their time is at most `t` and in the same whole second (alarms are judged
    /// per second, so nothing needs to happen between them); at most `limit`. Returns how many and
    /// the last one's time. Works on local copies: per-event property accesses cost more than a
    /// packed event's aggregation.
    func ingestRun(upTo t: Double, limit: Int, into aggregator: Aggregator) -> (count: Int, last: Double?) {
        guard limit > 0, ready() else { return (0, nil) }
        let b = batch
        var c = cursor
        var mapping = NameMapping()
        swap(&mapping, &names)
        defer {
            swap(&mapping, &names)
            cursor = c
        }
        var n = 0
        var last: Double?
        var second = Int64.min
        while n < limit, let time = c.time(in: b), n == 0 || time <= t {
            let s = Int64(time.rounded(.down))
            if n == 0 { second = s } else if s != second { break }
            c.ingest(from: b, into: aggregator, names: &mapping)
            n += 1
            last = time
        }
        return (n, last)
    }

    /// Stops the reader (also done when the stream is dropped).
    func stop() { handOff.stop() }

    deinit { handOff.stop() }
}

/// The bounded queue of batches between the reader thread and the consumer.
private final class HandOff: Sendable {
    private let batches = Mutex<[ReplayBatch]>([])
    private let filled = DispatchSemaphore(value: 0)
    private let space: DispatchSemaphore
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(true)

    init(ahead: Int) {
        // Created at 0 and signalled up: libdispatch traps when a semaphore is released while its
        // value is below the one it was created with, which `space` would be whenever batches wait.
        space = DispatchSemaphore(value: 0)
        for _ in 0..<ahead { space.signal() }
    }

    func produce(_ stream: RecordingStream) {
        defer {
            running.store(false, ordering: .relaxed)
            finished.signal()
        }
        while !stopped.load(ordering: .relaxed) {
            var batch = ReplayBatch()
            batch.packed.reserveCapacity(PrefetchingStream.batchSize)
            batch.last = !stream.fill(&batch, limit: PrefetchingStream.batchSize)
            batch.counters = PrefetchingStream.Counters(
                skipped: stream.skipped, truncatedLastLines: stream.truncatedLastLines, otherLines: stream.otherLines)
            space.wait()
            if stopped.load(ordering: .relaxed) { return }
            let last = batch.last
            batches.withLock { $0.append(batch) }
            filled.signal()
            if last { return }
        }
    }

    /// Waits for the next batch (nil on a spurious wake-up: the caller asks again).
    func take() -> ReplayBatch? {
        filled.wait()
        guard let batch = batches.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return nil }
        space.signal()
        return batch
    }

    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        space.signal()
        if running.load(ordering: .relaxed) { _ = finished.wait(timeout: .now() + 2) }
    }
}

/// Hands a non-Sendable value to exactly one other thread, which then owns it.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

/// Replay's two halves timed apart, on the calling thread (for `bfftop bench`): reading and
/// decoding `limit` events, then aggregating them.
public enum ReplayStages {
    public static func measure(paths: [String], limit: Int, clock: () -> Double) throws(ReplayError)
        -> (events: Int, readSeconds: Double, aggregateSeconds: Double) {
        func read(keep: Bool) throws(ReplayError) -> (Int, [ReplayBatch]) {
            let stream = try RecordingStream(paths: paths)
            var batches: [ReplayBatch] = []
            var events = 0
            while events < limit {
                var b = ReplayBatch()
                let more = stream.fill(&b, limit: min(PrefetchingStream.batchSize, limit - events))
                events += b.count
                if keep { batches.append(b) }
                if !more { break }
            }
            return (events, batches)
        }
        let r0 = clock()
        let (events, _) = try read(keep: false)
        let readSeconds = clock() - r0
        let (_, batches) = try read(keep: true)
        let agg = Aggregator()
        var names = NameMapping()
        let a0 = clock()
        for b in batches {
            names.append(b.newNames)
            var c = BatchCursor()
            while !c.atEnd(of: b) { c.ingest(from: b, into: agg, names: &names) }
        }
        return (events, readSeconds, clock() - a0)
    }
}

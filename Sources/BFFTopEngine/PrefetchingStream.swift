import BFFTopStats
import BFFTopWire
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Events in time order as the reader thread hands them over: successful invocations in bfftop's
/// own format as plain values (no reference counting), the rest as general events at their
/// positions in the order.
struct ReplayBatch: Sendable {
    /// `PackedInvocation.id` indexes `ids`.
    var packed: [PackedInvocation] = []
    var general: [(position: Int, item: RecordingStream.Item)] = []
    /// Names first seen in this batch, continuing the reader's `NameTable` ids.
    var newNames: [String] = []
    /// In-flight ids of packed invocations (`PackedInvocation.id` indexes this).
    var ids: [String] = []
    var counters = PrefetchingStream.Counters()
    var last = false
    /// The decoding thread that made it (its `NameTable` ids) and whether its chunk ends here.
    var worker = 0
    var endOfChunk = false

    var count: Int { packed.count + general.count }

    /// Lines the general decoder reads (failures with messages, spans, other formats) cost tens of
    /// times a packed one: a batch holds at most this many, so it is handed over, and a stop seen,
    /// within milliseconds whatever the recording holds.
    static let generalLimit = 1_024

    /// `limit` events, or `generalLimit` general ones.
    func isFull(_ limit: Int) -> Bool { count >= limit || general.count >= Self.generalLimit }

    mutating func append(_ item: RecordingStream.Item) { general.append((count, item)) }

    mutating func removeAll() {
        packed.removeAll(keepingCapacity: true)
        general.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
    }

    /// Empty as a new batch, keeping the storage (see `HandOff.recycle`).
    mutating func reuse() {
        removeAll()
        newNames.removeAll(keepingCapacity: true)
        counters = PrefetchingStream.Counters()
        (last, worker, endOfChunk) = (false, 0, false)
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
            aggregator.ingest(p, inFlightID: p.id >= 0 ? b.ids[Int(p.id)] : nil, names: &names)
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

/// Reads, decodes and prepares recordings on threads of their own, a few batches ahead, so that
/// work overlaps with aggregation on the engine thread. A large single recording is cut into
/// chunks at line starts (`ChunkPlan`) that several threads decode at once, chunk k on thread
/// k mod n; batches are taken back in chunk order, so the consumer sees the same events in the
/// same order as reading the file directly, and the line counters as of the last batch it took.
/// The reader threads hold only their hand-offs, never this object, so dropping the stream (a seek
/// back builds a new one) stops them. One consumer thread.
final class PrefetchingStream {
    struct Counters: Sendable, Equatable {
        var skipped = 0
        var truncatedLastLines = 0
        var otherLines = 0

        static func + (a: Counters, b: Counters) -> Counters {
            Counters(skipped: a.skipped + b.skipped, truncatedLastLines: a.truncatedLastLines + b.truncatedLastLines,
                     otherLines: a.otherLines + b.otherLines)
        }
    }

    static let batchSize = 8192
    private let handOffs: [HandOff]
    // Touched per event by the one consumer thread: no run-time exclusivity checks.
    @exclusivity(unchecked) private var batch = ReplayBatch()
    @exclusivity(unchecked) private var cursor = BatchCursor()
    @exclusivity(unchecked) private var done = false
    /// Per decoding thread: its name ids mapped to endpoints.
    @exclusivity(unchecked) private var names: [NameMapping]
    private var chunk = 0
    private var workerCounters: [Counters]
    private(set) var counters = Counters()

    /// Decoding threads: at most `maxWorkers`, fewer on fewer cores (one when the file is not split).
    init(paths: [String], function: String, ahead: Int = 6, decoding: ReplayDecoding = ReplayDecoding()) throws(ReplayError) {
        let maxWorkers = max(1, decoding.threads)
        let plan = ChunkPlan.ranges(paths: paths, workers: maxWorkers, chunkBytes: decoding.chunkBytes)
        let workers = plan.map { min(maxWorkers, $0.count) } ?? 1
        var hs: [HandOff] = []
        for w in 0..<workers {
            let chunks = plan.map { r in Array(stride(from: w, to: r.count, by: workers).map { ($0, r[$0]) }) }
            let stream = UncheckedBox(try RecordingStream(paths: paths, function: function, range: chunks?.first?.1))
            let h = HandOff(ahead: max(2, ahead / workers))
            let lastChunk = (plan?.count ?? 1) - 1
            startThread(name: workers > 1 ? "bfftop-decode-\(w)" : "bfftop-prefetch") {
                h.produce(stream.value, worker: w, chunks: chunks, lastChunk: lastChunk)
            }
            hs.append(h)
        }
        handOffs = hs
        names = Array(repeating: NameMapping(), count: workers)
        workerCounters = Array(repeating: Counters(), count: workers)
    }

    /// Makes sure an event is at hand; false at the end.
    @inline(__always) private func ready() -> Bool {
        while cursor.atEnd(of: batch) {
            if done { return false }
            let w = chunk % handOffs.count
            guard let next = handOffs[w].take() else { continue }
            let used = batch
            batch = next
            handOffs[used.worker].recycle(used)
            cursor = BatchCursor()
            workerCounters[w] = next.counters
            counters = workerCounters.reduce(Counters(), +)
            done = next.last
            names[w].append(next.newNames)
            if next.endOfChunk { chunk += 1 }
        }
        return true
    }

    /// The time of the next event (waiting for the reader if it is behind); nil at the end.
    @inline(__always) func peekTime() -> Double? {
        guard ready() else { return nil }
        return cursor.time(in: batch)
    }

    /// Aggregates the next event — the caller has looked at its time with `peekTime` — and those
    /// after it while their time is at most `t` and in the same whole second (the engine's clock
    /// moves per second, so nothing needs to happen between them); at most `limit`. Time passes
    /// for the engine before the first event of each run (`Engine.passTime`: alarms judged,
    /// concurrency and buckets brought forward), for replay and report alike, so when it happens
    /// follows the events, not the wall clock. Returns how many and the last one's time. Works on
    /// local copies: per-event property accesses cost more than a packed event's aggregation.
    func ingestRun(upTo t: Double, limit: Int, into engine: Engine) -> (count: Int, last: Double?) {
        guard limit > 0, ready() else { return (0, nil) }
        let b = batch
        var c = cursor
        var mapping = NameMapping()
        swap(&mapping, &names[b.worker])
        defer {
            swap(&mapping, &names[b.worker])
            cursor = c
        }
        let aggregator = engine.aggregator
        var n = 0
        var last: Double?
        var second = Int64.min
        while n < limit, let time = c.time(in: b), n == 0 || time <= t {
            let s = wholeSecond(time)
            if n == 0 {
                second = s
                engine.passTime(to: time)
            } else if s != second {
                break
            }
            c.ingest(from: b, into: aggregator, names: &mapping)
            n += 1
            last = time
        }
        return (n, last)
    }

    /// Stops the readers (also done when the stream is dropped).
    func stop() { for h in handOffs { h.stop() } }

    deinit { for h in handOffs { h.stop() } }
}

/// How many threads decode a replay, and in what pieces (see `ChunkPlan`).
public struct ReplayDecoding: Sendable {
    public var threads: Int
    public var chunkBytes: Int

    public init(threads: Int = ChunkPlan.defaultWorkers, chunkBytes: Int = ChunkPlan.chunkBytes) {
        self.threads = threads
        self.chunkBytes = chunkBytes
    }
}

/// How a recording is cut for decoding on several threads: only a single file in bfftop's own
/// format (its lines stand alone; function logs carry state from line to line) and only when it
/// is large enough for the threads to pay.
public enum ChunkPlan {
    public static let chunkBytes = 4 << 20

    /// One decoding thread per core but the engine's, up to four. On two cores that is one: a
    /// second decoder measured no faster there (both cores are already busy, one decoding and one
    /// aggregating), only bigger.
    public static var defaultWorkers: Int {
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return max(1, min(4, cores - 1))
    }

    /// Byte ranges starting at line starts, or nil when the file is not to be split.
    public static func ranges(paths: [String], workers: Int, chunkBytes: Int = chunkBytes) -> [Range<Int>]? {
        guard workers > 1, paths.count == 1, chunkBytes > 0 else { return nil }
        let fd = open(paths[0], O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int(st.st_size)
        guard size >= 2 * chunkBytes else { return nil }
        let header = Array(#"{"bfftop_recording""#.utf8)
        var first = [UInt8](repeating: 0, count: header.count)
        let n = first.withUnsafeMutableBytes { pread(fd, $0.baseAddress, header.count, 0) }
        guard n == header.count, first == header else { return nil }
        var starts = [0]
        var window = [UInt8](repeating: 0, count: 64 << 10)
        var pos = chunkBytes
        scan: while pos < size {
            // The chunk starts after the first newline at or past `pos`.
            let got = window.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(pos)) }
            guard got > 0 else { break }
            for i in 0..<got where window[i] == 0x0A {
                let start = pos + i + 1
                if start < size { starts.append(start) }
                pos = start + chunkBytes
                continue scan
            }
            pos += got  // a line longer than the window: keep looking
        }
        guard starts.count > 1 else { return nil }
        return zip(starts, starts.dropFirst() + [size]).map { $0..<$1 }
    }
}

/// The bounded queue of batches between one reader thread and the consumer.
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

    /// Decodes `chunks` (index and byte range; the whole input when nil) in order into batches.
    func produce(_ stream: RecordingStream, worker: Int, chunks: [(Int, Range<Int>)]?, lastChunk: Int) {
        defer {
            running.store(false, ordering: .relaxed)
            finished.signal()
        }
        let work: [(Int, Range<Int>?)] = chunks?.map { ($0.0, $0.1) } ?? [(0, nil)]
        for (k, (index, range)) in work.enumerated() {
            if k > 0, let range, (try? stream.moveTo(range: range)) == nil {
                // The file went away mid-replay: end the replay here rather than leave the consumer
                // waiting for this chunk.
                var end = ReplayBatch()
                (end.worker, end.endOfChunk, end.last) = (worker, true, true)
                space.wait()
                batches.withLock { $0.append(end) }
                filled.signal()
                return
            }
            while !stopped.load(ordering: .relaxed) {
                var batch = spare() ?? ReplayBatch()
                batch.reuse()
                batch.packed.reserveCapacity(PrefetchingStream.batchSize)
                let more = stream.fill(&batch, limit: PrefetchingStream.batchSize)
                batch.worker = worker
                batch.endOfChunk = !more
                batch.last = !more && index == lastChunk
                batch.counters = PrefetchingStream.Counters(
                    skipped: stream.skipped, truncatedLastLines: stream.truncatedLastLines, otherLines: stream.otherLines)
                space.wait()
                if stopped.load(ordering: .relaxed) { return }
                batches.withLock { $0.append(batch) }
                filled.signal()
                if !more { break }
            }
            if stopped.load(ordering: .relaxed) { return }
        }
    }

    /// Batches the consumer is done with, for the reader to fill again: a fresh 700 KB batch
    /// every 8,192 events was page faults and cache misses on every first write.
    private let spares = Mutex<[ReplayBatch]>([])

    func recycle(_ batch: ReplayBatch) {
        spares.withLock { if $0.count < 4 { $0.append(batch) } }
    }

    private func spare() -> ReplayBatch? { spares.withLock { $0.popLast() } }

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
/// decoding `limit` events, then what the engine thread does with them: the same `Engine`, fed
/// event by event with time passing before each, as `ReplayEngine` feeds it.
public enum ReplayStages {
    public static func measure(paths: [String], limit: Int, alarms rules: [AlarmRule], clock: () -> Double) throws(ReplayError)
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
        let engine = Engine(alarms: rules)
        let agg = engine.aggregator
        var names = NameMapping()
        let a0 = clock()
        for b in batches {
            names.append(b.newNames)
            var c = BatchCursor()
            while let time = c.time(in: b) {
                engine.passTime(to: time)
                c.ingest(from: b, into: agg, names: &names)
            }
        }
        return (events, readSeconds, clock() - a0)
    }
}

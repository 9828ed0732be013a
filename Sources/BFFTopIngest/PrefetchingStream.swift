import BFFTopWire
import Dispatch
import Synchronization

/// Reads and decodes recordings on a thread of its own, a few thousand events ahead, so decoding
/// (the larger half of replay's cost) overlaps with aggregation on the engine thread. The consumer
/// sees the same items in the same order as `RecordingStream.next()`, and the line counters as of
/// the last chunk it took. The reader thread holds only the hand-off, never the stream object, so
/// dropping the stream (a seek back builds a new one) stops the reader.
final class PrefetchingStream: Sendable {
    struct Counters: Sendable, Equatable {
        var skipped = 0
        var truncatedLastLines = 0
        var otherLines = 0
    }

    fileprivate struct Chunk: Sendable {
        var items: [RecordingStream.Item]
        var counters: Counters
        var last: Bool
    }

    private struct ConsumerState {
        var current: [RecordingStream.Item] = []
        var index = 0
        var counters = Counters()
        var done = false
    }

    static let chunkSize = 4096
    private let handOff: HandOff
    private let consumer = Mutex(ConsumerState())

    init(paths: [String], function: String, ahead: Int = 8) throws(ReplayError) {
        let stream = UncheckedBox(try RecordingStream(paths: paths, function: function))
        let h = HandOff(ahead: ahead)
        handOff = h
        startThread(name: "bfftop-prefetch") { h.produce(stream.value) }
    }

    /// The next item, waiting for the reader if it is behind; nil at the end.
    func next() -> RecordingStream.Item? {
        consumer.withLock { c -> RecordingStream.Item? in
            while c.index >= c.current.count {
                if c.done { return nil }
                guard let chunk = handOff.take() else { continue }
                c.current = chunk.items
                c.index = 0
                c.counters = chunk.counters
                c.done = chunk.last
            }
            defer { c.index += 1 }
            return c.current[c.index]
        }
    }

    var counters: Counters { consumer.withLock { $0.counters } }

    /// Stops the reader (also done when the stream is dropped).
    func stop() { handOff.stop() }

    deinit { handOff.stop() }
}

/// The bounded queue of chunks between the reader thread and the consumer.
private final class HandOff: Sendable {
    private let chunks = Mutex<[PrefetchingStream.Chunk]>([])
    private let filled = DispatchSemaphore(value: 0)
    private let space: DispatchSemaphore
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(true)

    init(ahead: Int) {
        // Created at 0 and signalled up: libdispatch traps when a semaphore is released while its
        // value is below the one it was created with, which `space` would be whenever chunks wait.
        space = DispatchSemaphore(value: 0)
        for _ in 0..<ahead { space.signal() }
    }

    func produce(_ stream: RecordingStream) {
        defer {
            running.store(false, ordering: .relaxed)
            finished.signal()
        }
        while !stopped.load(ordering: .relaxed) {
            var items: [RecordingStream.Item] = []
            items.reserveCapacity(PrefetchingStream.chunkSize)
            var last = false
            while items.count < PrefetchingStream.chunkSize {
                guard let it = stream.next() else {
                    last = true
                    break
                }
                items.append(it)
            }
            let counters = PrefetchingStream.Counters(
                skipped: stream.skipped, truncatedLastLines: stream.truncatedLastLines, otherLines: stream.otherLines)
            space.wait()
            if stopped.load(ordering: .relaxed) { return }
            chunks.withLock { $0.append(PrefetchingStream.Chunk(items: items, counters: counters, last: last)) }
            filled.signal()
            if last { return }
        }
    }

    /// Waits for the next chunk (nil on a spurious wake-up: the caller asks again).
    func take() -> PrefetchingStream.Chunk? {
        filled.wait()
        guard let chunk = chunks.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return nil }
        space.signal()
        return chunk
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

import BFFTopWire
import Dispatch
import Synchronization

/// Reads and decodes recordings on a thread of its own, a few thousand events ahead, so decoding
/// (the larger half of replay's cost) overlaps with aggregation on the engine thread. The consumer
/// sees the same items in the same order as `RecordingStream.next()`, and the line counters as of
/// the last chunk it took.
final class PrefetchingStream: Sendable {
    struct Counters: Sendable, Equatable {
        var skipped = 0
        var truncatedLastLines = 0
        var otherLines = 0
    }

    private struct Chunk: Sendable {
        var items: [RecordingStream.Item]
        var counters: Counters
        var last: Bool
    }

    private let chunks = Mutex<[Chunk]>([])
    private let filled = DispatchSemaphore(value: 0)
    private let space: DispatchSemaphore
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    // Consumer side (the engine thread only).
    private let consumer = Mutex(ConsumerState())

    private struct ConsumerState {
        var current: [RecordingStream.Item] = []
        var index = 0
        var counters = Counters()
        var done = false
    }

    static let chunkSize = 4096

    init(paths: [String], function: String, ahead: Int = 8) throws(ReplayError) {
        space = DispatchSemaphore(value: ahead)
        let stream = try RecordingStream(paths: paths, function: function)
        let box = UncheckedBox(stream)
        startThread(name: "bfftop-prefetch") { [self] in produce(box.value) }
    }

    private func produce(_ stream: RecordingStream) {
        defer { finished.signal() }
        while !stopped.load(ordering: .relaxed) {
            var items: [RecordingStream.Item] = []
            items.reserveCapacity(Self.chunkSize)
            var last = false
            while items.count < Self.chunkSize {
                guard let it = stream.next() else {
                    last = true
                    break
                }
                items.append(it)
            }
            let counters = Counters(skipped: stream.skipped, truncatedLastLines: stream.truncatedLastLines, otherLines: stream.otherLines)
            space.wait()
            if stopped.load(ordering: .relaxed) { return }
            chunks.withLock { $0.append(Chunk(items: items, counters: counters, last: last)) }
            filled.signal()
            if last { return }
        }
    }

    /// The next item, waiting for the reader if it is behind; nil at the end.
    func next() -> RecordingStream.Item? {
        consumer.withLock { c -> RecordingStream.Item? in
            while c.index >= c.current.count {
                if c.done { return nil }
                filled.wait()
                guard let chunk = chunks.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                space.signal()
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

    /// Stops the reader (a seek back makes a new stream).
    func stop() {
        stopped.store(true, ordering: .relaxed)
        space.signal()
        _ = finished.wait(timeout: .now() + 2)
    }

    deinit { stop() }
}

/// Hands a non-Sendable value to exactly one other thread, which then owns it.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

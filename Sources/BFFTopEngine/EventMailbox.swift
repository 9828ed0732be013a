import Dispatch
import Synchronization

/// The hand-off between ingest threads and the single engine thread: producers append whole
/// batches under a short lock; the engine takes them all at once. Bounded: past `capacity` queued
/// events new batches are dropped and counted (the engine is behind), so memory cannot run away.
public final class EventMailbox: EventSink {
    private struct State {
        var batches: [WireEventBatch] = []
        var queued = 0
        var dropped = 0
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    public let capacity: Int

    public init(capacity: Int = 2_000_000) {
        self.capacity = capacity
    }

    public func deliver(_ batch: WireEventBatch) {
        let signal = state.withLock { s -> Bool in
            guard s.queued + batch.events.count <= capacity else {
                s.dropped += batch.events.count
                return false
            }
            s.batches.append(batch)
            s.queued += batch.events.count
            return s.batches.count == 1
        }
        if signal { wake.signal() }
    }

    /// Takes everything queued, waiting up to `timeout` seconds if nothing is.
    public func take(waitingUpTo timeout: Double) -> [WireEventBatch] {
        var out = drain()
        if out.isEmpty, timeout > 0 {
            _ = wake.wait(timeout: .now() + timeout)
            out = drain()
        }
        return out
    }

    private func drain() -> [WireEventBatch] {
        state.withLock { s in
            defer {
                s.batches = []
                s.queued = 0
            }
            return s.batches
        }
    }

    /// Wakes a waiting `take` without delivering anything.
    public func poke() { wake.signal() }

    public var dropped: Int { state.withLock { $0.dropped } }
}

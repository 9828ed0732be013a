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
        /// The engine is waiting for a batch: only then does a delivery wake it (a wake costs
        /// more than aggregating a small batch).
        var waiting = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    public let capacity: Int

    public init(capacity: Int = 2_000_000) {
        self.capacity = capacity
    }

    public func deliver(_ batch: WireEventBatch) {
        let signal = state.withLock { s -> Bool in
            if s.queued + batch.count <= capacity {
                s.batches.append(batch)
                s.queued += batch.count
            } else {
                s.dropped += batch.count
                // Later batches of the source name their events by ids these names continue.
                guard let names = batch.bookkeeping else { return false }
                s.batches.append(names)
            }
            defer { s.waiting = false }
            return s.waiting
        }
        if signal { wake.signal() }
    }

    public func hasRoom(for count: Int) -> Bool {
        state.withLock { $0.queued + count <= capacity }
    }

    /// Takes everything queued, waiting up to `timeout` seconds if nothing is.
    public func take(waitingUpTo timeout: Double) -> [WireEventBatch] {
        var out = drain(andWait: timeout > 0)
        if out.isEmpty, timeout > 0 {
            _ = wake.wait(timeout: .now() + timeout)
            out = drain(andWait: false)
        }
        return out
    }

    /// Takes what is queued; with nothing queued and `andWait`, marks the consumer as waiting.
    private func drain(andWait: Bool) -> [WireEventBatch] {
        state.withLock { s in
            defer {
                s.batches = []
                s.queued = 0
            }
            if andWait, s.batches.isEmpty { s.waiting = true }
            if !andWait { s.waiting = false }
            return s.batches
        }
    }

    /// Wakes a waiting `take` without delivering anything.
    public func poke() {
        if state.withLock({ s in defer { s.waiting = false }; return s.waiting }) { wake.signal() }
    }

    public var dropped: Int { state.withLock { $0.dropped } }
}

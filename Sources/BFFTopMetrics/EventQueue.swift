#if canImport(Glibc)
import Glibc
#endif
import BFFTopProtocol
import Dispatch
import Synchronization

/// Bounded hand-off from metric handlers (any thread, never blocking) to one writer thread that owns
/// the socket: lines are written in batches, the connection is re-made with backoff when bfftop
/// restarts, and the overflow is counted rather than waited for.
final class EventQueue: Sendable {
    let capacity: Int
    private let items = Mutex<[WireEvent]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(true)
    private let droppedCount = Atomic<Int>(0)
    private let sentCount = Atomic<Int>(0)
    private let inFlight = Atomic<Int>(0)
    private let refusalText = Mutex<String?>(nil)

    init(capacity: Int) { self.capacity = capacity }

    var dropped: Int { droppedCount.load(ordering: .relaxed) }
    var sent: Int { sentCount.load(ordering: .relaxed) }
    var refusal: String? { refusalText.withLock { $0 } }

    @inline(__always) func push(_ e: WireEvent) {
        let (accepted, first) = items.withLock { q -> (Bool, Bool) in
            guard q.count < capacity else { return (false, false) }
            q.append(e)
            return (true, q.count == 1)
        }
        if !accepted { droppedCount.add(1, ordering: .relaxed) } else if first { wake.signal() }
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        wake.signal()
    }

    func flush(timeout: Double) {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            let empty = items.withLock { $0.isEmpty } && inFlight.load(ordering: .relaxed) == 0
            if empty { return }
            wake.signal()
            usleep(5_000)
        }
    }

    /// While bfftop is away nothing is taken from the queue (so nothing is encoded for nobody): it fills
    /// to `capacity` and `push` counts the rest as dropped.
    func run(location: SocketLocation) {
        signal(SIGPIPE, SIG_IGN)
        var fd: Int32 = -1
        var backoff = 0.1
        var retryAt = 0.0
        var out: [UInt8] = []
        while running.load(ordering: .relaxed) {
            _ = wake.wait(timeout: .now() + 0.2)
            // A dashboard that went away while we were idle left a connection that still accepts a
            // write (into nowhere): notice it first, so the next batch goes to the new dashboard.
            if fd >= 0, peerHasClosed(fd) {
                close(fd)
                fd = -1
                retryAt = 0
            }
            if fd < 0 {
                guard monotonicSeconds() >= retryAt else { continue }
                switch SocketTrust.connect(location) {
                case .success(let c):
                    fd = c
                    backoff = 0.1
                    refusalText.withLock { $0 = nil }
                case .failure(let e):
                    refusalText.withLock { $0 = e.isRefusal ? e.description : nil }
                    retryAt = monotonicSeconds() + backoff
                    backoff = min(backoff * 2, 5)
                    continue
                }
            }
            let batch = items.withLock { q -> [WireEvent] in
                defer { q.removeAll(keepingCapacity: true) }
                return q
            }
            guard !batch.isEmpty else { continue }
            inFlight.store(batch.count, ordering: .relaxed)
            out.removeAll(keepingCapacity: true)
            for e in batch {
                out += NativeEncoder.encode(e).utf8
                out.append(0x0A)
            }
            let written = out.withUnsafeBytes { b -> Int in
                var off = 0
                while off < b.count {
                    let n = write(fd, b.baseAddress! + off, b.count - off)
                    if n < 0, errno == EINTR { continue }
                    if n <= 0 { break }
                    off += n
                }
                return off
            }
            if written == out.count {
                sentCount.add(batch.count, ordering: .relaxed)
            } else {
                // The dashboard went away mid-batch: the lines it took whole count as sent; the rest go
                // back to the front of the queue for the next connection (what does not fit is dropped, counted).
                let whole = out[..<written].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                sentCount.add(whole, ordering: .relaxed)
                let rest = batch[whole...]
                let kept = items.withLock { q -> Int in
                    let room = max(0, capacity - q.count)
                    q.insert(contentsOf: rest.prefix(room), at: 0)
                    return min(room, rest.count)
                }
                droppedCount.add(rest.count - kept, ordering: .relaxed)
                close(fd)
                fd = -1
                retryAt = 0
            }
            inFlight.store(0, ordering: .relaxed)
        }
        if fd >= 0 { close(fd) }
    }
}

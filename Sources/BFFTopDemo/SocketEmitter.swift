import BFFTopWire
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking Unix-socket client that writes native protocol lines, reconnecting when the
/// dashboard goes away. Used by the demo fleet, `forward` and `invoke`; a model for any emitter.
/// It sends only to a dashboard of this user (`SocketTrust.connect`): a socket another user put in
/// its place is refused, and `lastError` says why.
public final class SocketLineWriter {
    public let location: SocketLocation
    public var path: String { location.path }
    private var fd: Int32 = -1
    /// Why the last connection attempt failed (nil once connected).
    public private(set) var lastError: SocketTrustError?

    public init(location: SocketLocation) {
        self.location = location
        signal(SIGPIPE, SIG_IGN)  // a closed dashboard must be an error code, not a dead process
    }

    public convenience init(path: String) { self.init(location: SocketLocation(path: path)) }

    public var isConnected: Bool { fd >= 0 }

    @discardableResult
    public func connectIfNeeded() -> Bool {
        if fd >= 0 { return true }
        switch SocketTrust.connect(location) {
        case .success(let s):
            fd = s
            lastError = nil
            return true
        case .failure(let e):
            lastError = e
            return false
        }
    }

    /// Writes all of `text`; on failure closes the connection and returns false.
    @discardableResult
    public func write(_ text: String) -> Bool {
        // A dashboard that restarted left a connection that would swallow this write: start afresh.
        if fd >= 0, peerHasClosed(fd) { disconnect() }
        guard connectIfNeeded() else { return false }
        var t = text
        let ok = t.withUTF8 { buf -> Bool in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress.map { $0 + off }, buf.count - off)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return false }
                off += n
            }
            return true
        }
        if !ok { disconnect() }
        return ok
    }

    public func write(_ events: [WireEvent]) -> Bool {
        guard !events.isEmpty else { return true }
        var text = ""
        text.reserveCapacity(events.count * 220)
        for e in events {
            text += NativeEncoder.encode(e)
            text += "\n"
        }
        return write(text)
    }

    public func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        unread = []
    }

    private var unread: [UInt8] = []

    /// Complete lines the dashboard sent back (control-channel requests), without waiting.
    public func readLines() -> [String] {
        guard fd >= 0 else { return [] }
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 0) > 0 else { break }
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 65536) }
            if n <= 0 {
                disconnect()
                return []
            }
            unread += buf[0..<n]
        }
        var lines: [String] = []
        while let nl = unread.firstIndex(of: 0x0A) {
            lines.append(String(decoding: unread[..<nl], as: UTF8.self))
            unread.removeSubrange(...nl)
        }
        return lines
    }

    deinit { disconnect() }
}

/// Runs the fleet in real time on its own thread and sends what it produces through the socket.
public final class DemoFleetRunner: Sendable {
    private let running = Atomic<Bool>(false)
    private let sent = Atomic<Int>(0)
    private let lost = Atomic<Int>(0)
    public let location: SocketLocation
    public var path: String { location.path }
    public let seed: UInt64
    public let intensity: Double
    private let refusal = Mutex<SocketTrustError?>(nil)

    public init(location: SocketLocation, seed: UInt64 = UInt64(Date().timeIntervalSince1970), intensity: Double = 1) {
        self.location = location
        self.seed = seed
        self.intensity = intensity
    }

    public var eventsSent: Int { sent.load(ordering: .relaxed) }
    /// Events generated while the dashboard was unreachable.
    public var eventsLost: Int { lost.load(ordering: .relaxed) }
    /// Why the dashboard could not be reached, when it was refused (not merely absent).
    public var lastRefusal: SocketTrustError? { refusal.withLock { $0 } }

    public func start() {
        guard !running.exchange(true, ordering: .relaxed) else { return }
        startThread(name: "bfftop-fleet") { [self] in self.run() }
    }

    public func stop() { running.store(false, ordering: .relaxed) }

    /// Blocks, emitting until `stop()`.
    public func run() {
        running.store(true, ordering: .relaxed)
        var sim = FleetSimulator(start: Date().timeIntervalSince1970, seed: seed, intensity: intensity)
        let writer = SocketLineWriter(location: location)
        // Control channel: every endpoint is invokable; answers go out when the invocation ends.
        var replies: [(due: Double, line: String)] = []
        while running.load(ordering: .relaxed) {
            if !writer.isConnected {
                if writer.connectIfNeeded() {
                    writer.write(ControlCodec.invokable(sim.invokableEndpoints) + "\n")
                }
                let refused = writer.lastError.flatMap { $0.isRefusal ? $0 : nil }
                refusal.withLock { $0 = refused }
            }
            let now = Date().timeIntervalSince1970
            for line in writer.readLines() {
                guard let req = ControlCodec.decodeRequest(line) else { continue }
                guard let inv = sim.invoke(req.endpoint, at: now) else {
                    let r = ControlReply(outcome: .error, durationMs: 0, error: "the demo fleet has no endpoint \(req.endpoint)")
                    writer.write(ControlCodec.result(id: req.id, r) + "\n")
                    continue
                }
                let reply = ControlReply(
                    status: inv.status, outcome: inv.outcome, durationMs: inv.durationMs, bytes: inv.outcome == .ok ? 512 + Int(inv.durationMs) % 2048 : 0,
                    coldStart: inv.kind == .function ? inv.coldStart : nil, error: inv.error)
                replies.append((inv.endTs, ControlCodec.result(id: req.id, reply) + "\n"))
            }
            let events = sim.advance(to: now)
            if writer.write(events) {
                sent.wrappingAdd(events.count, ordering: .relaxed)
            } else {
                lost.wrappingAdd(events.count, ordering: .relaxed)
            }
            let due = replies.filter { $0.due <= now }
            replies.removeAll { $0.due <= now }
            for r in due { writer.write(r.line) }
            usleep(50_000)
        }
        writer.disconnect()
    }
}

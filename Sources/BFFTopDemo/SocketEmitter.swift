import BFFTopWire
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking Unix-socket client that writes native protocol lines, reconnecting when the
/// dashboard goes away. Used by the demo fleet; a model for any emitter.
public final class SocketLineWriter {
    public let path: String
    private var fd: Int32 = -1

    public init(path: String) {
        self.path = path
        signal(SIGPIPE, SIG_IGN)  // a closed dashboard must be an error code, not a dead process
    }

    public var isConnected: Bool { fd >= 0 }

    @discardableResult
    public func connectIfNeeded() -> Bool {
        if fd >= 0 { return true }
        guard let s = connectUnixSocket(path) else { return false }
        fd = s
        return true
    }

    /// Writes all of `text`; on failure closes the connection and returns false.
    @discardableResult
    public func write(_ text: String) -> Bool {
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
    }

    deinit { disconnect() }
}

/// Runs the fleet in real time on its own thread and sends what it produces through the socket.
public final class DemoFleetRunner: Sendable {
    private let running = Atomic<Bool>(false)
    private let sent = Atomic<Int>(0)
    private let lost = Atomic<Int>(0)
    public let path: String
    public let seed: UInt64
    public let intensity: Double

    public init(path: String, seed: UInt64 = UInt64(Date().timeIntervalSince1970), intensity: Double = 1) {
        self.path = path
        self.seed = seed
        self.intensity = intensity
    }

    public var eventsSent: Int { sent.load(ordering: .relaxed) }
    /// Events generated while the dashboard was unreachable.
    public var eventsLost: Int { lost.load(ordering: .relaxed) }

    public func start() {
        guard !running.exchange(true, ordering: .relaxed) else { return }
        startThread(name: "bfftop-fleet") { [self] in self.run() }
    }

    public func stop() { running.store(false, ordering: .relaxed) }

    /// Blocks, emitting until `stop()`.
    public func run() {
        running.store(true, ordering: .relaxed)
        var sim = FleetSimulator(start: Date().timeIntervalSince1970, seed: seed, intensity: intensity)
        let writer = SocketLineWriter(path: path)
        while running.load(ordering: .relaxed) {
            let events = sim.advance(to: Date().timeIntervalSince1970)
            if writer.write(events) {
                sent.wrappingAdd(events.count, ordering: .relaxed)
            } else {
                lost.wrappingAdd(events.count, ordering: .relaxed)
            }
            usleep(50_000)
        }
        writer.disconnect()
    }
}

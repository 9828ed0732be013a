#if canImport(Glibc)
import Glibc
#endif
import BFFTopEngine
import BFFTopWire
import CBFFTopSys
import NIOCore
import NIOPosix
import Synchronization

/// DogStatsD over a Unix datagram socket, UDP on loopback, or a Unix stream socket (4-byte
/// little-endian length, then the payload). Each datagram listener has a dedicated reader thread
/// that never waits on anything but the socket: Linux queues only ~11 datagrams per Unix datagram
/// socket and clients drop silently when it is full, so datagrams are drained with `recvmmsg`, 64 at
/// a time, into a preallocated slab, then parsed and mapped, and the events go to the engine's
/// mailbox in one batch. Stream connections live on the NIO event loops (`DogStatsDStreamHandler`).
public final class DogStatsDServer: Sendable {
    public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
        case datagram(String)
        case stream(String)
        case udp(host: String, port: UInt16)

        public var description: String {
            switch self {
            case .datagram(let p): "unixgram://\(p)"
            case .stream(let p): "unixstream://\(p)"
            case .udp(let h, let p): "udp://\(h):\(p)"
            }
        }
    }

    public let endpoint: Endpoint
    private let fd: Int32
    /// The socket file of a Unix endpoint, removed by `stop()` only while it is still ours.
    private let published: PublishedSocket?
    /// The listening channel of a stream endpoint.
    private let channel: (any Channel)?
    private let running = Atomic<Bool>(true)
    private let batcher: DogStatsDBatcher
    public static let slotBytes = 65536
    public static let maxFrameBytes = 65536

    private init(endpoint: Endpoint, fd: Int32, channel: (any Channel)? = nil, published: PublishedSocket?, batcher: DogStatsDBatcher) {
        self.endpoint = endpoint
        self.fd = fd
        self.published = published
        self.channel = channel
        self.batcher = batcher
    }

    /// Binds and starts the reader. Errors say what and where. Stream endpoints run on `group`. UDP
    /// binds to loopback only unless `beyondLoopback` (an explicit opt-in the header then shows).
    public static func start(_ endpoint: Endpoint, sink: any EventSink, stats: IngestStats, mapper: DogStatsDMapper = DogStatsDMapper(),
                             group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                             beyondLoopback: Bool = false) async throws(IngestError) -> DogStatsDServer {
        let batcher = DogStatsDBatcher(sink: sink, stats: stats, mapper: mapper)
        let fd: Int32
        var published: PublishedSocket?
        switch endpoint {
        case .datagram(let path): (fd, published) = try bindUnix(path, type: Int32(SOCK_DGRAM.rawValue))
        case .stream(let path):
            let (channel, file) = try await bindStream(path, batcher: batcher, group: group)
            stats.dogstatsd { $0.listeners.append(endpoint.description) }
            return DogStatsDServer(endpoint: endpoint, fd: -1, channel: channel, published: file, batcher: batcher)
        case .udp(let host, let port):
            fd = try bindUDP(host, port, beyondLoopback: beyondLoopback)
            if !NetworkExposure.isLoopback(host) { stats.listeningBeyondLoopback(endpoint.description) }
        }
        // A deep receive buffer absorbs bursts while the reader parses; a receive timeout lets stop() end the thread.
        var size: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let server = DogStatsDServer(endpoint: endpoint, fd: fd, published: published, batcher: batcher)
        stats.dogstatsd { $0.listeners.append(endpoint.description) }
        startThread(name: "bfftop-dsd") {
            IngestThreads.lowerThisThread()  // below the engine, as the event loops (see IngestThreads)
            server.datagramLoop()
        }
        return server
    }

    static func bindStream(_ path: String, batcher: DogStatsDBatcher, group: any EventLoopGroup) async throws(IngestError) -> (any Channel, PublishedSocket) {
        let reserve = DescriptorReserve.shared
        try SocketPath.prepareForListening(path)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(DescriptorReserve.Handler(reserve)) }
            }
            .childChannelInitializer { channel in
                if reserve.shouldShed(channel) {
                    batcher.stats.connectionShed()
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DogStatsDStreamHandler(batcher: batcher, maxFrameBytes: maxFrameBytes))
                }
            }
        let bound = try await bootstrap.bindPrivate(path)
        return (bound.channel, bound.published)
    }

    public func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        channel?.close(promise: nil)
        switch endpoint {
        case .datagram, .stream: published?.remove()
        case .udp: break
        }
    }

    // MARK: readers

    private func datagramLoop() {
        let slots = 64
        var slab = [UInt8](repeating: 0, count: slots * Self.slotBytes)
        var lens = [Int32](repeating: 0, count: slots)
        var trunc = [Int32](repeating: 0, count: slots)
        var lastDropCheck = 0.0
        var reader = batcher.reader()
        // UDP's receive buffer (8 MiB) holds a burst, so while datagrams flow the reader pauses a
        // millisecond once it has drained the queue and then takes what gathered in one go (as a
        // NIC coalesces interrupts): one wake a millisecond instead of one every few datagrams.
        // A Unix datagram socket's queue is a few datagrams long, so there it never pauses.
        let coalesce: Bool = if case .udp = endpoint { true } else { false }
        var sincePause = 0
        while running.load(ordering: .relaxed) {
            let n = slab.withUnsafeMutableBufferPointer { b in
                bt_recv_datagrams(fd, b.baseAddress, Int32(Self.slotBytes), Int32(slots), &lens, &trunc)
            }
            if n > 0 {
                let now = wallClock()
                slab.withUnsafeBytes { all in
                    var batch = DogStatsDBatcher.Batch(reader)
                    for i in 0..<Int(n) {
                        if trunc[i] != 0 {
                            batch.truncated += 1
                            continue
                        }
                        let start = i * Self.slotBytes
                        batcher.handle(UnsafeRawBufferPointer(rebasing: all[start..<(start + Int(lens[i]))]), at: now, into: &batch, reader: &reader)
                    }
                    batcher.flush(batch, reader: &reader)
                }
                sincePause += Int(n)
                if coalesce, Int(n) < slots, sincePause >= 16 {
                    sincePause = 0
                    usleep(1000)
                }
            }
            if case .udp = endpoint, monotonicSeconds() - lastDropCheck > 1 {
                lastDropCheck = monotonicSeconds()
                if let d = udpDrops() { batcher.stats.dogstatsd { $0.kernelDropped = d } }
            }
        }
        close(fd)
    }

    // MARK: sockets

    static func bindUnix(_ path: String, type: Int32) throws(IngestError) -> (Int32, PublishedSocket) {
        // Same rules as the main socket: a non-socket is never touched, a stale socket is replaced, a
        // live one (the Datadog agent's, another bfftop's: datagram sockets are probed too) is refused,
        // and the socket is private from its first instant.
        try SocketPath.prepareForListening(path)
        let staging = try PrivateSocketStaging(for: path)
        let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            staging.abandon()
            throw .bindFailed(path: path, reason: String(cString: strerror(errno)))
        }
        // The staging path's length was checked when it was made.
        guard var addr = unixSocketAddress(staging.stagingPath) else {
            close(fd)
            staging.abandon()
            throw .pathTooLong(path: path)
        }
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard r == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            staging.abandon()
            throw .bindFailed(path: path, reason: reason)
        }
        do throws(IngestError) {
            return (fd, try staging.publish())
        } catch {
            close(fd)
            throw error
        }
    }

    static func bindUDP(_ host: String, _ port: UInt16, beyondLoopback: Bool) throws(IngestError) -> Int32 {
        let host = host == "localhost" ? "127.0.0.1" : host
        guard beyondLoopback || NetworkExposure.isLoopback(host) else { throw .beyondLoopback(address: "udp://\(host):\(port)") }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .bindFailed(path: "udp://\(host):\(port)", reason: String(cString: strerror(errno))) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            close(fd)
            throw .bindFailed(path: "udp://\(host):\(port)", reason: "not an IPv4 address: \(host)")
        }
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .bindFailed(path: "udp://\(host):\(port)", reason: reason)
        }
        return fd
    }

    /// The kernel's drop counter for this UDP socket (last column of /proc/net/udp, matched by inode).
    func udpDrops() -> Int? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let inode = String(st.st_ino)
        guard let f = fopen("/proc/net/udp", "r") else { return nil }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, 512, f) != nil {
            let cols = String(cString: line).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
            if cols.count >= 13, cols[9] == inode { return Int(cols[cols.count - 1]) }
        }
        return nil
    }
}

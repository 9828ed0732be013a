#if canImport(Glibc)
import Glibc
#endif
import BFFTopWire
import CBFFTopSys
import Synchronization

/// DogStatsD over a Unix datagram socket, a Unix stream socket (4-byte little-endian length, then
/// the payload) or UDP on loopback. Each listener has a dedicated reader thread that never waits on
/// anything but the socket: Linux queues only ~11 datagrams per Unix datagram socket and clients drop
/// silently when it is full, so datagrams are drained with `recvmmsg`, 64 at a time, into a
/// preallocated slab, then parsed and mapped, and the events go to the engine's mailbox in one batch.
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
    private let running = Atomic<Bool>(true)
    private let sink: any EventSink
    private let stats: IngestStats
    private let mapper: DogStatsDMapper
    public static let slotBytes = 65536
    public static let maxFrameBytes = 65536

    private init(endpoint: Endpoint, fd: Int32, sink: any EventSink, stats: IngestStats, mapper: DogStatsDMapper) {
        self.endpoint = endpoint
        self.fd = fd
        self.sink = sink
        self.stats = stats
        self.mapper = mapper
    }

    /// Binds and starts the reader. Errors say what and where.
    public static func start(_ endpoint: Endpoint, sink: any EventSink, stats: IngestStats, mapper: DogStatsDMapper = DogStatsDMapper()) throws(IngestError) -> DogStatsDServer {
        let fd: Int32
        switch endpoint {
        case .datagram(let path): fd = try bindUnix(path, type: Int32(SOCK_DGRAM.rawValue))
        case .stream(let path):
            fd = try bindUnix(path, type: Int32(SOCK_STREAM.rawValue))
            guard listen(fd, 128) == 0 else { throw .bindFailed(path: path, reason: String(cString: strerror(errno))) }
        case .udp(let host, let port): fd = try bindUDP(host, port)
        }
        // A deep receive buffer absorbs bursts while the reader parses; a receive timeout lets stop() end the thread.
        var size: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let server = DogStatsDServer(endpoint: endpoint, fd: fd, sink: sink, stats: stats, mapper: mapper)
        stats.dogstatsd { $0.listeners.append(endpoint.description) }
        switch endpoint {
        case .stream: startThread(name: "bfftop-dsd-accept") { server.acceptLoop() }
        default: startThread(name: "bfftop-dsd") { server.datagramLoop() }
        }
        return server
    }

    public func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        switch endpoint {
        case .datagram(let p), .stream(let p): unlink(p)
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
        while running.load(ordering: .relaxed) {
            let n = slab.withUnsafeMutableBufferPointer { b in
                bt_recv_datagrams(fd, b.baseAddress, Int32(Self.slotBytes), Int32(slots), &lens, &trunc)
            }
            if n > 0 {
                slab.withUnsafeBytes { all in
                    var batch = Batch()
                    for i in 0..<Int(n) {
                        if trunc[i] != 0 {
                            batch.truncated += 1
                            continue
                        }
                        let start = i * Self.slotBytes
                        handle(UnsafeRawBufferPointer(rebasing: all[start..<(start + Int(lens[i]))]), into: &batch)
                    }
                    flush(batch)
                }
            }
            if case .udp = endpoint, monotonicSeconds() - lastDropCheck > 1 {
                lastDropCheck = monotonicSeconds()
                if let d = udpDrops() { stats.dogstatsd { $0.kernelDropped = d } }
            }
        }
        close(fd)
    }

    private func acceptLoop() {
        while running.load(ordering: .relaxed) {
            let c = accept(fd, nil, nil)
            guard c >= 0 else { continue }  // timeout: check `running`
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            startThread(name: "bfftop-dsd-conn") { [self] in streamLoop(c) }
        }
        close(fd)
    }

    /// `[u32 LE length][payload]` frames; a frame over the cap closes the connection, as the agent does.
    private func streamLoop(_ c: Int32) {
        defer { close(c) }
        var header = [UInt8](repeating: 0, count: 4)
        var payload = [UInt8](repeating: 0, count: Self.maxFrameBytes)
        while running.load(ordering: .relaxed) {
            guard readFully(c, &header, 4) else { return }
            let len = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16 | Int(header[3]) << 24
            guard len <= Self.maxFrameBytes else {
                stats.dogstatsdMalformed(MalformedLine(connection: 0, origin: "dogstatsd", reason: "stream frame of \(len) bytes is over the \(Self.maxFrameBytes / 1024) KiB cap (connection closed)", excerpt: ""))
                return
            }
            guard readFully(c, &payload, len) else { return }
            var batch = Batch()
            payload.withUnsafeBytes { handle(UnsafeRawBufferPointer(rebasing: $0[0..<len]), into: &batch) }
            flush(batch)
        }
    }

    private func readFully(_ c: Int32, _ buf: inout [UInt8], _ n: Int) -> Bool {
        var got = 0
        while got < n {
            let r = buf.withUnsafeMutableBytes { read(c, $0.baseAddress! + got, n - got) }
            if r > 0 {
                got += r
            } else if r < 0, errno == EAGAIN || errno == EINTR {
                if !running.load(ordering: .relaxed) { return false }
            } else {
                return false
            }
        }
        return true
    }

    // MARK: decoding

    private struct Batch {
        var events: [WireEvent] = []
        var packets = 0, metrics = 0, other = 0, mapped = 0, truncated = 0, clientDropped = 0
        var raw: [DogStatsDMetric] = []
        var malformed: [MalformedLine] = []
    }

    private func handle(_ packet: UnsafeRawBufferPointer, into b: inout Batch) {
        b.packets += 1
        let now = wallClock()
        DogStatsDParser.parsePacket(packet) { r in
            switch r {
            case .success(.metric(let m)):
                b.metrics += 1
                switch mapper.map(m, at: now) {
                case .events(let e):
                    b.events += e
                    b.mapped += 1
                case .raw: b.raw.append(m)
                case .clientDropped(let n):
                    b.clientDropped += n
                    b.raw.append(m)
                case .refused(let e):
                    b.malformed.append(MalformedLine(connection: 0, origin: "dogstatsd", reason: e.reason, excerpt: LineDecoder.excerpt(packet)))
                }
            case .success: b.other += 1
            case .failure(let e):
                b.malformed.append(MalformedLine(connection: 0, origin: "dogstatsd", reason: e.reason, excerpt: LineDecoder.excerpt(packet)))
            }
        }
    }

    private func flush(_ b: Batch) {
        if !b.events.isEmpty { sink.deliver(WireEventBatch(receivedAt: wallClock(), events: b.events)) }
        let now = wallClock()
        stats.dogstatsd { d in
            d.packets += b.packets
            d.metrics += b.metrics
            d.eventsAndChecks += b.other
            d.mapped += b.mapped
            d.truncated += b.truncated
            d.clientDropped += b.clientDropped
            for m in b.raw { d.noteRaw(m, at: now) }
        }
        for m in b.malformed { stats.dogstatsdMalformed(m) }
    }

    // MARK: sockets

    static func bindUnix(_ path: String, type: Int32) throws(IngestError) -> Int32 {
        // Same rules as the main socket: a non-socket is never touched, a stale socket is replaced, a
        // stream listener that answers is refused (a datagram socket cannot be probed, so it is replaced).
        try SocketPath.prepareForListening(path)
        let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .bindFailed(path: path, reason: String(cString: strerror(errno))) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in path.utf8.enumerated() { p[i] = b }
            p[path.utf8.count] = 0
        }
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard r == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .bindFailed(path: path, reason: reason)
        }
        SocketPath.restrictToOwner(path)
        return fd
    }

    static func bindUDP(_ host: String, _ port: UInt16) throws(IngestError) -> Int32 {
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BFFTopEngine
import CBFFTopSys
import BFFTopWire
import NIOCore

/// Errors starting or running ingest, each saying what to do about it.
public enum IngestError: Error, Equatable, CustomStringConvertible, Sendable {
    case alreadyListening(path: String)
    case notASocket(path: String)
    case pathTooLong(path: String)
    case cannotRemoveStale(path: String, errno: Int32)
    case bindFailed(path: String, reason: String)
    case untrusted(SocketTrustError)
    case takenMeanwhile(path: String)
    case beyondLoopback(address: String)

    public var description: String {
        switch self {
        case .alreadyListening(let p):
            "something is already listening on \(TerminalSafe.clean(p)) (another bfftop, or the program that owns that socket); stop it, or start this one with --socket PATH"
        case .notASocket(let p):
            "\(TerminalSafe.clean(p)) exists and is not a socket; refusing to replace it (remove it yourself or pick another --socket PATH)"
        case .pathTooLong(let p):
            "socket path is \(p.utf8.count) bytes, over the 107-byte limit for Unix sockets"
                + " (bfftop binds in a private directory beside it first, which needs 17 bytes more than the directory's name): \(TerminalSafe.clean(p))"
        case .cannotRemoveStale(let p, let e):
            "cannot remove stale socket \(TerminalSafe.clean(p)): \(String(cString: strerror(e)))"
        case .bindFailed(let p, let r):
            "cannot listen on \(TerminalSafe.clean(p)): \(r)"
        case .untrusted(let e):
            e.description
        case .takenMeanwhile(let p):
            "\(TerminalSafe.clean(p)) was created by someone else while bfftop was starting; refusing to replace it"
        case .beyondLoopback(let a):
            "\(TerminalSafe.clean(a)) is reachable from other machines; bfftop listens on loopback only unless you pass --listen-beyond-loopback"
                + " (or set listen_beyond_loopback = true in the config)"
        }
    }
}

public enum SocketPath {
    /// `--socket` wins, then `BFFTOP_SOCKET`, then the config file's `socket`, then
    /// `$XDG_RUNTIME_DIR/bfftop.sock`, then `/tmp/bfftop-$UID/bfftop.sock` (a private directory).
    public static func resolve(explicit: String?, environment: [String: String], configured: String? = nil) -> SocketLocation {
        SocketLocation.resolve(explicit: explicit, environment: environment, configured: configured)
    }

    public enum Existing: Equatable {
        case none, liveSocket, staleSocket, notASocket
    }

    /// What is at `path` now: nothing, a socket someone answers on, a dead socket, or something else.
    /// A socket is probed with each socket type in turn (a stream connect to a datagram socket fails
    /// with EPROTOTYPE, which says nothing about whether it is live): only ECONNREFUSED means no one
    /// holds it. A live DogStatsD socket of the Datadog agent is never replaced.
    public static func inspect(_ path: String) -> Existing {
        var st = stat()
        guard lstat(path, &st) == 0 else { return .none }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else { return .notASocket }
        return isLive(path) ? .liveSocket : .staleSocket
    }

    static func isLive(_ path: String) -> Bool {
        guard var addr = unixSocketAddress(path) else { return false }
        for type in [Int32(SOCK_STREAM.rawValue), Int32(SOCK_DGRAM.rawValue), Int32(SOCK_SEQPACKET.rawValue)] {
            let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { continue }
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            let e = errno
            close(fd)
            if r == 0 { return true }
            switch e {
            case EPROTOTYPE: continue  // another kind of socket: try the next type
            case ECONNREFUSED, ENOENT: return false
            default: return true  // EACCES, EAGAIN (a full backlog): someone holds it; never replace
            }
        }
        return false
    }

    /// Makes `location` ready to bind: its private directory exists and is ours, a live peer or a
    /// non-socket is refused, a stale socket is removed.
    public static func prepareForListening(_ location: SocketLocation) throws(IngestError) {
        let path = location.path
        guard path.utf8.count <= 107 else { throw .pathTooLong(path: path) }
        do throws(SocketTrustError) {
            try SocketTrust.verify(location, create: true)
        } catch {
            throw .untrusted(error)
        }
        switch inspect(path) {
        case .none: return
        case .liveSocket: throw .alreadyListening(path: path)
        case .notASocket: throw .notASocket(path: path)
        case .staleSocket:
            if unlink(path) != 0, errno != ENOENT { throw .cannotRemoveStale(path: path, errno: errno) }
        }
    }

    public static func prepareForListening(_ path: String) throws(IngestError) {
        try prepareForListening(SocketLocation(path: path))
    }

    /// What an I/O error from NIO or the C library says, without Swift signatures around it.
    package static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BFFTopWire

/// Errors starting or running ingest, each saying what to do about it.
public enum IngestError: Error, Equatable, CustomStringConvertible, Sendable {
    case alreadyListening(path: String)
    case notASocket(path: String)
    case pathTooLong(path: String)
    case cannotRemoveStale(path: String, errno: Int32)
    case bindFailed(path: String, reason: String)
    case alarmLog(path: String, reason: String)

    public var description: String {
        switch self {
        case .alreadyListening(let p):
            "another bfftop is already listening on \(p); stop it, or start this one with --socket PATH"
        case .notASocket(let p):
            "\(p) exists and is not a socket; refusing to replace it (remove it yourself or pick another --socket PATH)"
        case .pathTooLong(let p):
            "socket path is \(p.utf8.count) bytes, over the 107-byte limit for Unix sockets: \(p)"
        case .cannotRemoveStale(let p, let e):
            "cannot remove stale socket \(p): \(String(cString: strerror(e)))"
        case .bindFailed(let p, let r):
            "cannot listen on \(p): \(r)"
        case .alarmLog(let p, let r):
            "cannot open the alarm log \(p): \(r)"
        }
    }
}

public enum SocketPath {
    /// `--socket` wins, then `BFFTOP_SOCKET`, then the config file's `socket`, then
    /// `$XDG_RUNTIME_DIR/bfftop.sock`, then `/tmp/bfftop-$UID.sock`.
    public static func resolve(explicit: String?, environment: [String: String], configured: String? = nil) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = environment["BFFTOP_SOCKET"], !env.isEmpty { return env }
        if let configured, !configured.isEmpty { return configured }
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty { return xdg + "/bfftop.sock" }
        return "/tmp/bfftop-\(getuid()).sock"
    }

    public enum Existing: Equatable {
        case none, liveSocket, staleSocket, notASocket
    }

    /// What is at `path` now: nothing, a socket someone answers on, a dead socket, or something else.
    public static func inspect(_ path: String) -> Existing {
        var st = stat()
        guard lstat(path, &st) == 0 else { return .none }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else { return .notASocket }
        return canConnect(path) ? .liveSocket : .staleSocket
    }

    static func canConnect(_ path: String) -> Bool {
        guard let fd = connectUnixSocket(path) else { return false }
        close(fd)
        return true
    }

    /// Only the owner may connect to a bound socket: it carries whatever the emitters send. Changed
    /// after binding rather than by narrowing the umask around `bind`: the umask is process-wide, and
    /// any file another thread (the recorder) or child process created meanwhile got mode 0600 — a
    /// build spawned by a test lost the execute bit of what it compiled. Until the chmod, the default
    /// umask (022) already keeps others from writing, which connecting needs.
    static func restrictToOwner(_ path: String) {
        chmod(path, 0o600)
    }

    /// Makes `path` ready to bind: refuses a live peer or a non-socket, removes a stale socket.
    public static func prepareForListening(_ path: String) throws(IngestError) {
        guard path.utf8.count <= 107 else { throw .pathTooLong(path: path) }
        switch inspect(path) {
        case .none: return
        case .liveSocket: throw .alreadyListening(path: path)
        case .notASocket: throw .notASocket(path: path)
        case .staleSocket:
            if unlink(path) != 0, errno != ENOENT { throw .cannotRemoveStale(path: path, errno: errno) }
        }
    }
}

#if canImport(Glibc)
import CBFFTopSys
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the dashboard's socket is, and the private directory that guards it when it is the default.
///
/// The default is `$XDG_RUNTIME_DIR/bfftop.sock` (a directory the session manager made 0700 for us)
/// or `/tmp/bfftop-$UID/bfftop.sock` (a 0700 directory bfftop makes, as tmux does with
/// `/tmp/tmux-$UID`). A socket directly in `/tmp` could be created first by another user, who would
/// then receive what our emitters send; a directory they own or can enter is refused instead.
public struct SocketLocation: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// The directory that must be ours and private before the path is used (nil for a path given
    /// explicitly: its socket's owner is still checked).
    public var privateDirectory: String?
    /// Whether bfftop may create `privateDirectory` (it never creates `$XDG_RUNTIME_DIR`).
    public var createsDirectory: Bool

    public init(path: String, privateDirectory: String? = nil, createsDirectory: Bool = false) {
        self.path = path
        self.privateDirectory = privateDirectory
        self.createsDirectory = createsDirectory
    }

    public var description: String { path }

    /// `explicit` (a flag), then `BFFTOP_SOCKET`, then `configured` (the config file), then the default.
    public static func resolve(explicit: String? = nil, environment: [String: String], configured: String? = nil, name: String = "bfftop.sock") -> SocketLocation {
        if let explicit, !explicit.isEmpty { return SocketLocation(path: explicit) }
        if let env = environment["BFFTOP_SOCKET"], !env.isEmpty { return SocketLocation(path: env) }
        if let configured, !configured.isEmpty { return SocketLocation(path: configured) }
        return defaultLocation(environment: environment, name: name)
    }

    /// The default location for a socket called `name`.
    public static func defaultLocation(environment: [String: String], name: String = "bfftop.sock") -> SocketLocation {
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty {
            return SocketLocation(path: xdg + "/" + name, privateDirectory: xdg, createsDirectory: false)
        }
        let dir = "/tmp/bfftop-\(geteuid())"
        return SocketLocation(path: dir + "/" + name, privateDirectory: dir, createsDirectory: true)
    }

    /// The location as this process's environment resolves it (for libraries without flags).
    public static func fromProcessEnvironment() -> SocketLocation {
        var env: [String: String] = [:]
        for key in ["BFFTOP_SOCKET", "XDG_RUNTIME_DIR"] {
            if let v = getenv(key) { env[key] = String(cString: v) }
        }
        return resolve(environment: env)
    }
}

/// Why a socket or directory is not trusted: each says what was found and what to do.
public enum SocketTrustError: Error, Equatable, Sendable, CustomStringConvertible {
    case directoryMissing(path: String)
    case directoryUnsafe(path: String, reason: String)
    case cannotCreateDirectory(path: String, reason: String)
    case notASocket(path: String)
    case symlink(path: String)
    case foreignOwner(path: String, owner: UInt32)
    case foreignPeer(path: String, peer: UInt32)
    case pathTooLong(path: String)
    case unreachable(path: String, reason: String)

    public var description: String {
        let me = geteuid()
        return switch self {
        case .directoryMissing(let p): "\(TerminalSafe.clean(p)) does not exist (no dashboard has run here)"
        case .directoryUnsafe(let p, let r):
            "refusing to use \(TerminalSafe.clean(p)): \(r); it must be a directory of yours (uid \(me)) that only you can enter"
                + " (remove it, or choose a socket with --socket PATH / BFFTOP_SOCKET)"
        case .cannotCreateDirectory(let p, let r): "cannot create the private directory \(TerminalSafe.clean(p)): \(r)"
        case .notASocket(let p): "\(TerminalSafe.clean(p)) is not a socket"
        case .symlink(let p): "refusing \(TerminalSafe.clean(p)): it is a symbolic link, not a socket"
        case .foreignOwner(let p, let o):
            "refusing to send to \(TerminalSafe.clean(p)): the socket belongs to uid \(o), not to you (uid \(me)); another user may be listening in your place"
        case .foreignPeer(let p, let o):
            "refusing to send to \(TerminalSafe.clean(p)): the process listening on it runs as uid \(o), not as you (uid \(me))"
        case .pathTooLong(let p): "socket path is \(p.utf8.count) bytes, over the 107-byte limit for Unix sockets: \(TerminalSafe.clean(p))"
        case .unreachable(let p, let r): "no dashboard on \(TerminalSafe.clean(p)): \(r)"
        }
    }

    /// A refusal that retrying will not fix (as opposed to no dashboard running yet).
    public var isRefusal: Bool {
        switch self {
        case .unreachable, .directoryMissing: false
        default: true
        }
    }
}

public enum SocketTrust {
    /// Checks that `path` is a real directory (not a link), owned by this user, that no one else can
    /// enter or write. With `create`, makes it (0700) when it does not exist.
    public static func verifyPrivateDirectory(_ path: String, create: Bool) throws(SocketTrustError) {
        var st = stat()
        if lstat(path, &st) != 0 {
            guard errno == ENOENT else { throw .directoryUnsafe(path: path, reason: String(cString: strerror(errno))) }
            guard create else { throw .directoryMissing(path: path) }
            if mkdir(path, 0o700) != 0, errno != EEXIST {
                throw .cannotCreateDirectory(path: path, reason: String(cString: strerror(errno)))
            }
            // Whoever made it (us, or someone faster), it is judged as found.
            guard lstat(path, &st) == 0 else { throw .directoryUnsafe(path: path, reason: String(cString: strerror(errno))) }
        }
        let kind = st.st_mode & S_IFMT
        if kind == S_IFLNK { throw .directoryUnsafe(path: path, reason: "it is a symbolic link") }
        guard kind == S_IFDIR else { throw .directoryUnsafe(path: path, reason: "it is not a directory") }
        guard st.st_uid == geteuid() else { throw .directoryUnsafe(path: path, reason: "it belongs to uid \(st.st_uid)") }
        let mode = st.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw .directoryUnsafe(path: path, reason: "its mode is \(String(mode, radix: 8)), open to others (want 700)")
        }
    }

    /// Checks the location's private directory (creating it if the location allows that).
    public static func verify(_ location: SocketLocation, create: Bool) throws(SocketTrustError) {
        guard location.path.utf8.count <= 107 else { throw .pathTooLong(path: location.path) }
        if let dir = location.privateDirectory {
            try verifyPrivateDirectory(dir, create: create && location.createsDirectory)
        }
    }

    /// What a client checks before sending: the socket file itself is a socket of this user.
    public static func verifySocketFile(_ path: String) throws(SocketTrustError) {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw .unreachable(path: path, reason: String(cString: strerror(errno))) }
        let kind = st.st_mode & S_IFMT
        if kind == S_IFLNK { throw .symlink(path: path) }
        guard kind == S_IFSOCK else { throw .notASocket(path: path) }
        guard st.st_uid == geteuid() else { throw .foreignOwner(path: path, owner: st.st_uid) }
    }

    /// Connects a blocking, close-on-exec stream socket to a dashboard that runs as this user: the
    /// default directory is private, the socket file is ours, and the listening process (by
    /// SO_PEERCRED, which no file trick can fake) has our uid. Anything else is refused unsent.
    public static func connect(_ location: SocketLocation) -> Result<Int32, SocketTrustError> {
        do throws(SocketTrustError) {
            try verify(location, create: false)
            try verifySocketFile(location.path)
        } catch {
            return .failure(error)
        }
        guard let fd = connectUnixSocket(location.path) else {
            return .failure(.unreachable(path: location.path, reason: String(cString: strerror(errno))))
        }
        #if canImport(Glibc)
        var peer: UInt32 = 0
        if bt_peer_uid(fd, &peer) == 0, peer != geteuid() {
            close(fd)
            return .failure(.foreignPeer(path: location.path, peer: peer))
        }
        #endif
        return .success(fd)
    }
}

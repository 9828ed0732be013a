#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files bfftop appends to (recordings, the alarm log) at paths a user chose, often in a shared
/// directory such as /tmp. Another user could have put a symbolic link there first (to the owner's
/// ~/.bashrc, say) or a file of their own that they read: the file is opened without following a
/// link and used only if it is this user's regular file. New files are created 0600.
public enum PrivateFile {
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case symlink(path: String)
        case notARegularFile(path: String)
        case foreignOwner(path: String, owner: UInt32)
        case system(path: String, reason: String)

        public var description: String {
            switch self {
            case .symlink(let p), .notARegularFile(let p), .foreignOwner(let p, _), .system(let p, _): "\(TerminalSafe.clean(p)): \(reason)"
            }
        }

        /// What is wrong, without the path.
        public var reason: String {
            switch self {
            case .symlink: "it is a symbolic link; refusing to write through it"
            case .notARegularFile: "not a regular file"
            case .foreignOwner(_, let o): "it belongs to uid \(o), not to you (uid \(geteuid())); refusing to write to it"
            case .system(_, let r): r
            }
        }
    }

    /// Opens `path` for appending (creating it 0600), close-on-exec.
    public static func openForAppend(_ path: String) -> Result<Int32, Failure> {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0o600)
        guard fd >= 0 else {
            if errno == ELOOP { return .failure(.symlink(path: path)) }
            return .failure(.system(path: path, reason: String(cString: strerror(errno))))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failure(.system(path: path, reason: reason))
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .failure(.notARegularFile(path: path))
        }
        guard st.st_uid == geteuid() else {
            close(fd)
            return .failure(.foreignOwner(path: path, owner: st.st_uid))
        }
        // O_NONBLOCK only kept a FIFO from blocking the open; writes to a regular file ignore it.
        _ = fcntl(fd, F_SETFL, O_APPEND)
        return .success(fd)
    }
}

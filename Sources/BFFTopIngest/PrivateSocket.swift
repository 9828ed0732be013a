#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BFFTopEngine
import BFFTopWire
import NIOCore
import NIOPosix

/// A listening Unix socket that no one else can reach from its first instant.
///
/// `bind` creates the socket file with the umask's mode (0777 under `umask 000`), and narrowing it
/// with `chmod` afterwards leaves a window in which another user's connection gets in and stays.
/// So the socket is bound inside a fresh 0700 directory beside the final path (no one else can
/// reach into it), narrowed to 0600 there, then hard-linked into place: `link` fails if the path
/// exists, so a socket someone created meanwhile is never replaced, and no one ever sees the
/// socket without its final mode. The staging directory is removed at once.
package struct PrivateSocketStaging {
    package let finalPath: String
    let directory: String
    package var stagingPath: String { directory + "/s" }

    /// Makes the staging directory next to `finalPath` (same file system, so `link` works).
    package init(for finalPath: String) throws(IngestError) {
        self.finalPath = finalPath
        let parent: String
        if let slash = finalPath.lastIndex(of: "/") {
            parent = slash == finalPath.startIndex ? "/" : String(finalPath[..<slash])
        } else {
            parent = "."
        }
        var template = Array((parent == "/" ? "/.bfftop-XXXXXX" : parent + "/.bfftop-XXXXXX").utf8CString)
        guard template.count - 1 + 2 <= 107 else { throw .pathTooLong(path: finalPath) }
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        guard made else { throw .bindFailed(path: finalPath, reason: "cannot create a private staging directory in \(parent): \(String(cString: strerror(errno)))") }
        directory = String(cString: template)
    }

    /// Narrows the bound socket to 0600 and links it into place; returns who it is (to remove only
    /// our own socket later). The staging directory is gone afterwards, whatever happened.
    package func publish() throws(IngestError) -> PublishedSocket {
        defer { abandon() }
        guard chmod(stagingPath, 0o600) == 0 else { throw .bindFailed(path: finalPath, reason: String(cString: strerror(errno))) }
        guard link(stagingPath, finalPath) == 0 else {
            if errno == EEXIST { throw .takenMeanwhile(path: finalPath) }
            throw .bindFailed(path: finalPath, reason: "cannot link the socket into place: \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard lstat(finalPath, &st) == 0 else { throw .bindFailed(path: finalPath, reason: String(cString: strerror(errno))) }
        return PublishedSocket(path: finalPath, device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// Removes the staging socket and directory (after a failed bind, too).
    package func abandon() {
        unlink(stagingPath)
        rmdir(directory)
    }
}

/// A socket file bfftop put in place: removed on exit only while it is still that file, so an
/// instance never unlinks a socket that another one (or another program) owns now.
public struct PublishedSocket: Sendable, Equatable {
    public let path: String
    let device: UInt64
    let inode: UInt64

    public func remove() {
        var st = stat()
        guard lstat(path, &st) == 0, UInt64(st.st_dev) == device, UInt64(st.st_ino) == inode else { return }
        unlink(path)
    }
}

extension ServerBootstrap {
    /// Binds a listening Unix socket at `path` that is private from its first instant
    /// (`PrivateSocketStaging`): bound in the staging directory, then linked into place.
    func bindPrivate(_ path: String) async throws(IngestError) -> (channel: any Channel, published: PublishedSocket) {
        let staging = try PrivateSocketStaging(for: path)
        let channel: any Channel
        do {
            channel = try await bind(unixDomainSocketPath: staging.stagingPath).get()
        } catch {
            staging.abandon()
            throw .bindFailed(path: path, reason: SocketPath.reason(error))
        }
        do throws(IngestError) {
            return (channel, try staging.publish())
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }
}

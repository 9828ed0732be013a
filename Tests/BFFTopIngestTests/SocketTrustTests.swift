import BFFTopDemo
import BFFTopEngine
import BFFTopIngest
import BFFTopStats
import BFFTopWire
import Foundation
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The file-system side of the doors: private directories, whose socket a client trusts, live
/// datagram sockets, sockets removed only while ours, files never written through a link. The
/// attacks themselves, by a second user against the real binary, are in SecurityEndToEndTests.
@Suite(.serialized) struct SocketTrustTests {
    let group = MultiThreadedEventLoopGroup.singleton

    func tempDir(_ name: String) -> String {
        let d = "/tmp/bfftop-test-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        return d
    }

    /// A Unix socket bound (and listening, for stream) at `path`, as another program would hold it.
    func holdSocket(_ path: String, type: Int32) -> Int32 {
        let fd = socket(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        if type == Int32(SOCK_STREAM.rawValue) { listen(fd, 8) }
        return fd
    }

    func inode(_ path: String) -> UInt64? {
        var st = stat()
        return lstat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    @Test func theDefaultDirectoryIsMadePrivateAndVerified() throws {
        let dir = tempDir("dflt")
        defer { rmdir(dir) }
        let loc = SocketLocation(path: dir + "/bfftop.sock", privateDirectory: dir, createsDirectory: true)
        try SocketTrust.verify(loc, create: true)
        var st = stat()
        #expect(lstat(dir, &st) == 0 && st.st_mode & 0o777 == 0o700 && st.st_uid == geteuid())
        try SocketTrust.verify(loc, create: true)  // found as made: accepted again

        // Open to others: refused, with the mode named.
        chmod(dir, 0o755)
        #expect(throws: SocketTrustError.directoryUnsafe(path: dir, reason: "its mode is 755, open to others (want 700)")) {
            try SocketTrust.verify(loc, create: true)
        }
        chmod(dir, 0o700)
        // Another user's (root can give it away): refused, whoever it is.
        if geteuid() == 0 {
            chown(dir, 65534, 65534)
            #expect(throws: SocketTrustError.directoryUnsafe(path: dir, reason: "it belongs to uid 65534")) {
                try SocketTrust.verify(loc, create: true)
            }
            chown(dir, 0, 0)
        }
        // A link to a private directory is not that directory.
        let link = tempDir("link")
        symlink(dir, link)
        defer { unlink(link) }
        #expect(throws: SocketTrustError.directoryUnsafe(path: link, reason: "it is a symbolic link")) {
            try SocketTrust.verify(SocketLocation(path: link + "/bfftop.sock", privateDirectory: link, createsDirectory: true), create: true)
        }
        // $XDG_RUNTIME_DIR is never created by bfftop; a client never creates anything.
        let absent = tempDir("absent")
        #expect(throws: SocketTrustError.directoryMissing(path: absent)) {
            try SocketTrust.verify(SocketLocation(path: absent + "/bfftop.sock", privateDirectory: absent, createsDirectory: false), create: true)
        }
        #expect(throws: SocketTrustError.directoryMissing(path: absent)) {
            try SocketTrust.verify(SocketLocation(path: absent + "/bfftop.sock", privateDirectory: absent, createsDirectory: true), create: false)
        }
    }

    @Test func aListenerIsPrivateWithoutAChmodWindowAndLeavesNoStagingBehind() async throws {
        let dir = tempDir("stage")
        mkdir(dir, 0o777)
        chmod(dir, 0o1777)  // a shared directory, like /tmp
        defer { rmdir(dir) }
        // The start-up race needed a permissive umask; the umask is process-wide and other suites
        // run in parallel, so `umask 000` is tried on the real binary (SecurityEndToEndTests) instead.
        let path = dir + "/s.sock"
        let listener = try await Listener.start(path: path, sink: CollectingSink(), stats: IngestStats(), group: group)
        var st = stat()
        #expect(lstat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let entries = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(entries == ["s.sock"], "the staging directory is gone: \(entries)")
        await listener.stop()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func aClientSendsOnlyToItsOwnUsersSocket() async throws {
        let path = tempSocketPath("trust")
        let sink = CollectingSink()
        let listener = try await Listener.start(path: path, sink: sink, stats: IngestStats(), group: group)
        guard case .success(let fd) = SocketTrust.connect(SocketLocation(path: path)) else {
            Issue.record("our own socket is trusted")
            return
        }
        close(fd)
        if geteuid() == 0 {
            // The file now says it is someone else's: refused before connecting.
            chown(path, 65534, 65534)
            #expect(SocketTrust.connect(SocketLocation(path: path)) == .failure(.foreignOwner(path: path, owner: 65534)))
            let w = SocketLineWriter(path: path)
            #expect(!w.write(line("x", 1)))
            #expect(w.lastError == .foreignOwner(path: path, owner: 65534))
            #expect(w.lastError?.isRefusal == true)
            chown(path, 0, 0)
        }
        await listener.stop()
        // Nothing there: not a refusal, just no dashboard yet.
        if case .failure(let e) = SocketTrust.connect(SocketLocation(path: path)) { #expect(!e.isRefusal) } else { Issue.record("connected to nothing") }
        // A link to a socket is refused, and so is a file that is not a socket.
        let target = tempSocketPath("target")
        let holder = holdSocket(target, type: Int32(SOCK_STREAM.rawValue))
        defer { close(holder); unlink(target) }
        let link = tempSocketPath("link")
        symlink(target, link)
        defer { unlink(link) }
        #expect(SocketTrust.connect(SocketLocation(path: link)) == .failure(.symlink(path: link)))
        #expect(sink.events.isEmpty)
    }

    @Test func aLiveDatagramSocketIsNeverReplaced() async throws {
        // The Datadog agent's socket, say: a datagram socket someone reads.
        let path = tempSocketPath("dgram")
        let holder = holdSocket(path, type: Int32(SOCK_DGRAM.rawValue))
        defer { close(holder); unlink(path) }
        let before = inode(path)
        #expect(SocketPath.inspect(path) == .liveSocket)
        await #expect(throws: IngestError.alreadyListening(path: path)) {
            _ = try await DogStatsDServer.start(.datagram(path), sink: CollectingSink(), stats: IngestStats())
        }
        #expect(inode(path) == before, "the file was replaced")
        // The holder still receives what is sent to the path.
        let c = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(c) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let sent = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(c, "x:1|c", 5, 0, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(sent == 5)
        var buf = [UInt8](repeating: 0, count: 16)
        #expect(recv(holder, &buf, 16, Int32(MSG_DONTWAIT)) == 5)
    }

    @Test func aSecondInstanceNeitherReplacesNorRemovesTheFirstsSocket() async throws {
        let path = tempSocketPath("dsd2")
        let first = try await DogStatsDServer.start(.datagram(path), sink: CollectingSink(), stats: IngestStats())
        let before = inode(path)
        await #expect(throws: IngestError.alreadyListening(path: path)) {
            _ = try await DogStatsDServer.start(.datagram(path), sink: CollectingSink(), stats: IngestStats())
        }
        #expect(inode(path) == before)
        // A stale socket left by a crash is replaced; the socket that replaced ours is not removed by us.
        first.stop()
        #expect(inode(path) == nil)
        let stale = holdSocket(path, type: Int32(SOCK_DGRAM.rawValue))
        close(stale)
        #expect(SocketPath.inspect(path) == .staleSocket)
        let second = try await DogStatsDServer.start(.datagram(path), sink: CollectingSink(), stats: IngestStats())
        let mine = inode(path)
        unlink(path)
        let other = holdSocket(path, type: Int32(SOCK_DGRAM.rawValue))
        defer { close(other); unlink(path) }
        second.stop()
        #expect(inode(path) != nil && inode(path) != mine, "stop() removed a socket that was not its own")
    }

    @Test func udpListensBeyondLoopbackOnlyWhenAskedAndSaysSo() async throws {
        await #expect(throws: IngestError.beyondLoopback(address: "udp://0.0.0.0:0")) {
            _ = try await DogStatsDServer.start(.udp(host: "0.0.0.0", port: 0), sink: CollectingSink(), stats: IngestStats())
        }
        let stats = IngestStats()
        let open = try await DogStatsDServer.start(.udp(host: "0.0.0.0", port: 0), sink: CollectingSink(), stats: stats, beyondLoopback: true)
        defer { open.stop() }
        #expect(stats.snapshot().beyondLoopback == ["udp://0.0.0.0:0"])
        let local = IngestStats()
        let lo = try await DogStatsDServer.start(.udp(host: "127.0.0.1", port: 0), sink: CollectingSink(), stats: local)
        defer { lo.stop() }
        #expect(local.snapshot().beyondLoopback.isEmpty)
        #expect(NetworkExposure.isLoopback("127.9.9.9") && NetworkExposure.isLoopback("::1") && !NetworkExposure.isLoopback("10.0.0.1"))
    }

    @Test func filesAreNeverWrittenThroughALinkOrIntoAnotherUsersFile() throws {
        let victim = tempDir("victim")
        try "keep me".write(toFile: victim, atomically: true, encoding: .utf8)
        defer { unlink(victim) }
        let planted = tempDir("planted")
        symlink(victim, planted)
        defer { unlink(planted) }
        #expect(PrivateFile.openForAppend(planted) == .failure(.symlink(path: planted)))
        #expect(throws: AlarmLogError(path: planted, reason: PrivateFile.Failure.symlink(path: planted).reason)) {
            _ = try AlarmLog(path: planted)
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me")
        if geteuid() == 0 {
            chown(victim, 65534, 65534)
            #expect(PrivateFile.openForAppend(victim) == .failure(.foreignOwner(path: victim, owner: 65534)))
        }
        let fresh = tempDir("fresh")
        defer { unlink(fresh) }
        guard case .success(let fd) = PrivateFile.openForAppend(fresh) else {
            Issue.record("a new file is created")
            return
        }
        close(fd)
        var st = stat()
        #expect(lstat(fresh, &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    @Test func theAlarmLogCarriesNoControlCharactersFromNames() {
        let t = AlarmTransition(
            time: 1_732_460_000, rule: "p99 \u{1B}]0;x\u{07}", endpoint: "\u{1B}[2JGET /\u{202E}a\u{9B}1m", severity: .critical, phase: .firing,
            metric: .p99, value: 1200, threshold: 1000, comparison: .greater)
        let l = AlarmLog.line(t)
        #expect(l.contains("GET /"))
        #expect(TerminalSafe.isClean(l), "\(l.debugDescription)")
    }
}

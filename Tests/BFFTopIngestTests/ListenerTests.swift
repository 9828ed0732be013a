import BFFTopEngine
import BFFTopIngest
import BFFTopWire
import Foundation
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct ListenerTests {
    let group = MultiThreadedEventLoopGroup.singleton

    @Test func manyConnectionsAtOnceLoseNothing() async throws {
        let path = tempSocketPath("many")
        let sink = CollectingSink()
        let stats = IngestStats()
        let listener = try await Listener.start(path: path, sink: sink, stats: stats, group: group)
        let clients = (0..<300).compactMap { _ in RawClient(path: path) }
        #expect(clients.count == 300)
        #expect(await eventually { stats.snapshot().connections.count == 300 })
        await withTaskGroup(of: Void.self) { g in
            for (c, client) in clients.enumerated() {
                g.addTask {
                    // Lines split across writes at awkward places, to exercise framing.
                    let text = (0..<50).map { line("ep-\(c % 7)", $0) }.joined()
                    let bytes = Array(text.utf8)
                    var i = 0
                    while i < bytes.count {
                        let n = min(bytes.count - i, 37 + c % 50)
                        client.send(Array(bytes[i..<(i + n)]))
                        i += n
                    }
                }
            }
        }
        #expect(await eventually { sink.events.count == 300 * 50 })
        let s = stats.snapshot()
        #expect(s.events == 15_000)
        #expect(s.malformed == 0)
        for c in clients { c.close() }
        #expect(await eventually { stats.snapshot().connections.isEmpty })
        await listener.stop()
        #expect(access(path, F_OK) != 0, "socket file removed on stop")
    }

    @Test func malformedLinesAreCountedPerConnectionAndAffectNothingElse() async throws {
        let path = tempSocketPath("bad")
        let sink = CollectingSink()
        let stats = IngestStats()
        let listener = try await Listener.start(path: path, sink: sink, stats: stats, group: group)
        defer { listener.stopNow() }
        let good = try #require(RawClient(path: path))
        let bad = try #require(RawClient(path: path))
        bad.send(line("a", 1) + "garbage\n" + #"{"v":1,"type":"invocation","ts":1,"endpoint":"a","duration_ms":"slow"}"# + "\n" + line("a", 2))
        bad.send([0xFF, 0xFE, 0x0A])
        good.send(line("b", 1) + line("b", 2))
        #expect(await eventually { sink.events.count == 4 && stats.snapshot().malformed == 3 })
        let s = stats.snapshot()
        let badConn = s.connections.first { $0.malformed > 0 }
        #expect(badConn?.malformed == 3)
        #expect(badConn?.events == 2)
        #expect(s.connections.filter { $0.malformed == 0 }.count == 1)
        #expect(s.lastMalformed?.reason.contains("'{'") == true)
        good.close()
        bad.close()
    }

    @Test func anOverlongLineIsSkippedToItsNewline() async throws {
        let path = tempSocketPath("long")
        let sink = CollectingSink()
        let stats = IngestStats()
        let listener = try await Listener.start(path: path, sink: sink, stats: stats, group: group)
        defer { listener.stopNow() }
        let c = try #require(RawClient(path: path))
        let huge = #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"pad":""# + String(repeating: "p", count: 3 << 20) + "\"}\n"
        c.send(line("before", 1) + huge + line("after", 2))
        #expect(await eventually { sink.events.count == 2 && stats.snapshot().malformed == 1 })
        #expect(sink.events.map(\.endpoint) == ["before", "after"])
        #expect(stats.snapshot().lastMalformed?.reason.contains("longer than") == true)
        c.close()
    }

    @Test func aLineCutByADisconnectIsMalformedAndACompleteLastLineCounts() async throws {
        let path = tempSocketPath("cut")
        let sink = CollectingSink()
        let stats = IngestStats()
        let listener = try await Listener.start(path: path, sink: sink, stats: stats, group: group)
        defer { listener.stopNow() }
        let a = try #require(RawClient(path: path))
        a.send(line("a", 1) + #"{"v":1,"type":"invocation","ts":1,"endp"#)
        a.close()
        let b = try #require(RawClient(path: path))
        b.send(line("b", 1) + line("b", 2).dropLast())  // final line without newline
        b.close()
        #expect(await eventually { sink.events.count == 3 && stats.snapshot().malformed == 1 })
        #expect(stats.snapshot().lastMalformed?.reason.contains("cut short") == true)
    }

    @Test func socketFileIsPrivateAndRefusesToClobber() async throws {
        let path = tempSocketPath("mode")
        let stats = IngestStats()
        let listener = try await Listener.start(path: path, sink: CollectingSink(), stats: stats, group: group)
        var st = stat()
        #expect(lstat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        // A second bfftop on the same path is refused with a clear message.
        await #expect(throws: IngestError.alreadyListening(path: path)) {
            _ = try await Listener.start(path: path, sink: CollectingSink(), stats: IngestStats(), group: group)
        }
        await listener.stop()

        // A regular file is never replaced.
        let file = tempSocketPath("file")
        #expect(FileManager.default.createFile(atPath: file, contents: Data("keep me".utf8)))
        defer { unlink(file) }
        await #expect(throws: IngestError.notASocket(path: file)) {
            _ = try await Listener.start(path: file, sink: CollectingSink(), stats: IngestStats(), group: group)
        }
        #expect(FileManager.default.contents(atPath: file) == Data("keep me".utf8))
    }

    @Test func aStaleSocketIsRemoved() async throws {
        let path = tempSocketPath("stale")
        // Bind a socket and close it without unlinking: what a crashed bfftop leaves behind.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(fd)
        #expect(SocketPath.inspect(path) == .staleSocket)
        let sink = CollectingSink()
        let listener = try await Listener.start(path: path, sink: sink, stats: IngestStats(), group: group)
        let c = try #require(RawClient(path: path))
        c.send(line("x", 1))
        #expect(await eventually { sink.events.count == 1 })
        c.close()
        await listener.stop()
    }

    @Test func defaultPathFollowsFlagsEnvironmentAndXDG() {
        #expect(SocketPath.resolve(explicit: "/a.sock", environment: ["BFFTOP_SOCKET": "/b.sock"]) == SocketLocation(path: "/a.sock"))
        #expect(SocketPath.resolve(explicit: nil, environment: ["BFFTOP_SOCKET": "/b.sock", "XDG_RUNTIME_DIR": "/run/u"]) == SocketLocation(path: "/b.sock"))
        // The default location names the private directory that must be verified before use.
        #expect(SocketPath.resolve(explicit: nil, environment: ["XDG_RUNTIME_DIR": "/run/u"])
            == SocketLocation(path: "/run/u/bfftop.sock", privateDirectory: "/run/u", createsDirectory: false))
        #expect(SocketPath.resolve(explicit: nil, environment: [:])
            == SocketLocation(path: "/tmp/bfftop-\(geteuid())/bfftop.sock", privateDirectory: "/tmp/bfftop-\(geteuid())", createsDirectory: true))
    }

    @Test func subscriberReadsFromAServedSocketAndReconnects() async throws {
        // An emitter that serves the protocol: a bfftop listener stands in for a relay here, and we
        // feed it through a second hop to prove both directions share one path.
        let path = tempSocketPath("serve")
        let serverFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(serverFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        listen(serverFD, 4)
        defer {
            close(serverFD)
            unlink(path)
        }
        let sink = CollectingSink()
        let stats = IngestStats()
        let sub = Subscriber.start(path: path, sink: sink, stats: stats, group: group)
        defer { sub.stop() }
        for round in 0..<2 {
            // Poll rather than block: a blocked pool thread could starve the subscriber's own task.
            var conn: Int32 = -1
            let deadline = Date().addingTimeInterval(10)
            while conn < 0, Date() < deadline {
                var pfd = pollfd(fd: serverFD, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, 0) > 0 { conn = accept(serverFD, nil, nil) } else { try? await Task.sleep(nanoseconds: 10_000_000) }
            }
            #expect(conn >= 0)
            let text = line("sub-\(round)", 1) + line("sub-\(round)", 2)
            _ = text.utf8CString.withUnsafeBytes { write(conn, $0.baseAddress, $0.count - 1) }
            #expect(await eventually { sink.events.count == 2 * (round + 1) })
            close(conn)  // the emitter goes away; the subscriber must come back
        }
        #expect(stats.snapshot().subscriptions.first?.attempts ?? 0 >= 2)
    }
}

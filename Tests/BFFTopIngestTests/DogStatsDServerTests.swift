import BFFTopEngine
import BFFTopIngest
import BFFTopWire
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

final class CountingSink: EventSink {
    let events = Atomic<Int>(0)
    func deliver(_ batch: WireEventBatch) { events.add(batch.count, ordering: .relaxed) }
}

/// Real sockets: what arrives is counted exactly; what the kernel dropped is counted too, so
/// received + dropped = sent under overload.
@Suite(.serialized) struct DogStatsDServerTests {
    func sendUDP(port: UInt16, _ lines: [String]) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        var sent = 0
        for l in lines {
            let n = l.withCString { p in
                withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, p, strlen(p), Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                } }
            }
            if n > 0 { sent += 1 }
        }
        return sent
    }

    @Test func udpFloodIsAccountedFor() async throws {
        let stats = IngestStats()
        let sink = CountingSink()
        let port = UInt16(20_000 + Int(getpid()) % 20_000)
        let server = try await DogStatsDServer.start(.udp(host: "127.0.0.1", port: port), sink: sink, stats: stats)
        defer { server.stop() }
        let lines = (0..<50_000).map { "api.latency:\($0 % 500)|ms|#endpoint:/api/x,status:200" }
        let sent = sendUDP(port: port, lines)
        var d = DogStatsDStatus()
        for _ in 0..<50 {
            usleep(100_000)
            d = stats.snapshot().dogstatsd ?? DogStatsDStatus()
            if d.metrics + d.kernelDropped >= sent { break }
        }
        usleep(1_200_000)  // the drop counter is read once a second
        d = stats.snapshot().dogstatsd ?? DogStatsDStatus()
        #expect(d.metrics + d.kernelDropped == sent, "packets \(d.packets) truncated \(d.truncated) malformed \(d.malformed) received \(d.metrics) + dropped by the kernel \(d.kernelDropped) = sent \(sent)")
        #expect(sink.events.load(ordering: .relaxed) == d.mapped)
        #expect(d.listeners == ["udp://127.0.0.1:\(port)"])
    }

    @Test func streamFramesAndOversizeFrames() async throws {
        let stats = IngestStats()
        let sink = CountingSink()
        let path = "/tmp/bfftop-test-\(getpid())-dsd-stream.sock"
        let server = try await DogStatsDServer.start(.stream(path), sink: sink, stats: stats)
        defer { server.stop() }
        guard let fd = connectUnixSocket(path) else {
            Issue.record("cannot connect")
            return
        }
        defer { close(fd) }
        func frame(_ s: String) -> [UInt8] {
            let b = Array(s.utf8)
            return [UInt8(b.count & 0xFF), UInt8(b.count >> 8 & 0xFF), UInt8(b.count >> 16 & 0xFF), UInt8(b.count >> 24 & 0xFF)] + b
        }
        var bytes = frame("a.dur:10|ms|#endpoint:/a\na.dur:20|ms|#endpoint:/a") + frame("bad line")
        bytes += [0xFF, 0xFF, 0xFF, 0x7F]  // a 2 GB frame: the connection is closed
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        for _ in 0..<40 where (stats.snapshot().dogstatsd?.malformed ?? 0) < 2 { usleep(50_000) }
        let d = stats.snapshot().dogstatsd
        #expect(d?.metrics == 2 && d?.mapped == 2 && d?.packets == 2)
        #expect(d?.malformed == 2, "the bad line and the oversize frame")
        #expect(stats.snapshot().lastMalformed?.reason.contains("over the 64 KiB cap") == true)
    }

    static func threadCount() -> Int {
        guard let f = fopen("/proc/self/status", "r") else { return -1 }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, 256, f) != nil {
            let s = String(cString: line)
            if s.hasPrefix("Threads:") { return Int(s.dropFirst(8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
        }
        return -1
    }

    @Test func idleStreamConnectionsCostNoThreads() async throws {
        let stats = IngestStats()
        let sink = CountingSink()
        let path = "/tmp/bfftop-test-\(getpid())-dsd-idle.sock"
        let server = try await DogStatsDServer.start(.stream(path), sink: sink, stats: stats)
        defer { server.stop() }
        let before = Self.threadCount()
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        for _ in 0..<300 { if let fd = connectUnixSocket(path) { fds.append(fd) } }
        #expect(fds.count == 300)
        usleep(300_000)
        let after = Self.threadCount()
        #expect(after - before < 10, "\(before) threads before 300 idle connections, \(after) after")
        // A frame split across two writes on the last connection is still read whole.
        let msg = Array("a.dur:10|ms|#endpoint:/a".utf8)
        let bytes = [UInt8(msg.count), 0, 0, 0] + msg
        _ = bytes.withUnsafeBytes { write(fds[299], $0.baseAddress, 6) }
        usleep(50_000)
        _ = bytes.withUnsafeBytes { write(fds[299], $0.baseAddress! + 6, bytes.count - 6) }
        for _ in 0..<40 where (stats.snapshot().dogstatsd?.mapped ?? 0) < 1 { usleep(50_000) }
        #expect(stats.snapshot().dogstatsd?.mapped == 1)
    }
}

@Suite struct EMFOnTheSocketTests {
    @Test func emfLinesOnTheNativeSocketBecomeEvents() {
        var d = LineDecoder()
        let line = #"{"function_name":"orders-fn","_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Dimensions":[["function_name"]],"Metrics":[{"Name":"Latency","Unit":"Seconds"},{"Name":"ColdStart","Unit":"Count"}],"Namespace":"x"}]},"Latency":[0.25,0.5],"ColdStart":1}"# + "\n"
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { d.consume($0) }
        let (events, malformed, _) = d.take()
        #expect(malformed.isEmpty)
        #expect(events.count == 2)
        if case .invocation(let i)? = events.first {
            #expect(i.endpoint == "orders-fn" && i.durationMs == 250 && i.coldStart && i.endTs == 1_700_000_000)
        }
    }
}

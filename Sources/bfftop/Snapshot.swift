#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BFFTopIngest
import BFFTopWire
import FoundationEssentials

/// `bfftop snapshot`: what a running dashboard shows, as one JSON object on stdout, for scripts
/// (`bfftop snapshot | jq '.endpoints[] | select(.error_rate > 0.01)'`).
struct Snapshot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what a running dashboard shows as JSON (totals, endpoints, firing alarms), for scripts.",
        discussion: "The figures are the dashboard's current frame, over the window it shows. Exit status 1 when no dashboard answers.")

    @Option(help: "Socket of the dashboard (default as for `watch`).")
    var socket: String?

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 5

    func run() async throws {
        let location = SocketPath.resolve(explicit: socket, environment: ProcessInfo.processInfo.environment)
        let fd: Int32
        switch SocketTrust.connect(location) {
        case .success(let f): fd = f
        case .failure(let e): throw CLIError("cannot reach a dashboard on \(location.path): \(e)")
        }
        defer { close(fd) }
        let ask = Array(#"{"v":1,"type":"snapshot_request"}"#.utf8) + [0x0A]
        guard ask.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == ask.count else {
            throw CLIError("cannot write to \(location.path): \(String(cString: strerror(errno)))")
        }
        // One line back; bounded in time and size (a dashboard with 2,000 endpoints answers ~2 MB).
        var reply: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        let deadline = monotonicSeconds() + max(0.1, min(timeout, 600))
        while !reply.contains(0x0A), reply.count < 64 << 20 {
            let left = deadline - monotonicSeconds()
            guard left > 0 else { throw CLIError("no answer from \(location.path) within \(formatNumber(timeout)) s (is it a bfftop dashboard?)") }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(left * 1000)) > 0 else { continue }
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw CLIError("\(location.path) closed the connection without an answer") }
            reply += buf[0..<n]
        }
        let line = reply.prefix { $0 != 0x0A }
        printOut(String(decoding: line, as: UTF8.self))
    }
}

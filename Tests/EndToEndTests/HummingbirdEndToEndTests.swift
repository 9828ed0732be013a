import Foundation
import Testing

/// A real Hummingbird 2 server (Examples/hummingbird-bff) instrumented only through
/// `BFFTopMetricsFactory`, beside a real dashboard; requests made here are compared with what the
/// dashboard recorded. `.ci/run` builds the example first; otherwise this test builds it (minutes).
@Suite struct HummingbirdEndToEndTests {
    let bin = TmuxDriver.binary
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/hummingbird-bff").path

    @Test func hummingbirdRoutesThroughTheMetricsFactory() throws {
        let exe = Self.example + "/.build/debug/HummingbirdBFF"
        if access(exe, X_OK) != 0 {
            let b = try shell("swift build --package-path \(Self.example) 2>&1 | tail -5")
            #expect(access(exe, X_OK) == 0, "the example builds: \(b.output)")
        }
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-hb.sock", rec = "/tmp/bfftop-e2e-\(id)-hb.ndjson"
        let port = freeLoopbackPort()
        defer { unlink(rec) }
        let tmux = TmuxDriver(name: "hb")
        defer {
            _ = try? shell("pkill -f 'HummingbirdBFF \(port)'")
            tmux.stop(killing: sock)
        }
        try tmux.start("\(bin) watch --socket \(sock) --record \(rec) --refresh 0.2; sleep 10", width: 130, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        _ = try shell("BFFTOP_SOCKET=\(sock) \(exe) \(port) > /dev/null 2>&1 &")
        var up = false
        for _ in 0..<100 where !up {
            up = (try shell("curl -s -o /dev/null -w '%{http_code}' localhost:\(port)/api/slots")).output == "200"
            if !up { usleep(100_000) }
        }
        #expect(up, "the example server answers")
        var bookingStatuses: [String] = []
        for i in 0..<20 {
            _ = try shell("curl -s -o /dev/null localhost:\(port)/api/slots/\(i)")
            bookingStatuses.append((try shell("curl -s -o /dev/null -w '%{http_code}' -X POST localhost:\(port)/api/bookings")).output)
        }
        let shown = tmux.waitFor { $0.contains("GET /api/slots/{id}") && $0.contains("POST /api/bookings") }
        #expect(shown.ok, "\(shown.screen)")
        usleep(800_000)
        tmux.keys("q")
        usleep(600_000)
        let r = try shell("\(bin) report \(rec) --format csv 2>/dev/null")
        let rows = reportRows(r.output)
        #expect(!rows.isEmpty, "no report: \(r.output)")
        func row(_ name: String) -> [String: String] { rows[name] ?? [:] }
        #expect(row("GET /api/slots/{id}")["count"] == "20", "\(r.output)")
        let failed = bookingStatuses.filter { $0 == "503" }.count
        #expect(row("POST /api/bookings")["count"] == "20" && row("POST /api/bookings")["errors"] == "\(failed)", "\(r.output)")
        #expect(row("POST /api/bookings")["service"] == "hb-bff")
    }
}

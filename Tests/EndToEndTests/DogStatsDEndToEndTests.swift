import Foundation
import Testing

/// The real `datadog` Python client (DogStatsd) sending over the datagram and the stream socket to the
/// real dashboard; the dashboard records what it mapped and `bfftop report` reads the recording back,
/// so the figures are compared exactly with what the client sent.
@Suite struct DogStatsDEndToEndTests {
    let bin = TmuxDriver.binary

    static let client = #"""
    import sys, time
    from datadog import DogStatsd
    dgram, stream = sys.argv[1], sys.argv[2]
    # Buffered: messages joined into packets of up to 8 KiB, so a few datagrams carry everything and a
    # busy machine cannot overflow the 11-datagram Unix socket queue while the reader is descheduled.
    opts = dict(disable_telemetry=True, disable_aggregation=True, disable_buffering=False, disable_background_sender=True)
    a = DogStatsd(socket_path=dgram, **opts)
    b = DogStatsd(socket_path="unixstream://" + stream, **opts)
    for i in range(400):
        a.timing("api.request.duration", 5 + (i * 37) % 300, tags=["endpoint:GET /api/slots", "status:200" if i % 50 else "status:503"])
    for i in range(200):
        b.distribution("fn.duration", 20 + (i * 13) % 500, tags=["functionname:resize", "cold_start:true" if i % 25 == 0 else "cold_start:false"])
    b.increment("lambda.errors", 3, tags=["functionname:resize"])
    a.gauge("queue.depth", 5, tags=["queue:jobs"])
    a.event("deploy", "v2 rolled out")
    a.service_check("db.up", 0)
    a.flush(); b.flush(); a.close_socket(); b.close_socket()
    print("sent")
    """#

    @Test func datadogClientOverDatagramAndStream() throws {
        guard (try shell("python3 -c 'import datadog'")).status == 0 else {
            Issue.record("the datadog Python package is required (pip install datadog)")
            return
        }
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-dsd.sock", dgram = "/tmp/bfftop-e2e-\(id)-dsd-g.sock", stream = "/tmp/bfftop-e2e-\(id)-dsd-s.sock"
        let rec = "/tmp/bfftop-e2e-\(id)-dsd.ndjson", script = "/tmp/bfftop-e2e-\(id)-dsd.py"
        defer { for f in [rec, script] { unlink(f) } }
        try Self.client.write(toFile: script, atomically: true, encoding: .utf8)
        let tmux = TmuxDriver(name: "dsd")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --dogstatsd \(dgram) --dogstatsd-stream \(stream) --record \(rec) --refresh 0.2; sleep 10",
                       width: 140, height: 36)
        #expect(tmux.waitFor { $0.contains("Waiting for events") && $0.contains("dsd 0 rcvd") }.ok, "header shows the DogStatsD counters")
        let sent = try shell("python3 \(script) \(dgram) \(stream)")
        #expect(sent.output.contains("sent"), "\(sent.output)")
        // The counters are the receiver's; the panes follow when the engine has aggregated the events.
        let shown = tmux.waitFor { $0.contains("dsd 604 rcvd, 601 mapped") && $0.contains("GET /api/slots") && $0.contains("resize") }
        #expect(shown.ok, "602 metrics + 1 event + 1 service check received, 601 mapped (the gauge is raw):\n\(shown.screen)")
        #expect(shown.screen.contains("GET /api/slots") && shown.screen.contains("resize"))
        tmux.keys("A", "A", "A")
        let raw = tmux.waitFor { $0.contains("Raw metrics 1") && $0.contains("queue.depth") }
        #expect(raw.ok, "unmapped metrics are listed, not lost:\n\(raw.screen)")
        tmux.keys("q")
        usleep(600_000)
        // Ground truth from what the client sent.
        let slots = (0..<400).map { Double(5 + ($0 * 37) % 300) }.sorted()
        let resize = (0..<200).map { Double(20 + ($0 * 13) % 500) }.sorted()
        func q(_ v: [Double], _ p: Double) -> Double { v[max(1, Int((p * Double(v.count)).rounded(.up))) - 1] }
        let r = try shell("\(bin) report \(rec) --format csv 2>/dev/null")
        let rows = reportRows(r.output)
        #expect(!rows.isEmpty, "no report: \(r.output)")
        func row(_ name: String) -> [String: String] { rows[name] ?? [:] }
        let s = row("GET /api/slots"), f = row("resize")
        #expect(s["count"] == "400" && s["errors"] == "8", "\(s)")
        #expect(abs((Double(s["p99_ms"] ?? "") ?? 0) - q(slots, 0.99)) / q(slots, 0.99) <= 0.01, "\(s)")
        #expect(Double(s["max_ms"] ?? "") == slots.last)
        #expect(f["count"] == "200" && f["errors"] == "3" && f["cold"] == "8", "200 timed requests, 3 of them counted as failed: \(f)")
        #expect(abs((Double(f["p50_ms"] ?? "") ?? 0) - q(resize, 0.5)) / q(resize, 0.5) <= 0.01, "\(f)")
    }
}

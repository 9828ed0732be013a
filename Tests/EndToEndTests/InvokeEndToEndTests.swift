import Foundation
import Testing

/// `bfftop invoke` against real local servers: an HTTP server on loopback and one that speaks the
/// Lambda Invoke API shape (with a base64 `X-Amz-Log-Result` tail), both in Python, counting what
/// they receive so the test can check what was sent.
@Suite(.serialized) struct InvokeEndToEndTests {
    let bin = TmuxDriver.binary

    static let server = #"""
    import base64, json, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    lock = threading.Lock()
    stats = {"count": 0, "current": 0, "max": 0, "bodies": []}
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def do_GET(self): self.serve()
        def do_POST(self): self.serve()
        def serve(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n)
            if self.path == "/stats":
                return self.reply(200, json.dumps(stats).encode())
            with lock:
                stats["count"] += 1; stats["current"] += 1; stats["max"] = max(stats["max"], stats["current"]); k = stats["count"]
                stats["bodies"].append(body.decode())
            try:
                time.sleep(0.05)
                if self.path.startswith("/slow"): time.sleep(3)
                if self.path.startswith("/fail"): return self.reply(503, b'{"error":"upstream down"}')
                if "/2015-03-31/functions/" in self.path:
                    rid = "1f2e3d4c-0000-4000-8000-%012d" % k
                    report = "REPORT RequestId: %s\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 70 MB\t" % rid
                    if k == 1: report += "Init Duration: 180.00 ms\t"
                    tail = "START RequestId: %s Version: $LATEST\nEND RequestId: %s\n%s\n" % (rid, rid, report)
                    headers = {"X-Amz-Log-Result": base64.b64encode(tail.encode()).decode(), "X-Amz-Executed-Version": "$LATEST"}
                    if b'"fail"' in body:
                        headers["X-Amz-Function-Error"] = "Unhandled"
                        return self.reply(200, b'{"errorMessage":"kaboom","errorType":"Error"}', headers)
                    return self.reply(200, json.dumps({"ok": True, "path": self.path}).encode(), headers)
                self.reply(200, b"hello from " + self.path.encode())
            finally:
                with lock: stats["current"] -= 1
        def reply(self, status, body, headers={}):
            self.send_response(status)
            for k, v in headers.items(): self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    open(sys.argv[1] + ".tmp", "w").write(str(srv.server_address[1]))
    import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()
    """#

    /// Starts a fresh server; returns its base URL and a stop function.
    func startServer(_ tag: String) throws -> (url: String, stop: () -> Void) {
        let script = "/tmp/bfftop-e2e-\(getpid())-\(tag).py"
        let portFile = script + ".port"
        try Self.server.write(toFile: script, atomically: true, encoding: .utf8)
        unlink(portFile)
        _ = try shell("python3 \(script) \(portFile) > /dev/null 2>&1 &")
        for _ in 0..<100 {
            if let p = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(p) {
                return ("http://127.0.0.1:\(port)", {
                    _ = try? shell("pkill -f \(script)")
                    unlink(script)
                    unlink(portFile)
                })
            }
            usleep(50_000)
        }
        throw E2EError("test server did not start")
    }

    func stats(_ base: String) throws -> [String: Any] {
        let r = try shell("curl -s \(base)/stats")
        return (try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any]) ?? [:]
    }

    @Test func httpOnceAndBurstCountedExactly() throws {
        let (base, stop) = try startServer("http")
        defer { stop() }
        let one = try shell("\(bin) invoke --url \(base)/api/slots")
        #expect(one.status == 0, "\(one.output)")
        #expect(one.output.contains("#1") && one.output.contains(" 200 "), "\(one.output)")
        #expect(one.output.contains("1 invocation: 1 ok, 0 failed"), "\(one.output)")
        let burst = try shell("\(bin) invoke --url \(base)/api/slots --burst 20 --yes")
        #expect(burst.status == 0, "\(burst.output)")
        #expect(burst.output.contains("20 invocations: 20 ok, 0 failed"), "\(burst.output)")
        let s = try stats(base)
        #expect(s["count"] as? Int == 21, "server saw \(s)")
        #expect((s["max"] as? Int ?? 0) > 1, "a burst runs concurrently: \(s)")
        // A burst asks first; without a terminal it refuses and sends nothing.
        let ask = try shell("\(bin) invoke --url \(base)/api/slots --burst 5 < /dev/null")
        #expect(ask.status != 0)
        #expect(ask.output.contains("not sent (it adds load): it asks first, and stdin is not a terminal; pass --yes to send it"), "\(ask.output)")
        let post = try shell("\(bin) invoke --url \(base)/api/bookings --method POST --data '{\"slot\":9}' < /dev/null")
        #expect(post.output.contains("not sent (POST changes things): it asks first, and stdin is not a terminal; pass --yes to send it"), "\(post.output)")
        #expect(try stats(base)["count"] as? Int == 21, "nothing sent without confirmation")
        // Caps hold even with --yes.
        let big = try shell("\(bin) invoke --url \(base)/api/slots --burst 5000 --yes")
        #expect(big.output.contains("over the cap of 200"), "\(big.output)")
    }

    @Test func lambdaInvokeAPIWithLogTail() throws {
        let (base, stop) = try startServer("lambda")
        defer { stop() }
        let r = try shell("\(bin) invoke --lambda-endpoint \(base) --function booking-create --data '{\"slot\":9}' --yes")
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("cold"), "first invocation is cold (Init Duration in the REPORT): \(r.output)")
        #expect(r.output.contains("billed 13ms") && r.output.contains("mem 70/256MB"), "\(r.output)")
        #expect(r.output.contains("1 cold start"), "\(r.output)")
        let bodies = try stats(base)["bodies"] as? [String]
        #expect(bodies == ["{\"slot\":9}"])
        let failing = try shell("\(bin) invoke --lambda-endpoint \(base) --data '{\"fail\":1}' --yes")
        #expect(failing.status != 0)
        #expect(failing.output.contains("function error (Unhandled)") && failing.output.contains("kaboom"), "\(failing.output)")
    }

    @Test func configTargetsPresetsAndResultsOnTheDashboardSocket() throws {
        let (base, stop) = try startServer("cfg")
        defer { stop() }
        let config = "/tmp/bfftop-e2e-\(getpid())-inv.toml"
        defer { unlink(config) }
        try """
            [[target]]
            match = "POST /api/bookings"
            method = "POST"
            url = "\(base)/api/bookings"
            body = '{"slot": 1}'
            confirm = false
            [target.payloads]
            morning = '{"slot": 9}'

            [[target]]
            match = "booking-*"
            type = "lambda"
            endpoint = "\(base)"
            function = "booking-create"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try shell("\(bin) invoke 'POST /api/bookings' --payload morning --config \(config) < /dev/null")
        #expect(r.status == 0, "confirm = false: no question asked: \(r.output)")
        #expect((try stats(base)["bodies"] as? [String]) == ["{\"slot\": 9}"])
        let none = try shell("\(bin) invoke 'GET /nope' --config \(config)")
        #expect(none.output.contains("no invocation target for GET /nope"), "\(none.output)")
        // Results go to a running dashboard as test invocations.
        let sock = "/tmp/bfftop-e2e-\(getpid())-inv.sock"
        let tmux = TmuxDriver(name: "invsock")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --refresh 0.2; sleep 10", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let sent = try shell("\(bin) invoke booking-create --config \(config) --socket \(sock) --yes")
        #expect(sent.status == 0, "\(sent.output)")
        let shown = tmux.waitFor { $0.contains("booking-create") }
        #expect(shown.ok, "the REPORT of the invocation reaches the dashboard:\n\(shown.screen)")
    }

    @Test func failuresAreReportedNotCrashed() throws {
        let (base, stop) = try startServer("fail")
        defer { stop() }
        let refused = try shell("\(bin) invoke --url http://127.0.0.1:9/nothing")
        #expect(refused.status == 1)
        #expect(refused.output.contains("connection refused: nothing listening at http://127.0.0.1:9/nothing"), "\(refused.output)")
        let dns = try shell("\(bin) invoke --url http://no-such-host.invalid/x --yes")
        #expect(dns.output.contains("DNS lookup failed for no-such-host.invalid"), "\(dns.output)")
        let slow = try shell("\(bin) invoke --url \(base)/slow --timeout 0.5")
        #expect(slow.output.contains("timed out after 0.5 s"), "\(slow.output)")
        let bad = try shell("\(bin) invoke --url \(base)/fail")
        #expect(bad.output.contains(" 503 ") && bad.output.contains("HTTP 503: {\"error\":\"upstream down\"}"), "\(bad.output)")
        let tls = try shell("\(bin) invoke --url https://127.0.0.1:\(base.split(separator: ":").last ?? "0")/x --timeout 3")
        #expect(tls.output.contains("TLS failure"), "\(tls.output)")
    }
}

/// The control channel with the demo fleet: every demo endpoint is invokable with no config.
@Suite struct ControlChannelEndToEndTests {
    let bin = TmuxDriver.binary

    @Test func demoEndpointsAreInvokableFromKeys() throws {
        let sock = "/tmp/bfftop-e2e-\(getpid())-ctl.sock"
        let tmux = TmuxDriver(name: "ctl")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) demo --socket \(sock) --seed 7; sleep 10", width: 120, height: 36)
        #expect(tmux.waitFor { $0.contains("auth-verify") }.ok, "demo running")
        tmux.keys("i")
        let one = tmux.waitFor { $0.contains("Invocations 1 ") && $0.contains("its emitter (socket)") }
        #expect(one.ok, "one invocation through the emitter:\n\(one.screen)")
        tmux.keys("b")
        let ask = tmux.waitFor { $0.contains("burst of 20 → its emitter (socket) (it adds load)? y / n") }
        #expect(ask.ok, "a burst asks first:\n\(ask.screen)")
        tmux.keys("y")
        let done = tmux.waitFor { $0.contains("Invocations 21 ") && !$0.contains("in flight") }
        #expect(done.ok, "exactly 21 results:\n\(done.screen)")
        tmux.keys("b")
        _ = tmux.waitFor { $0.contains("? y / n") }
        tmux.keys("n")
        let not = tmux.waitFor { $0.contains("not sent") }
        #expect(not.ok && not.screen.contains("Invocations 21 "), "n sends nothing:\n\(not.screen)")
    }
}

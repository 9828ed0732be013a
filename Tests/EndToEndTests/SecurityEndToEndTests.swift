import Foundation
import Testing

/// Under CI (root) always; elsewhere only as root. A CI that is not root fails here rather than skipping.
let canMakeASecondUser = geteuid() == 0 || ProcessInfo.processInfo.environment["CI"] != nil

/// The doors, tried by a second local user against the real binary (docs/security.md): a connect
/// loop during start-up, a squatted default path and socket, a listener of another uid behind a
/// file of ours, a live datagram socket, invocations without confirmation, listeners open to the
/// network. CI runs as root, so it can make the second user; each attack runs as that user through
/// `setpriv`, and its scripts use only Debian's python3.
@Suite(.serialized, .enabled(if: canMakeASecondUser, "needs root to make a second user (CI runs as root)"))
struct SecurityEndToEndTests {
    let bin = TmuxDriver.binary
    static let intruder = "bfftop-intruder"

    /// The second user, made once (a system account without a home or a login shell).
    static let intruderUID: Int = {
        _ = try? shell("id -u \(intruder) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin \(intruder)")
        return Int((try? shell("id -u \(intruder)").output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? "") ?? -1
    }()

    /// `command` as the second user, with no groups of ours.
    func asIntruder(_ command: String) -> String {
        "setpriv --reuid=\(Self.intruder) --regid=\(Self.intruder) --clear-groups -- \(command)"
    }

    func id(_ tag: String) -> String { "/tmp/bfftop-e2e-\(getpid())-\(tag)" }

    /// Writes a script others can read (the intruder runs it).
    func script(_ path: String, _ text: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
    }

    /// Polls a file until it holds `marker`; returns its text.
    func waitForFile(_ path: String, containing marker: String, timeout: Double = 20) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let t = try? String(contentsOfFile: path, encoding: .utf8), t.contains(marker) { return t }
            usleep(100_000)
        }
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    func inode(_ path: String) -> UInt64? {
        var st = stat()
        return lstat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    /// Connects to `path` as fast as it can until `stop` exists, sending one event on each connection
    /// that gets through and holding it open, then prints how many tries and how many got in.
    static let connectLoop = #"""
    import os, socket, sys, time
    path, stop = sys.argv[1], sys.argv[2]
    line = b'{"v":1,"type":"invocation","endpoint":"INTRUDER","duration_ms":1}\n'
    tries = ok = 0
    held = []
    deadline = time.time() + 180
    print("started", flush=True)
    while not os.path.exists(stop) and time.time() < deadline:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            ok += 1
            s.sendall(line)
            held.append(s)
        except OSError:
            s.close()
        tries += 1
    print("tries=%d connected=%d" % (tries, ok), flush=True)
    """#

    @Test func aConnectLoopDuringStartUpGetsNothingIn() throws {
        #expect(Self.intruderUID > 0)
        let dir = id("race"), out = id("race.out"), loop = id("race.py"), rec = id("race.ndjson")
        let sock = dir + "/s.sock", stop = dir + "/stop"
        mkdir(dir, 0o777)
        chmod(dir, 0o1777)  // shared, like /tmp: the intruder can reach the path
        defer {
            _ = try? shell("rm -rf \(dir)")
            for f in [out, loop, rec] { unlink(f) }
        }
        try script(loop, Self.connectLoop)
        _ = try shell("(\(asIntruder("/usr/bin/python3 \(loop) \(sock) \(stop)")) > \(out) 2>&1 &)")
        #expect(waitForFile(out, containing: "started").contains("started"))
        for i in 0..<6 {
            let tmux = TmuxDriver(name: "race\(i)")
            defer { tmux.stop(killing: sock) }
            // umask 000: bind alone would create the socket 0777.
            try tmux.start("umask 000; \(bin) watch --socket \(sock) --record \(rec) --refresh 0.2; sleep 5", width: 100, height: 30)
            let up = tmux.waitFor { $0.contains("Waiting for events") }
            #expect(up.ok, "start \(i):\n\(up.screen)")
            var st = stat()
            #expect(lstat(sock, &st) == 0 && st.st_mode & 0o777 == 0o600, "start \(i): mode \(String(st.st_mode & 0o777, radix: 8))")
            tmux.keys("q")
            for _ in 0..<50 where inode(sock) != nil { usleep(100_000) }
        }
        close(open(stop, O_CREAT | O_WRONLY, 0o644))
        let result = waitForFile(out, containing: "tries=")
        let tries = Int(result.components(separatedBy: "tries=").last?.split(separator: " ").first ?? "") ?? 0
        #expect(result.contains("connected=0"), "another user got in: \(result)")
        #expect(tries > 100, "the loop really ran: \(result)")
        let recorded = (try? String(contentsOfFile: rec, encoding: .utf8)) ?? ""
        #expect(!recorded.contains("INTRUDER"), "the intruder's events were recorded")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        #expect(left.filter { $0 != "stop" }.isEmpty, "staging directories or sockets left behind: \(left)")
    }

    /// Listens on `path` as whoever runs it (mode 0777 so anyone may connect), reads everything sent,
    /// and prints how many bytes arrived once `stop` exists.
    static let squatter = #"""
    import os, select, socket, sys, time
    path, stop = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX); srv.bind(path); os.chmod(path, 0o777); srv.listen(64); srv.setblocking(False)
    print("listening", flush=True)
    conns, got = [], 0
    deadline = time.time() + 120
    while not os.path.exists(stop) and time.time() < deadline:
        r, _, _ = select.select([srv] + conns, [], [], 0.05)
        for s in r:
            if s is srv:
                c, _ = srv.accept(); conns.append(c)
            else:
                d = s.recv(65536)
                if d: got += len(d)
                else: conns.remove(s); s.close()
    print("received=%d" % got, flush=True)
    """#

    static let pythonClient = #"""
    import sys, time
    sys.path.insert(0, sys.argv[1])
    import bfftop
    e = bfftop.Emitter(socket_path=sys.argv[2] if len(sys.argv) > 2 else None)
    e.invocation("GET /secret", 12.5, status=200)
    for _ in range(40):
        if e.refusal: break
        time.sleep(0.05)
    print("refusal=%s sent=%d" % (e.refusal, e.sent))
    """#

    static let nodeClient = #"""
    const { Emitter } = require(process.argv[2]);
    const e = new Emitter({});
    e.invocation({ endpoint: 'GET /secret', kind: 'route', duration_ms: 12.5, status: 200 });
    setTimeout(() => { console.log(`refusal=${e.refusal} sent=${e.sent}`); process.exit(0); }, 1500);
    """#

    @Test func aSquattedDefaultPathOrSocketIsRefusedAndReceivesNothing() throws {
        #expect(Self.intruderUID > 0)
        let xdg = id("xdg"), stop = id("squat.stop"), squat = id("squat.py")
        let outDefault = id("squat-default.out"), outExplicit = id("squat-explicit.out"), outPeer = id("squat-peer.out")
        let explicit = id("squat.sock"), peer = id("peer.sock"), py = id("client.py"), js = id("client.js")
        defer {
            _ = try? shell("rm -rf \(xdg)")
            for f in [stop, squat, outDefault, outExplicit, outPeer, explicit, peer, py, js] { unlink(f) }
        }
        try script(squat, Self.squatter)
        try script(py, Self.pythonClient)
        try script(js, Self.nodeClient)
        // The intruder makes the "runtime directory" first and listens where bfftop would.
        #expect(try shell(asIntruder("mkdir -m 700 \(xdg)")).status == 0)
        _ = try shell("(\(asIntruder("/usr/bin/python3 \(squat) \(xdg)/bfftop.sock \(stop)")) > \(outDefault) 2>&1 &)")
        _ = try shell("(\(asIntruder("/usr/bin/python3 \(squat) \(explicit) \(stop)")) > \(outExplicit) 2>&1 &)")
        _ = try shell("(\(asIntruder("/usr/bin/python3 \(squat) \(peer) \(stop)")) > \(outPeer) 2>&1 &)")
        for f in [outDefault, outExplicit, outPeer] { #expect(waitForFile(f, containing: "listening").contains("listening"), "\(f)") }
        // The intruder's listener behind a socket file that now says it is ours: only SO_PEERCRED tells.
        chown(peer, 0, 0)
        let env = "env -u BFFTOP_SOCKET XDG_RUNTIME_DIR=\(xdg)"
        let uid = Self.intruderUID
        let event = #"{"v":1,"type":"invocation","ts":\#(Int(Date().timeIntervalSince1970)),"endpoint":"GET /secret","duration_ms":5}"#

        // watch refuses to start in a directory that is not ours.
        // A pattern only this dashboard matches: "watch" alone would end every test's dashboard
        // running in parallel (and a shell waiting between two commands would die on their Ctrl-C).
        let marker = id("squat-never.ndjson")
        let tmux = TmuxDriver(name: "squat")
        defer { tmux.stop(killing: marker) }
        try tmux.start("\(env) \(bin) watch --record \(marker); echo EXITED=$?; sleep 10", width: 200, height: 20)
        let refused = tmux.waitFor { $0.contains("EXITED=") }
        #expect(refused.screen.contains("refusing to use \(xdg): it belongs to uid \(uid)"), "\(refused.screen)")
        #expect(!refused.screen.contains("EXITED=0"), "\(refused.screen)")

        let fwd = try shell("echo \(quote(event)) | \(env) \(bin) forward; echo EXITED=$?")
        #expect(fwd.output.contains("refusing to use \(xdg): it belongs to uid \(uid)") && !fwd.output.contains("EXITED=0"), "\(fwd.output)")
        let sim = try shell("\(env) \(bin) simulate --duration 1; echo EXITED=$?")
        #expect(sim.output.contains("it belongs to uid \(uid)") && !sim.output.contains("EXITED=0"), "\(sim.output)")
        let pyOut = try shell("\(env) /usr/bin/python3 \(py) \(repoRoot)/clients/python")
        #expect(pyOut.output.contains("it belongs to uid \(uid)") && pyOut.output.contains("sent=0"), "\(pyOut.output)")
        if (try? shell("command -v node").status) == 0 {
            let nodeOut = try shell("\(env) node \(js) \(repoRoot)/clients/node/bfftop.js")
            #expect(nodeOut.output.contains("it belongs to uid \(uid)") && nodeOut.output.contains("sent=0"), "\(nodeOut.output)")
        }
        // An explicit path to the intruder's socket, and to the intruder's listener behind our file.
        let direct = try shell("echo \(quote(event)) | \(bin) forward --socket \(explicit); echo EXITED=$?")
        #expect(direct.output.contains("the socket belongs to uid \(uid), not to you") && !direct.output.contains("EXITED=0"), "\(direct.output)")
        let behind = try shell("echo \(quote(event)) | \(bin) forward --socket \(peer); echo EXITED=$?")
        #expect(behind.output.contains("the process listening on it runs as uid \(uid)") && !behind.output.contains("EXITED=0"), "\(behind.output)")
        let pyPeer = try shell("/usr/bin/python3 \(py) \(repoRoot)/clients/python \(peer)")
        #expect(pyPeer.output.contains("runs as uid \(uid)") && pyPeer.output.contains("sent=0"), "\(pyPeer.output)")

        close(open(stop, O_CREAT | O_WRONLY, 0o644))
        for f in [outDefault, outExplicit, outPeer] {
            let r = waitForFile(f, containing: "received=")
            #expect(r.contains("received=0"), "the squatter received something at \(f): \(r)")
        }
    }

    /// A datagram socket someone reads (the Datadog agent's, say): prints what arrives until `stop`.
    static let dgramHolder = #"""
    import os, socket, sys, time
    path, stop = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(path); s.settimeout(0.1)
    print("bound", flush=True)
    got = []
    deadline = time.time() + 120
    while not os.path.exists(stop) and time.time() < deadline:
        try: got.append(s.recv(65536).decode())
        except socket.timeout: pass
    print("got=" + "|".join(got), flush=True)
    """#

    @Test func aLiveDatagramSocketKeepsItsInodeAndItsReader() throws {
        let dsd = id("agent-dsd.sock"), stop = id("agent.stop"), holder = id("agent.py"), out = id("agent.out")
        let sock = id("agent-main.sock"), sock2 = id("agent-main2.sock"), ours = id("ours-dsd.sock")
        defer { for f in [dsd, stop, holder, out, ours] { unlink(f) } }
        try script(holder, Self.dgramHolder)
        _ = try shell("(python3 \(holder) \(dsd) \(stop) > \(out) 2>&1 &)")
        #expect(waitForFile(out, containing: "bound").contains("bound"))
        let before = inode(dsd)
        let tmux = TmuxDriver(name: "dgram")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --dogstatsd \(dsd); echo EXITED=$?; sleep 10", width: 200, height: 20)
        let refused = tmux.waitFor { $0.contains("EXITED=") }
        #expect(refused.screen.contains("something is already listening on \(dsd)"), "\(refused.screen)")
        #expect(inode(dsd) == before, "the agent's socket was replaced")
        let send = "python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(sys.argv[2].encode(), sys.argv[1])'"
        _ = try shell("\(send) \(dsd) 'still.mine:1|c'")
        // Two bfftops on one DogStatsD path: the second is refused and the first keeps receiving.
        let first = TmuxDriver(name: "dgram1"), second = TmuxDriver(name: "dgram2")
        defer {
            first.stop(killing: sock)
            second.stop(killing: sock2)
        }
        try first.start("\(bin) watch --socket \(sock) --dogstatsd \(ours) --refresh 0.2; sleep 10", width: 160, height: 30)
        #expect(first.waitFor { $0.contains("Waiting for events") }.ok)
        let mine = inode(ours)
        try second.start("\(bin) watch --socket \(sock2) --dogstatsd \(ours); echo EXITED=$?; sleep 10", width: 200, height: 20)
        let again = second.waitFor { $0.contains("EXITED=") }
        #expect(again.screen.contains("something is already listening on \(ours)"), "\(again.screen)")
        #expect(inode(ours) == mine && mine != nil, "the second instance replaced or removed the first's socket")
        _ = try shell("\(send) \(ours) 'checkout.latency:42|ms|#route:/checkout'")
        let shown = first.waitFor { $0.contains("/checkout") }
        #expect(shown.ok, "the first instance still receives:\n\(shown.screen)")
        close(open(stop, O_CREAT | O_WRONLY, 0o644))
        #expect(waitForFile(out, containing: "got=").contains("got=still.mine:1|c"), "the agent kept its reader")
    }

    /// Counts every request, as a server and as an HTTP proxy (libcurl sends requests for other hosts
    /// to `http_proxy`): nothing here ever leaves the machine, whatever the URL says.
    static let countingServer = #"""
    import json, os, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    seen = []
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def do_GET(self): self.serve()
        def do_POST(self): self.serve()
        def serve(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(n)
            if self.path == "/seen":
                body = json.dumps(seen).encode()
            else:
                seen.append(self.command + " " + self.path)
                body = b'{"ok":true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    open(sys.argv[1] + ".tmp", "w").write(str(srv.server_address[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()
    """#

    @Test func invocationsWithoutConfirmationSendNothing() throws {
        let server = id("count.py"), portFile = id("count.port"), config = id("count.toml"), sock = id("count.sock")
        defer {
            _ = try? shell("pkill -f \(server)")
            for f in [server, portFile, config] { unlink(f) }
        }
        try script(server, Self.countingServer)
        _ = try shell("(python3 \(server) \(portFile) > /dev/null 2>&1 &)")
        var port = 0
        for _ in 0..<200 where port == 0 {
            port = Int((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "") ?? 0
            if port == 0 { usleep(50_000) }
        }
        #expect(port > 0, "the counting server did not start")
        let base = "http://127.0.0.1:\(port)"
        func seen() -> [String] {
            let r = try? shell("curl -s --noproxy '*' \(base)/seen")
            return (try? JSONSerialization.jsonObject(with: Data((r?.output ?? "").utf8))) as? [String] ?? []
        }
        let proxy = "http_proxy=\(base) HTTP_PROXY=\(base)"
        // Without a terminal and without --yes: a Lambda invoke, a GET to another host, a POST.
        let lambda = try shell("\(bin) invoke --lambda-endpoint \(base) --function booking-create < /dev/null; echo EXITED=$?")
        #expect(lambda.output.contains("not sent (a Lambda invoke runs the function)") && !lambda.output.contains("EXITED=0"), "\(lambda.output)")
        let remote = try shell("\(proxy) \(bin) invoke --url http://bookings.example.invalid/slots < /dev/null; echo EXITED=$?")
        #expect(remote.output.contains("not sent (bookings.example.invalid is not this machine)") && !remote.output.contains("EXITED=0"), "\(remote.output)")
        let post = try shell("\(bin) invoke --url \(base)/api/bookings --method POST < /dev/null; echo EXITED=$?")
        #expect(post.output.contains("not sent (POST changes things)"), "\(post.output)")
        #expect(seen().isEmpty, "sent without confirmation: \(seen())")
        // --yes sends each (the server counts them, so the refusals above were real).
        _ = try shell("\(bin) invoke --lambda-endpoint \(base) --function booking-create --yes")
        _ = try shell("\(proxy) \(bin) invoke --url http://bookings.example.invalid/slots --yes")
        #expect(seen() == ["POST /2015-03-31/functions/booking-create/invocations", "GET http://bookings.example.invalid/slots"], "\(seen())")
        // In the dashboard, i on a Lambda target asks; n sends nothing, y sends one.
        try """
            [[target]]
            match = "booking-*"
            type = "lambda"
            endpoint = "\(base)"
            function = "booking-create"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let tmux = TmuxDriver(name: "confirm")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --config \(config) --refresh 0.2; sleep 10", width: 160, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let event = #"{"v":1,"type":"invocation","ts":\#(Int(Date().timeIntervalSince1970)),"endpoint":"booking-create","kind":"function","duration_ms":5}"#
        _ = try shell("echo \(quote(event)) | \(bin) forward --socket \(sock)")
        #expect(tmux.waitFor { $0.contains("booking-create") }.ok)
        tmux.keys("i")
        let ask = tmux.waitFor { $0.contains("(a Lambda invoke runs the function)? y / n") }
        #expect(ask.ok, "\(ask.screen)")
        tmux.keys("n")
        #expect(tmux.waitFor { $0.contains("not sent") }.ok)
        #expect(seen().count == 2, "n sent it: \(seen())")
        tmux.keys("i")
        _ = tmux.waitFor { $0.contains("? y / n") }
        tmux.keys("y")
        let deadline = Date().addingTimeInterval(10)
        while seen().count < 3, Date() < deadline { usleep(100_000) }
        #expect(seen().count == 3, "y sends one: \(seen())")
    }

    @Test func listeningBeyondLoopbackNeedsTheOptInAndShowsIt() throws {
        let sock = id("open.sock"), config = id("open.toml")
        defer { unlink(config) }
        let port = Int(try shell("python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'").output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 18126
        let closed = TmuxDriver(name: "closed")
        defer { closed.stop(killing: sock) }
        try closed.start("\(bin) watch --socket \(sock) --dogstatsd-udp 0.0.0.0:\(port); echo EXITED=$?; sleep 10", width: 220, height: 20)
        let refused = closed.waitFor { $0.contains("EXITED=") }
        #expect(refused.screen.contains("udp://0.0.0.0:\(port) is reachable from other machines") && !refused.screen.contains("EXITED=0"), "\(refused.screen)")
        try "[dogstatsd]\nudp = \"0.0.0.0:\(port)\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let check = try shell("\(bin) config --check --config \(config); echo EXITED=$?")
        #expect(check.output.contains("0.0.0.0 is reachable from other machines") && !check.output.contains("EXITED=0"), "\(check.output)")
        let open = TmuxDriver(name: "open")
        defer { open.stop(killing: sock) }
        try open.start("\(bin) watch --socket \(sock) --dogstatsd-udp 0.0.0.0:\(port) --listen-beyond-loopback; sleep 10", width: 220, height: 20)
        let shown = open.waitFor { $0.contains("open to the network: udp://0.0.0.0:\(port)") }
        #expect(shown.ok, "the header says so:\n\(shown.screen)")
    }

    /// The repository (for the emitters in clients/): the test binary is in .build/<triple>/debug.
    var repoRoot: String {
        var dir = URL(fileURLWithPath: TmuxDriver.binary).deletingLastPathComponent()
        while dir.path != "/", !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.path
    }
}

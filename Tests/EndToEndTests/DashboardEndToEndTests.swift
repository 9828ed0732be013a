import BFFTopWire
import Foundation
import Testing

/// The real binary in a real terminal (tmux): events from another process over the socket,
/// keys, resize, quit and SIGTERM, and what the screen says at each step.
@Suite(.serialized) struct DashboardEndToEndTests {
    let bin = TmuxDriver.binary

    func requireTools() throws {
        guard TmuxDriver.tmuxAvailable else {
            throw E2EError("tmux is required for the end-to-end tests (apt-get install -y tmux)")
        }
        guard FileManager.default.isExecutableFile(atPath: bin) else { throw E2EError("no bfftop binary at \(bin)") }
    }

    /// An emitter in another process (Python's standard library, nothing of ours): a few known
    /// invocations and one malformed line.
    func emit(to path: String, lines: [String]) throws {
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            s.sendall(sys.stdin.buffer.read())
            s.close()
            """
        let payload = lines.joined(separator: "\n") + "\n"
        let file = NSTemporaryDirectory() + "bfftop-e2e-\(getpid())-payload.ndjson"
        defer { unlink(file) }
        try payload.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try shell("python3 -c \(quote(script)) \(quote(path)) < \(quote(file))")
        #expect(r.status == 0, "emitter failed: \(r.output)")
    }

    @Test func liveDashboardShowsWhatAnotherProcessSendsAndQuitsCleanly() throws {
        try requireTools()
        let sock = "/tmp/bfftop-e2e-\(getpid())-a.sock"
        let tmux = TmuxDriver(name: "live")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --refresh 0.2; echo EXIT=$?; sleep 15", width: 100, height: 30)
        let waiting = tmux.waitFor { $0.contains("Waiting for events on \(sock)") }
        #expect(waiting.ok, "empty state:\n\(waiting.screen)")
        var st = stat()
        #expect(lstat(sock, &st) == 0 && st.st_mode & 0o777 == 0o600, "socket exists with mode 0600")

        let now = Date().timeIntervalSince1970
        var lines: [String] = []
        for i in 0..<40 {
            lines.append(#"{"v":1,"type":"invocation","ts":\#(now - 2 + Double(i) * 0.01),"service":"web-bff","endpoint":"GET /e2e/alpha","kind":"route","duration_ms":\#(10 + i),"status":200}"#)
        }
        for i in 0..<10 {
            lines.append(#"{"v":1,"type":"invocation","ts":\#(now - 1),"endpoint":"e2e-func","kind":"function","duration_ms":100,"memory_mb":512,"cold_start":\#(i == 0),"init_ms":\#(i == 0 ? 250 : 0),"outcome":"\#(i < 2 ? "timeout" : "ok")","error":"Task timed out after 3.00 seconds"}"#)
        }
        lines.append("this is not json")
        try emit(to: sock, lines: lines)

        let shown = tmux.waitFor { $0.contains("GET /e2e/alpha") && $0.contains("e2e-func") && $0.contains("1 malformed") }
        #expect(shown.ok, "events and malformed count on screen:\n\(shown.screen)")
        // The timeouts fire the built-in alarm, whose notice outranks the malformed line's until acknowledged.
        #expect(tmux.waitFor { $0.contains("critical: timeouts on e2e-func") }.ok, "the timeout alarm fires")
        tmux.keys("a")
        let notice = tmux.waitFor { $0.contains("last malformed line") }
        #expect(notice.ok, "the header names the bad line's reason:\n\(notice.screen)")
        #expect(shown.screen.contains("timeout"), "errors pane lists the timeouts")

        // The 40 route invocations took 10...49 ms: p50 = 29 ms, p99 = 49 ms (nearest rank), within 1 %.
        let row = shown.screen.split(separator: "\n").first { $0.contains("GET /e2e/alpha") } ?? ""
        #expect(row.contains("29ms") && row.contains("49ms"), "row: \(row)")

        // Resize to the minimum supported size: everything still fits.
        tmux.resize(80, 24)
        let small = tmux.waitFor { s in
            let rows = s.split(separator: "\n", omittingEmptySubsequences: false)
            return rows.count >= 24 && rows[23].contains("q quit") && rows.allSatisfy { $0.count <= 80 }
        }
        #expect(small.ok, "80x24 layout:\n\(small.screen)")

        tmux.keys("?")
        #expect(tmux.waitFor { $0.contains("Keys") && $0.contains("show or hide this help") }.ok)
        tmux.keys("Escape")
        tmux.keys("q")
        let exited = tmux.waitFor { $0.contains("EXIT=0") }
        #expect(exited.ok, "q quits with status 0:\n\(exited.screen)")
        #expect(!exited.screen.contains("ENDPOINT"), "the dashboard is gone: terminal restored")
        #expect(access(sock, F_OK) != 0, "socket file removed on exit")
    }

    /// CJK and emoji names in the real terminal: every table row ends at the same column, nothing
    /// spills past the screen, and moving the selection over them leaves no fragments behind.
    @Test func wideNamesKeepTheTableAligned() throws {
        try requireTools()
        let sock = "/tmp/bfftop-e2e-\(getpid())-w.sock"
        let tmux = TmuxDriver(name: "wide")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --refresh 0.2; sleep 15", width: 100, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let now = Date().timeIntervalSince1970
        let names = ["GET /api/予約/枠", "🚀-deploy-fn", "POST /api/book", "検索-search"]
        var lines: [String] = []
        for i in 0..<80 {
            lines.append(#"{"v":1,"type":"invocation","ts":\#(now - 2 + Double(i) * 0.01),"endpoint":"\#(names[i % 4])","kind":"route","duration_ms":\#(10 + i),"status":200}"#)
        }
        try emit(to: sock, lines: lines)
        let shown = tmux.waitFor { s in names.allSatisfy { s.contains($0) } }
        #expect(shown.ok, "\(shown.screen)")
        for _ in 0..<4 { tmux.keys("Down") }
        tmux.keys("Up")
        let after = tmux.waitFor { s in names.allSatisfy { s.contains($0) } }
        let rows = after.screen.split(separator: "\n").filter { $0.hasPrefix("┃") }.map(String.init)
        #expect(rows.count >= 5, "\(after.screen)")
        // tmux lays the cells out as a terminal does: each row is 100 columns, the border last.
        for r in rows {
            #expect(r.displayWidth == 100 && r.hasSuffix("┃"), "row \(r.displayWidth) columns: \(r)")
        }
        tmux.keys("q")
    }

    /// Without a theme named anywhere, a light terminal background gets the light theme.
    @Test func aLightBackgroundGetsTheLightThemeByDefault() throws {
        try requireTools()
        for (colorfgbg, first, next) in [("0;15", "light", "dark"), ("15;0", "dark", "light")] {
            let sock = "/tmp/bfftop-e2e-\(getpid())-bg\(first).sock"
            let tmux = TmuxDriver(name: "bg\(first)")
            defer { tmux.stop(killing: sock) }
            try tmux.start("env COLORFGBG='\(colorfgbg)' XDG_CONFIG_HOME=/nonexistent \(bin) watch --socket \(sock); sleep 10", width: 100, height: 30)
            #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
            tmux.keys("t")  // themes cycle from the one chosen: the next is the other one
            #expect(tmux.waitFor { $0.contains("theme \(next)") }.ok, "COLORFGBG=\(colorfgbg) starts on \(first)")
            tmux.keys("q")
        }
    }

    /// `bfftop snapshot` prints what the running dashboard shows, as JSON a script can read.
    @Test func snapshotPrintsTheDashboardAsJSON() throws {
        try requireTools()
        let sock = "/tmp/bfftop-e2e-\(getpid())-snap.sock"
        let tmux = TmuxDriver(name: "snap")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --refresh 0.2; sleep 10", width: 100, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let now = Date().timeIntervalSince1970
        var lines: [String] = []
        for i in 0..<30 {
            lines.append(#"{"v":1,"type":"invocation","ts":\#(now - 2 + Double(i) * 0.01),"endpoint":"GET /snap","kind":"route","duration_ms":\#(10 + i),"status":\#(i < 3 ? 503 : 200)\#(i < 3 ? #","outcome":"error","error":"boom""# : "")}"#)
        }
        try emit(to: sock, lines: lines)
        #expect(tmux.waitFor { $0.contains("GET /snap") }.ok)
        let check = #"import json,sys; d=json.load(sys.stdin); e=[x for x in d["endpoints"] if x["endpoint"]=="GET /snap"][0]; print("OK", d["type"], d["window"], e["count"], e["errors"], e["max_ms"])"#
        let r = try shell("\(bin) snapshot --socket \(sock) | python3 -c '\(check)'")
        #expect(r.status == 0 && r.output.contains("OK snapshot 1m 30 3 39"), "\(r.output)")
        let none = try shell("\(bin) snapshot --socket /tmp/bfftop-e2e-\(getpid())-nobody.sock")
        #expect(none.status != 0 && none.output.contains("cannot reach a dashboard"), "\(none.output)")
        tmux.keys("q")
    }

    /// `R` reads the config again: a broken one is refused with the reason and the running config
    /// stays; a good one takes effect (a key rebound, alarm rules counted) without a restart.
    @Test func rReloadsTheConfigWithoutARestart() throws {
        try requireTools()
        let sock = "/tmp/bfftop-e2e-\(getpid())-reload.sock"
        let config = "/tmp/bfftop-e2e-\(getpid())-reload.toml"
        defer { unlink(config) }
        try "refresh = 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let tmux = TmuxDriver(name: "reload")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --config \(config); sleep 10", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        try "refresh = \"soon\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        tmux.keys("R")
        let refused = tmux.waitFor { $0.contains("config not reloaded") && $0.contains("refresh") }
        #expect(refused.ok, "a broken config is refused with the reason:\n\(refused.screen)")
        try "[[alarm]]\nname = \"slow\"\nmetric = \"p99\"\nthreshold = 500\n[keys]\nhelp = \"H\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        tmux.keys("R")
        let done = tmux.waitFor { $0.contains("config reloaded from \(config)") }
        #expect(done.ok, "\(done.screen)")
        #expect(done.screen.contains("alarm rules"))
        tmux.keys("H")
        #expect(tmux.waitFor { $0.contains("show or hide this help") }.ok, "the rebound key works at once")
        tmux.keys("Escape", "q")
    }

    @Test func sigtermRestoresTheTerminalAndRemovesTheSocket() throws {
        try requireTools()
        let sock = "/tmp/bfftop-e2e-\(getpid())-b.sock"
        let tmux = TmuxDriver(name: "term")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) demo --socket \(sock); echo EXIT=$?; sleep 15", width: 120, height: 36)
        let running = tmux.waitFor { $0.contains("GET /api/slots") && $0.contains("ev/s") }
        #expect(running.ok, "demo fleet arrives through the socket:\n\(running.screen)")
        try shell("pkill -TERM -f -- '^\(bin) demo --socket \(sock)'")
        let exited = tmux.waitFor { $0.contains("EXIT=") }
        #expect(exited.ok, "SIGTERM ends the dashboard:\n\(exited.screen)")
        #expect(!exited.screen.contains("ENDPOINT"))
        #expect(access(sock, F_OK) != 0, "socket file removed on SIGTERM")
    }

    @Test func ctrlCQuitsAndACrashStillRestoresTheTerminal() throws {
        try requireTools()
        let sock = "/tmp/bfftop-e2e-\(getpid())-e.sock"
        let tmux = TmuxDriver(name: "crash")
        defer { tmux.stop(killing: sock) }
        // Between the two runs the shell waits, so the first run's exit status stays on screen.
        try tmux.start("\(bin) watch --socket \(sock); echo EXIT=$?; sleep 3; SWIFT_BACKTRACE=enable=no \(bin) watch --socket \(sock); echo EXIT2=$?; sleep 15")
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        tmux.keys("C-c")
        let first = tmux.waitFor { $0.contains("EXIT=0") }
        #expect(first.ok, "Ctrl-C quits cleanly:\n\(first.screen)")
        // The second run starts on the same path (the first removed its socket), then crashes.
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        try shell("pkill -SEGV -f -- '^\(bin) watch --socket \(sock)'")
        let crashed = tmux.waitFor { $0.contains("EXIT2=") }
        #expect(crashed.ok, "the crash ends the process:\n\(crashed.screen)")
        #expect(!crashed.screen.contains("Waiting for events"), "the alternate screen is gone: terminal restored")
        // The stale socket a crash leaves behind is replaced by the next start.
        let again = TmuxDriver(name: "crash2")
        defer { again.stop(killing: sock) }
        try again.start("\(bin) watch --socket \(sock); sleep 15")
        #expect(again.waitFor { $0.contains("Waiting for events on \(sock)") }.ok)
    }

    @Test func recordingSurvivesKillDashNineMidStream() throws {
        try requireTools()
        let sock = "/tmp/bfftop-e2e-\(getpid())-r.sock"
        let file = "/tmp/bfftop-e2e-\(getpid())-rec.ndjson"
        unlink(file)
        defer { unlink(file) }
        let tmux = TmuxDriver(name: "rec")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --record \(file); sleep 15")
        #expect(tmux.waitFor { $0.contains("Waiting for events") && $0.contains("REC") }.ok, "recording badge in the header")
        // Flood the socket from another process (about 100 k events/s), then kill -9 the dashboard mid-stream.
        let script = """
            import socket, sys, time
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            t = time.time()
            block = "".join('{"v":1,"type":"invocation","ts":%.6f,"endpoint":"GET /flood/%d","duration_ms":%d.5}\\n' % (t, i % 7, i % 90) for i in range(2000)).encode()
            end = t + 4
            while time.time() < end:
                try:
                    s.sendall(block)
                except OSError:
                    break
                time.sleep(0.018)
            """
        try shell("(python3 -c \(quote(script)) \(quote(sock)) > /dev/null 2>&1 &)")
        Thread.sleep(forTimeInterval: 2)
        try shell("pkill -KILL -f -- '^\(bin) watch --socket \(sock)'")
        Thread.sleep(forTimeInterval: 0.5)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        #expect(lines.first?.hasPrefix(#"{"bfftop_recording":1"#) == true)
        let decoder = NativeDecoder()
        var good = 0
        var bad: [Int] = []
        for (i, l) in lines.enumerated().dropFirst() {
            if case .success = decoder.decode(l) { good += 1 } else { bad.append(i) }
        }
        #expect(good > 20_000, "a second or more of events was flushed before the kill (\(good))")
        #expect(bad.isEmpty || bad == [lines.count - 1], "only the last line may be cut; bad lines at \(bad)")
    }

    @Test func replayKeysMoveTheProgressBar() throws {
        try requireTools()
        let file = "/tmp/bfftop-e2e-\(getpid())-replay.ndjson"
        defer { unlink(file) }
        // Two minutes of a recording: header, then 10 invocations a second with receive times.
        let t0 = 1_732_460_000.0
        var text = #"{"bfftop_recording":1,"started":1732460000,"source":"e2e"}"# + "\n"
        for i in 0..<1200 {
            let rt = t0 + Double(i) / 10
            text += #"{"rt":\#(rt),"v":1,"type":"invocation","ts":\#(rt - 0.05),"endpoint":"GET /replayed","duration_ms":50}"# + "\n"
        }
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let tmux = TmuxDriver(name: "replay")
        defer { tmux.stop(killing: file) }
        try tmux.start("TZ=UTC \(bin) replay \(file); echo EXIT=$?; sleep 15", width: 100, height: 30)
        let playing = tmux.waitFor { $0.contains("▶ 1×") && $0.contains("/ 1:59") && $0.contains("GET /replayed") }
        #expect(playing.ok, "plays at 1× with a progress bar:\n\(playing.screen)")
        tmux.keys("Space")
        #expect(tmux.waitFor { $0.contains("⏸ 1×") }.ok, "space pauses")
        tmux.keys("Right", "Right", "Right")
        let seeked = tmux.waitFor { s in s.contains("0:3") && s.contains("⏸") }
        #expect(seeked.ok, "→ seeks 10 s each:\n\(seeked.screen)")
        tmux.keys("]", "]")
        #expect(tmux.waitFor { $0.contains("⏸ 5×") }.ok, "] is faster")
        tmux.keys("End")
        #expect(tmux.waitFor { $0.contains("■") && $0.contains("1:59 / 1:59") }.ok, "End goes to the end")
        tmux.keys("Home")
        #expect(tmux.waitFor { $0.contains("0:00 / 1:59") }.ok, "Home goes to the start")
        tmux.keys("q")
        #expect(tmux.waitFor { $0.contains("EXIT=0") }.ok)
    }

    @Test func forwardTurnsLambdaLogsOnStdinIntoLiveEvents() throws {
        try requireTools()
        let sock = "/tmp/bfftop-e2e-\(getpid())-f.sock"
        let log = "/tmp/bfftop-e2e-\(getpid())-f.log"
        defer { unlink(log) }
        let tmux = TmuxDriver(name: "fwd")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock); sleep 15", width: 120, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        // What `sam local start-api 2>&1` prints: app output, START/END, REPORT lines without timestamps.
        // The app lines' own timestamps place the REPORTs after them.
        var text = ""
        let now = Date().ISO8601Format(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        for i in 0..<25 {
            text += "START RequestId: r\(i) Version: $LATEST\n\(now)Z\tr\(i)\tINFO\thandled\nEND RequestId: r\(i)\n"
            text += "REPORT RequestId: r\(i)\tDuration: \(100 + i).00 ms\tBilled Duration: \(100 + i) ms\tMemory Size: 512 MB\tMax Memory Used: 80 MB\t\(i == 0 ? "Init Duration: 300.00 ms\t" : "")\n"
        }
        text += #"{"v":1,"type":"invocation","ts":\#(Date().timeIntervalSince1970),"endpoint":"GET /native","duration_ms":5}"# + "\n"
        try text.write(toFile: log, atomically: true, encoding: .utf8)
        let r = try shell("\(bin) forward --socket \(sock) --function sam-fn < \(log)")
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("26 events forwarded"), "\(r.output)")
        #expect(r.output.contains("75 other log lines"), "\(r.output)")
        let shown = tmux.waitFor { $0.contains("sam-fn") && $0.contains("GET /native") }
        #expect(shown.ok, "forwarded events on the dashboard:\n\(shown.screen)")
        let row = shown.screen.split(separator: "\n").first { $0.contains("sam-fn") } ?? ""
        #expect(row.contains("fn"), "kind function: \(row)")
    }

    @Test func secondInstanceOnTheSameSocketIsRefusedClearly() throws {
        try requireTools()
        let sock = "/tmp/bfftop-e2e-\(getpid())-c.sock"
        let tmux = TmuxDriver(name: "dup")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock); sleep 15")
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let r = try shell("script -qec \(quote("\(bin) watch --socket \(sock)")) /dev/null")
        #expect(r.status != 0)
        #expect(r.output.contains("something is already listening on \(sock)"), "\(r.output)")
    }

    @Test func refusesWhenStdoutIsNotATerminal() throws {
        try requireTools()
        let out = "/tmp/bfftop-e2e-\(getpid()).out"
        defer { unlink(out) }
        let r = try shell("\(bin) watch --socket /tmp/bfftop-e2e-\(getpid())-d.sock > \(out) 2>&1; echo status=$?; cat \(out)")
        #expect(r.output.contains("stdout is not a terminal"), "\(r.output)")
        #expect(!r.output.contains("status=0"), "\(r.output)")
    }

    /// An unknown TERM made ncurses exit the process from initscr(), leaving the socket behind; a
    /// dumb terminal scribbled on one line. Both are refused, with the reason, before anything starts.
    @Test func unusableTerminalsAreRefusedBeforeAnythingStarts() throws {
        try requireTools()
        for term in ["nosuchterm", "dumb"] {
            let sock = "/tmp/bfftop-e2e-\(getpid())-term-\(term).sock"
            let tmux = TmuxDriver(name: "term-\(term)")
            defer { tmux.stop(killing: sock) }
            try tmux.start("TERM=\(term) \(bin) watch --socket \(sock); echo EXITED=$?; sleep 10", width: 200, height: 20)
            let s = tmux.waitFor { $0.contains("EXITED=") }
            #expect(s.screen.contains("TERM=\(term)") && !s.screen.contains("EXITED=0"), "\(s.screen)")
            var st = stat()
            #expect(lstat(sock, &st) != 0, "TERM=\(term) left the socket behind")
        }
    }
}

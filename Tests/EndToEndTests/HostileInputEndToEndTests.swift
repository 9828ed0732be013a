import Foundation
import Testing

/// Hostile input against the real binary, as another local process would send it: every line that
/// once trapped, froze or silently vanished, then good events that must still be shown and recorded.
@Suite struct HostileInputEndToEndTests {
    let bin = TmuxDriver.binary

    /// Sends each argument as one line over the Unix socket (a fresh connection each), and the
    /// datagrams after `--udp PORT` over UDP.
    static let sender = #"""
    import socket, sys, time
    path, port = sys.argv[1], int(sys.argv[2])
    lines = [l.encode() for l in sys.argv[3:]]
    for l in lines:
        s = socket.socket(socket.AF_UNIX); s.connect(path); s.sendall(l + b"\n"); s.close()
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    s.sendall(b'{"v":1,"type":"invocation","endpoint":"long' + b"x" * (2 << 20))   # 2 MiB, no newline yet
    s.sendall(b'\n'); s.close()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for d in [b"a.errors:1e19|c|#route:/x", b"b.latency:1e300|ms|#route:/x", b"c.errors:1|c|#route:/x|T1", b"d.latency:5|ms|@5e-324|#route:/dsd"]:
        u.sendto(d, ("127.0.0.1", port))
    print("sent")
    """#

    static let good = #"""
    import socket, sys, time
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    now = time.time()
    s.sendall(b"".join(b'{"v":1,"type":"invocation","ts":%.3f,"endpoint":"GET /good","duration_ms":%d,"status":200}\n' % (now - 0.5, 10 + i) for i in range(50)))
    s.close()
    print("sent")
    """#

    @Test func hostileLinesNeitherKillNorFreezeNorVanish() throws {
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-hostile.sock", rec = "/tmp/bfftop-e2e-\(id)-hostile.ndjson"
        let sender = "/tmp/bfftop-e2e-\(id)-hostile.py", good = "/tmp/bfftop-e2e-\(id)-good.py"
        defer { for f in [rec, sender, good] { unlink(f) } }
        try Self.sender.write(toFile: sender, atomically: true, encoding: .utf8)
        try Self.good.write(toFile: good, atomically: true, encoding: .utf8)
        let port = Int(try shell("python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'").output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 18125
        let tmux = TmuxDriver(name: "hostile")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --dogstatsd-udp 127.0.0.1:\(port) --record \(rec) --refresh 0.2; sleep 10", width: 160, height: 40)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let now = Int(Date().timeIntervalSince1970)
        let hostile = [
            #"{"v":1,"type":"invocation","ts":0,"endpoint":"ancient","duration_ms":5}"#,
            #"{"v":1,"type":"start","ts":1,"endpoint":"ancient","id":"x"}"#,
            #"{"v":1,"type":"invocation","ts":\#(now + 86400),"endpoint":"tomorrow","duration_ms":5}"#,
            #"{"v":1,"type":"invoke_result","id":1e300,"status":200}"#,
            #"{"v":1,"type":"invoke_result","id":"7","status":1e300}"#,
            #"{"_aws":{"Timestamp":\#(now)000,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["function_name"]],"Metrics":[{"Name":"Errors","Unit":"Count"}]}]},"function_name":"f","Errors":1e300}"#,
            #"{"_aws":{"Timestamp":\#(now)000,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["function_name"]],"Metrics":[{"Name":"ColdStart","Unit":"Count"}]}]},"function_name":"f","ColdStart":1e19}"#,
            #"{"v":1,"type":"invocation","ts":\#(now),"endpoint":"huge","duration_ms":1e308}"#,
        ]
        let sent = try shell("python3 \(sender) \(sock) \(port) " + hostile.map(quote).joined(separator: " "))
        #expect(sent.output.contains("sent"), "\(sent.output)")
        #expect(try shell("python3 \(good) \(sock)").output.contains("sent"))
        let shown = tmux.waitFor { $0.contains("GET /good") && $0.contains("not counted") && $0.contains("/dsd") }
        #expect(shown.ok, "good events shown, the ancient and future ones counted as not counted:\n\(shown.screen)")
        #expect(shown.screen.contains("4 not counted (3 too old, 1 from the future)"), "ts 0, start at 1, DogStatsD T1; a day ahead:\n\(shown.screen)")
        #expect(!shown.screen.contains("ancient") && !shown.screen.contains("tomorrow"), "refused events leave no empty rows:\n\(shown.screen)")
        // Alive, with its clock moving and memory bounded.
        let pid = try shell("pgrep -f -- \(quote("^\(bin) watch --socket \(sock)"))").output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(!pid.isEmpty, "the dashboard died:\n\(tmux.screen())")
        let rss = try shell("awk '/VmRSS/ {print $2}' /proc/\(pid)/status").output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect((Int(rss) ?? .max) < 300_000, "RSS \(rss) kB")
        tmux.keys("q")
        usleep(800_000)
        let r = try shell("\(bin) report \(rec) --format csv 2>/dev/null")
        let rows = reportRows(r.output)
        #expect(rows["GET /good"]?["count"] == "50", "the good events were recorded: \(r.output)")
    }

    /// CPU seconds (user + system) the process has used so far.
    static func cpuSeconds(_ pid: String) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return -1 }
        let f = stat[stat.index(after: close)...].split(separator: " ")
        guard f.count > 13, let u = Double(f[11]), let s = Double(f[12]) else { return -1 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test func runningOutOfDescriptorsBacksOffInsteadOfSpinning() throws {
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-emfile.sock", dsd = "/tmp/bfftop-e2e-\(id)-emfile-dsd.sock"
        let holder = "/tmp/bfftop-e2e-\(id)-emfile.py", good = "/tmp/bfftop-e2e-\(id)-emfile-good.py"
        defer { for f in [holder, good] { unlink(f) } }
        try Self.good.write(toFile: good, atomically: true, encoding: .utf8)
        // Holds up to 150 connections to each socket for 4 s, then closes them. A connect can block
        // once a listener's queue is full (nothing is accepted while descriptors are out): timeouts.
        try #"""
        import socket, sys, time
        held = []
        for path in sys.argv[1:]:
            for _ in range(150):
                s = socket.socket(socket.AF_UNIX); s.settimeout(0.2)
                try:
                    s.connect(path); held.append(s)
                except OSError:
                    s.close()
        print("holding", len(held), flush=True)
        time.sleep(4)
        for s in held: s.close()
        print("closed", flush=True)
        """#.write(toFile: holder, atomically: true, encoding: .utf8)
        let tmux = TmuxDriver(name: "emfile")
        defer { tmux.stop(killing: sock) }
        try tmux.start("ulimit -n 64; \(bin) watch --socket \(sock) --dogstatsd-stream \(dsd) --refresh 0.2; sleep 10", width: 140, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let pid = try shell("pgrep -f -- \(quote("^\(bin) watch --socket \(sock)"))").output.split(separator: "\n").first.map(String.init) ?? ""
        let out = "/tmp/bfftop-e2e-\(id)-emfile.out"
        defer { unlink(out) }
        func holderSaid(_ word: String) -> Bool { ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains(word) }
        try shell("python3 \(holder) \(sock) \(dsd) > \(out) 2>&1 &")
        for _ in 0..<300 where !holderSaid("holding") { usleep(50_000) }
        #expect(holderSaid("holding"))
        // Descriptors are exhausted while the connections are held: measure the CPU meanwhile.
        let cpu0 = Self.cpuSeconds(pid)
        usleep(2_000_000)
        let cpu1 = Self.cpuSeconds(pid)
        #expect(cpu0 >= 0 && cpu1 - cpu0 < 0.5, "\(cpu1 - cpu0) s of CPU in 2 s with descriptors exhausted")
        for _ in 0..<300 where !holderSaid("closed") { usleep(50_000) }
        #expect(try shell("python3 \(good) \(sock)").output.contains("sent"))
        let shown = tmux.waitFor { $0.contains("GET /good") }
        #expect(shown.ok, "accepting resumes once descriptors are free:\n\(shown.screen)")
        #expect(shown.screen.contains("connections refused (out of file descriptors)"), "\(shown.screen)")
        tmux.keys("q")
    }

    /// kill -9 while recording: what the engine took from the socket is already in the file (the
    /// kernel's page cache survives the kill). Before, up to half a second of events sat in a
    /// buffer in the process and vanished with it.
    @Test func killNineWhileRecordingLosesNothingTheEngineHadTaken() throws {
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-kill.sock", rec = "/tmp/bfftop-e2e-\(id)-kill.ndjson", sender = "/tmp/bfftop-e2e-\(id)-kill.py"
        defer { for f in [rec, sender] { unlink(f) } }
        try #"""
        import socket, sys, time
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
        now = time.time()
        for k in range(20):
            s.sendall(b"".join(b'{"v":1,"type":"invocation","ts":%.3f,"endpoint":"GET /k","duration_ms":1,"id":"%d"}\n' % (now, k * 100 + i) for i in range(100)))
            time.sleep(0.01)
        print("sent", flush=True)
        time.sleep(30)
        """#.write(toFile: sender, atomically: true, encoding: .utf8)
        let tmux = TmuxDriver(name: "kill")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --record \(rec) --refresh 0.1; sleep 30", width: 140, height: 30)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let pid = try shell("pgrep -f -- \(quote("^\(bin) watch --socket \(sock)"))").output.split(separator: "\n").first.map(String.init) ?? ""
        let out = "/tmp/bfftop-e2e-\(id)-kill.out"
        defer { unlink(out) }
        try shell("python3 \(sender) \(sock) > \(out) 2>&1 &")
        // The sender is done within about 0.2 s and the engine takes events within milliseconds;
        // the old recorder held up to half a second of them in memory.
        for _ in 0..<100 where !((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("sent") { usleep(20_000) }
        #expect(tmux.waitFor { $0.contains("GET /k") }.ok)
        usleep(100_000)
        try shell("kill -9 \(pid)")
        usleep(300_000)
        let recorded = (try? String(contentsOfFile: rec, encoding: .utf8))?.split(separator: "\n").filter { $0.contains("GET /k") }.count ?? 0
        #expect(recorded == 2000, "\(recorded) of 2000 events in the recording after kill -9")
    }

    /// A fatal signal: the terminal comes back, the crash report is printed (not waiting for a key),
    /// and the process is gone within seconds.
    @Test(arguments: ["SEGV", "ABRT"])
    func fatalSignalsRestoreTheTerminalAndEndTheProcess(_ signal: String) throws {
        let sock = "/tmp/bfftop-e2e-\(getpid())-crash-\(signal).sock"
        let tmux = TmuxDriver(name: "crash-\(signal)")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock); echo \"EXITED $?\"; stty -a | grep -o ' icanon' ; sleep 30", width: 120, height: 40)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        let pid = try shell("pgrep -f -- \(quote("^\(bin) watch --socket \(sock)"))").output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(!pid.isEmpty)
        try shell("kill -\(signal) \(pid)")
        let gone = tmux.waitFor(15) { $0.contains("EXITED") }
        #expect(gone.ok, "still running 15 s after SIG\(signal):\n\(gone.screen)")
        let all = tmux.history()
        #expect(all.contains("Program crashed"), "the crash report is printed:\n\(all)")
        #expect(!all.contains("Press space to interact"), "\(all)")
        #expect(tmux.waitFor(5) { $0.contains(" icanon") }.ok, "the terminal is back in canonical mode")
    }

    @Test func replayOfAFileSpanningYearsSkipsTheSilenceAndQuitsAtOnce() throws {
        let id = "\(getpid())"
        let file = "/tmp/bfftop-e2e-\(id)-replay-years.ndjson"
        defer { unlink(file) }
        let now = Int(Date().timeIntervalSince1970)
        var text = ""
        for k in stride(from: 3, through: 0, by: -1) {
            text += #"{"v":1,"type":"invocation","ts":\#(now - k * 365 * 86400),"endpoint":"GET /years","duration_ms":5}"# + "\n"
        }
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let tmux = TmuxDriver(name: "replay-years")
        defer { tmux.stop(killing: file) }
        try tmux.start("\(bin) replay \(file); echo \"EXITED $?\"; sleep 30", width: 120, height: 30)
        // At 1×: three years of silence are skipped, so the last event plays within seconds.
        let end = tmux.waitFor(20) { $0.contains("GET /years") && $0.contains("26280:00:00 / 26280:00:00") }
        #expect(end.ok, "the replay reached its end:\n\(end.screen)")
        tmux.keys("q")
        #expect(tmux.waitFor(5) { $0.contains("EXITED 0") }.ok, "q quits at once:\n\(tmux.screen())")
    }

    @Test func configNumbersThatUsedToTrapAreNamedErrors() throws {
        let id = "\(getpid())"
        let file = "/tmp/bfftop-e2e-\(id)-hostile.toml"
        defer { unlink(file) }
        try "[invoke]\nmax_burst = 1e19\nburst = -3\n[[alarm]]\nmetric = \"error_rate\"\nthreshold = 0.1\nmin_events = 1e300\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let r = try shell("\(bin) config --check --config \(file) 2>&1; echo \"EXITED $?\"")
        #expect(r.output.contains("max_burst: must be at most 100000 (got 1e+19)"), "\(r.output)")
        #expect(r.output.contains("burst: must be at least 1 (got -3)"), "\(r.output)")
        #expect(r.output.contains("min_events: must be at most 1000000000"), "\(r.output)")
        #expect(!r.output.contains("EXITED 0") && !r.output.contains("Fatal error") && !r.output.contains("crashed"), "\(r.output)")
        // 50,000 nested arrays overflowed the parser's stack.
        let deep = String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000)
        try "[dogstatsd]\nendpoint_tags = \(deep)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let d = try shell("\(bin) config --check --config \(file) 2>&1; echo \"EXITED $?\"")
        #expect(d.output.contains("arrays nested more than 32 deep") && !d.output.contains("EXITED 0"), "\(d.output)")
    }

    /// Endpoint names carrying a screen clear, a window title, an OSC 52 clipboard write, a C1 CSI and
    /// a right-to-left override: no report format passes any of them to the terminal.
    @Test func reportOutputCarriesNoControlCharactersFromNames() throws {
        let file = "/tmp/bfftop-e2e-\(getpid())-ctl.ndjson"
        defer { unlink(file) }
        let now = Int(Date().timeIntervalSince1970)
        let names = [#"\u001b[2J\u001b]0;pwned\u0007GET /a"#, #"\u001b]52;c;ZXZpbA==\u0007GET /b"#, #"\u009b31mGET /c"#, #"GET /\u202egnp.exe"#]
        let text = names.map { #"{"v":1,"type":"invocation","ts":\#(now),"endpoint":"\#($0)","duration_ms":5,"service":"\#($0)"}"# }.joined(separator: "\n") + "\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        for format in ["table", "csv", "markdown", "json"] {
            let r = try shell("\(bin) report \(file) --format \(format) 2>/dev/null")
            let bytes = Array(r.output.utf8)
            #expect(r.output.contains("GET /a") && r.output.contains("GET /c"), "\(format): \(r.output)")
            #expect(!bytes.contains(0x1B) && !bytes.contains(0x07), "\(format) passes ESC or BEL through")
            #expect(!r.output.unicodeScalars.contains { (0x80...0x9F).contains($0.value) || $0.value == 0x202E }, "\(format) passes C1 or bidi through")
        }
    }

    @Test func reportOnAFileSpanningYearsIsInstantAndSmall() throws {
        let id = "\(getpid())"
        let file = "/tmp/bfftop-e2e-\(id)-years.ndjson"
        defer { unlink(file) }
        let now = Int(Date().timeIntervalSince1970)
        var text = ""
        for k in stride(from: 5, through: 0, by: -1) {
            text += #"{"v":1,"type":"invocation","ts":\#(now - k * 365 * 86400),"endpoint":"GET /a","duration_ms":5}"# + "\n"
        }
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try shell("/usr/bin/time -f 'rss=%M' \(bin) report \(file) --format csv 2>&1")
        #expect(reportRows(r.output)["GET /a"] != nil, "\(r.output)")
        let rss = Int(r.output.components(separatedBy: "rss=").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? .max
        #expect(rss < 150_000, "peak RSS \(rss) kB")
    }

    @Test func reportSkipsAnEndlessLineInConstantMemory() throws {
        let id = "\(getpid())"
        let file = "/tmp/bfftop-e2e-\(id)-endless.ndjson"
        defer { unlink(file) }
        let now = Int(Date().timeIntervalSince1970)
        let good = #"{"v":1,"type":"invocation","ts":\#(now),"endpoint":"GET /a","duration_ms":5}"#
        // 64 MiB without a newline between two good lines.
        let gen = "python3 -c \"import sys; o=sys.stdout.buffer; o.write(sys.argv[1].encode()+b'\\n'); o.write(b'x'*(64<<20)+b'\\n'); o.write(sys.argv[1].encode()+b'\\n')\" \(quote(good)) > \(file)"
        #expect(try shell(gen).status == 0)
        let r = try shell("/usr/bin/time -f 'rss=%M' \(bin) report \(file) 2>&1")
        #expect(r.output.contains("1 malformed lines skipped"), "\(r.output)")
        #expect(r.output.contains("GET /a") && r.output.contains("total: 2 invocations"), "\(r.output)")
        let rss = Int(r.output.components(separatedBy: "rss=").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? .max
        #expect(rss < 100_000, "peak RSS \(rss) kB for a 64 MiB line")
    }
}

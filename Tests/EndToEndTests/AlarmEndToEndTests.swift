import BFFTopWire
import Foundation
import Testing

/// A firing alarm, end to end: a config with a rule, events through `bfftop forward`, and the real
/// dashboard in tmux showing it in the header and the alarms pane, acknowledging it, and logging it.
@Suite struct AlarmEndToEndTests {
    let bin = TmuxDriver.binary

    @Test func firingAlarmShowsInHeaderAndPaneAndIsLogged() throws {
        guard access("/usr/bin/tmux", X_OK) == 0 || access("/usr/local/bin/tmux", X_OK) == 0 else {
            Issue.record("tmux is required (apt-get install -y tmux)")
            return
        }
        let id = "\(getpid())"
        let sock = "/tmp/bfftop-e2e-\(id)-al.sock"
        let config = "/tmp/bfftop-e2e-\(id)-al.toml"
        let alarmLog = "/tmp/bfftop-e2e-\(id)-al.log"
        let events = "/tmp/bfftop-e2e-\(id)-al.ndjson"
        defer { for f in [config, alarmLog, events] { unlink(f) } }
        try """
            [alarms]
            defaults = false
            log = "\(alarmLog)"

            [[alarm]]
            name = "checkout slow"
            metric = "p99"
            threshold = 500
            applies_to = "POST /checkout"
            severity = "critical"
            min_events = 0
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let tmux = TmuxDriver(name: "alarm")
        defer { tmux.stop(killing: sock) }
        try tmux.start("\(bin) watch --socket \(sock) --config \(config) --refresh 0.2; sleep 15", width: 120, height: 32)
        #expect(tmux.waitFor { $0.contains("Waiting for events") }.ok)
        // p99 of these is 900 ms: over the 500 ms threshold; a fast endpoint stays quiet.
        let now = Date().timeIntervalSince1970
        var text = ""
        for i in 0..<20 {
            let slow = Invocation(ts: now - 1 - Double(i) * 0.01, endpoint: "POST /checkout", durationMs: i < 10 ? 100 : 900)
            let fast = Invocation(ts: now - 1, endpoint: "GET /health", durationMs: 2)
            text += NativeEncoder.encode(.invocation(slow)) + "\n" + NativeEncoder.encode(.invocation(fast)) + "\n"
        }
        try text.write(toFile: events, atomically: true, encoding: .utf8)
        let sent = try shell("\(bin) forward --socket \(sock) < \(events)")
        #expect(sent.status == 0, "\(sent.output)")
        let fired = tmux.waitFor { $0.contains("⚠ 1 alarm") }
        #expect(fired.ok, "header badge:\n\(fired.screen)")
        #expect(fired.screen.contains("critical: checkout slow on POST /checkout"), "notice line:\n\(fired.screen)")
        let row = fired.screen.split(separator: "\n").first { $0.contains("POST /checkout") && $0.contains("route") } ?? ""
        #expect(row.contains("⚠ POST /checkout") || row.contains("POST /checkout"), "\(row)")
        tmux.keys("A")
        let pane = tmux.waitFor { $0.contains("Alarms 1 firing") }
        #expect(pane.ok, "alarms pane:\n\(pane.screen)")
        #expect(pane.screen.contains("●C"), "\(pane.screen)")
        #expect(pane.screen.contains("checkout slow · POST /checkout"), "\(pane.screen)")
        tmux.keys("a")
        let acked = tmux.waitFor { $0.contains("⚠ 1 alarm ✓") && $0.contains("✓C") }
        #expect(acked.ok, "acknowledged:\n\(acked.screen)")
        // The log line is written when the alarm fires.
        let log = (try? String(contentsOfFile: alarmLog, encoding: .utf8)) ?? ""
        #expect(log.contains(#"FIRING critical "checkout slow" POST /checkout p99="#), "alarm log: \(log)")
        #expect(log.contains("(> 500.00ms)"), "alarm log: \(log)")
    }

    @Test func badConfigIsRefusedWithFileLineAndKey() throws {
        let config = "/tmp/bfftop-e2e-\(getpid())-bad.toml"
        defer { unlink(config) }
        try "refresh = 0.01\n[[alarm]]\nmetric = \"p42\"\nthreshold = 1\n[keys]\nquit = \"nope\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let r = try shell("\(bin) config --check --config \(config)")
        #expect(r.status != 0)
        #expect(r.output.contains("config has 3 errors"), "every problem in one round, the keys' too: \(r.output)")
        #expect(r.output.contains("\(config):6: keys.quit: unknown key \"nope\""), "\(r.output)")
        #expect(r.output.contains("\(config):1: refresh: must be between 0.1 s and 60 s"), "\(r.output)")
        #expect(r.output.contains("\(config):3: alarm.metric: expected one of"), "\(r.output)")
        let keys = "/tmp/bfftop-e2e-\(getpid())-keys.toml"
        defer { unlink(keys) }
        try "[keys]\nquit = \"nope\"\n".write(toFile: keys, atomically: true, encoding: .utf8)
        let k = try shell("\(bin) config --check --config \(keys)")
        #expect(k.output.contains("\(keys):2: keys.quit: unknown key \"nope\""), "\(k.output)")
        let missing = try shell("\(bin) watch --config /nonexistent/bfftop.toml")
        #expect(missing.output.contains("config: cannot read /nonexistent/bfftop.toml: no such file"), "\(missing.output)")
        let def = try shell("\(bin) config --print-default")
        #expect(def.status == 0 && def.output.contains("[cost]"))
    }
}

/// Colour depth as a person's terminal gets it: exact #rrggbb on a direct-colour terminal, the
/// nearest of 256 on a 256-colour one, none with NO_COLOR.
@Suite struct ColorDepthEndToEndTests {
    let bin = TmuxDriver.binary

    func sgr(term: String, extra: String = "") throws -> String {
        let sock = "/tmp/bfftop-e2e-\(getpid())-\(term.hashValue & 0xFFFF).sock"
        let tmux = TmuxDriver(name: "color\(term.count)\(extra.count)")
        defer { tmux.stop(killing: sock) }
        // `swift test` may itself run with NO_COLOR set: clear it unless the case sets it.
        try tmux.start("env -u NO_COLOR TERM=\(term) \(extra) \(bin) watch --socket \(sock) --theme nord; sleep 10", width: 100, height: 30)
        _ = tmux.waitFor { $0.contains("Waiting for events") }
        return tmux.screenWithEscapes()
    }

    @Test func truecolorOnDirectColourTerminalsElseNearest256ElseNone() throws {
        // nord's title colour #88c0d0 = (136, 192, 208).
        let direct = try sgr(term: "xterm-direct")
        #expect(direct.contains("38;2;136;192;208"), "24-bit colour on xterm-direct (needs ncurses-term):\n\(direct.prefix(400))")
        let indexed = try sgr(term: "xterm-256color")
        #expect(!indexed.contains("38;2;"), "no 24-bit sequences on a 256-colour terminal")
        #expect(indexed.contains("38;5;"), "256-colour sequences:\n\(indexed.prefix(400))")
        let none = try sgr(term: "xterm-256color", extra: "NO_COLOR=1")
        #expect(!none.contains("38;5;") && !none.contains("38;2;"), "NO_COLOR:\n\(none.prefix(400))")
    }
}

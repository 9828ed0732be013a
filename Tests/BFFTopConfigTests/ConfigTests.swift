import BFFTopInvoke
import BFFTopStats
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import BFFTopConfig

@Suite struct ConfigTests {
    func errors(_ text: String) -> [String] {
        do {
            _ = try ConfigLoader.parse(text, file: "c.toml")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func theDefaultConfigParsesToTheDefaults() throws {
        let c = try ConfigLoader.parse(DefaultConfig.text, file: "default.toml")
        #expect(c.warnings.isEmpty, "\(c.warnings)")
        #expect(c.alarms == AlarmRule.defaults)
        #expect(c.refresh == 1)
        #expect(c.window == .oneMinute)
        #expect(c.cost.provider == .awsLambdaX86)
        #expect(DefaultConfig.text.contains("# per_gb_second = 0.0000166667"))
        #expect(DefaultConfig.text.contains("timeouts: timeouts > 0 over 1m"))
    }

    @Test func fullConfig() throws {
        let text = """
            socket = "/tmp/x.sock"
            refresh = "500ms"
            window = "5m"
            theme = "nord"

            [alarms]
            defaults = false
            bell = true
            log = "/tmp/alarms.log"

            [[alarm]]
            name = "checkout slow"
            metric = "p99"
            threshold = "budget"
            for = "2m"
            applies_to = "GET /checkout*"
            severity = "critical"

            [[alarm]]
            metric = "error_rate"
            op = ">="
            threshold = 5
            window = "15m"
            applies_to = "functions"

            [cost]
            provider = "gcp-cloud-run-functions"
            free_tier = true
            budget_per_hour = 2.5

            [prices.gcp-cloud-run-functions]
            per_request = 0.0000005

            [[function]]
            match = "resize-*"
            memory_mb = 1024
            arch = "arm64"
            timeout = "30s"
            latency_budget = "800ms"
            provisioned_concurrency = 2

            [keys]
            quit = ["q", "ctrl-c"]
            sort = "o"
            """
        let c = try ConfigLoader.parse(text, file: "c.toml")
        #expect(c.warnings.isEmpty)
        #expect(c.socket == "/tmp/x.sock")
        #expect(c.refresh == 0.5)
        #expect(c.window == .fiveMinutes)
        #expect(c.theme == "nord")
        #expect(c.bell)
        #expect(c.alarmLog == "/tmp/alarms.log")
        #expect(c.alarms.count == 3)
        #expect(c.alarms[0].threshold == nil && c.alarms[0].metric == .p99 && c.alarms[0].forSeconds == 120)
        #expect(c.alarms[0].scope == .pattern("GET /checkout*"))
        #expect(c.alarms[1].comparison == .greaterOrEqual && c.alarms[1].window == .fifteenMinutes && c.alarms[1].scope == .kind(.function))
        #expect(c.alarms[2].scope == .total && c.alarms[2].threshold == 2.5)
        #expect(c.cost.provider == .gcpCloudRunFunctions && c.cost.freeTier)
        #expect(c.cost.sheet(.gcpCloudRunFunctions).perRequest == 0.0000005)
        #expect(c.cost.sheet(.gcpCloudRunFunctions).source == "config c.toml:32")
        let f = try #require(c.functions.first)
        #expect(f.pattern == "resize-*" && f.memoryMB == 1024 && f.arch == .arm64 && f.timeoutMs == 30_000 && f.latencyBudgetMs == 800)
        #expect(c.keys == [.init(action: "quit", keys: ["q", "ctrl-c"], line: 43), .init(action: "sort", keys: ["o"], line: 44)])
    }

    @Test func endpointCapIsConfigurable() throws {
        let c = try ConfigLoader.parse("max_endpoints = 500", file: "c.toml")
        #expect(c.aggregatorConfig.maxEndpoints == 500)
        #expect(errors("max_endpoints = 0") == ["c.toml:1: max_endpoints: must be at least 1 (got 0)"])
    }

    @Test func errorsNameFileLineKeyAndWhatWasExpected() {
        #expect(errors("refresh = \"fast\"") == ["c.toml:1: refresh: expected a duration like 500ms, 30s, 2m or 1h (or seconds as a number), at most a year"])
        // Numbers that would trap when converted, or overflow what they size, are refused by name.
        #expect(errors("[invoke]\nmax_burst = 1e19") == ["c.toml:2: invoke.max_burst: must be at most 100000 (got 1e+19)"])
        #expect(errors("[invoke]\nburst = 2.5") == ["c.toml:2: invoke.burst: must be a whole number (got 2.5)"])
        #expect(errors("[[alarm]]\nmetric = \"error_rate\"\nthreshold = 0.1\nmin_events = -1").first == "c.toml:4: alarm.min_events: must be at least 0 (got -1)")
        let deep = "x = " + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000)
        #expect(errors(deep) == ["c.toml:1: x: arrays nested more than 32 deep"])
        #expect(errors("window = \"2m\"") == [#"c.toml:1: window: expected one of "1m", "5m", "15m", "1h", got "2m""#])
        #expect(errors("\n[cost]\nprovider = \"heroku\"").first?.hasPrefix("c.toml:3: cost.provider: expected one of \"aws-lambda-x86_64\"") == true)
        #expect(errors("[[alarm]]\nmetric = \"p99\"\n") == [#"c.toml:1: alarm.threshold: missing; a number, or "budget" for p50/p95/p99/cost_per_hour"#])
        #expect(errors("[[alarm]]\nmetric = \"p42\"\nthreshold = 1").first?.hasPrefix("c.toml:2: alarm.metric: expected one of") == true)
        #expect(errors("[[function]]\nmemory_mb = \"big\"") == [
            "c.toml:1: function.match: missing; a name or glob like \"resize-*\"",
        ])
        #expect(errors("[[function]]\nmatch = \"a\"\nmemory_mb = \"big\"") == ["c.toml:3: function.memory_mb: expected a number, got a string"])
        #expect(errors("theme = dark") == ["c.toml:1: theme: not a value: dark (strings need quotes)"])
        #expect(errors("theme = \"dark") == ["c.toml:1: theme: unterminated string"])
        #expect(errors("[cost\n") == ["c.toml:1: unterminated table header [cost"])
        #expect(errors("theme = \"a\"\ntheme = \"b\"") == ["c.toml:2: theme: duplicate key"])
        // Several errors at once.
        #expect(errors("refresh = 0\nwindow = 3").count == 2)
    }

    @Test func unknownKeysAreWarningsNotSilentNoOps() throws {
        let c = try ConfigLoader.parse("colour = \"red\"\n[cost]\nprovder = \"x\"", file: "c.toml")
        #expect(c.warnings.map(\.description) == [
            "c.toml:1: colour: unknown key, ignored (known here: socket, refresh, window, theme, max_endpoints, listen_beyond_loopback, alarms, alarm, cost, prices, function, keys, target, invoke, dogstatsd, otlp, prometheus)",
            "c.toml:3: cost.provder: unknown key, ignored (known here: provider, free_tier, default_memory_mb, budget_per_hour)",
        ])
    }

    @Test func tomlSubset() throws {
        let t = try TOMLParser.parse("""
            a = 1_000  # comment
            b = 'lit#eral'
            c = "esc\\"aped # not a comment"
            d = [1, 2.5, "x"]
            [t."quoted.key"]
            e = true
            [[arr]]
            x = 1
            [[arr]]
            x = 2
            """, file: "t.toml")
        #expect(t["a"]?.value == .integer(1000))
        #expect(t["b"]?.value == .string("lit#eral"))
        #expect(t["c"]?.value == .string("esc\"aped # not a comment"))
        #expect(t["d"]?.value == .array([.integer(1), .float(2.5), .string("x")]))
        guard case .table(let tt)? = t["t"]?.value, case .table(let q)? = tt["quoted.key"]?.value else {
            Issue.record("no [t.\"quoted.key\"]")
            return
        }
        #expect(q["e"]?.value == .bool(true))
        guard case .tables(let arr)? = t["arr"]?.value else {
            Issue.record("no [[arr]]")
            return
        }
        #expect(arr.map { $0["x"]?.value } == [.integer(1), .integer(2)])
        #expect(arr.map(\.line) == [7, 9])
    }
}

@Suite struct TargetConfigTests {
    @Test func targetsAndInvokeSettings() throws {
        let c = try ConfigLoader.parse("""
            [invoke]
            burst = 5
            max_burst = 50
            ramp_rate = 2
            ramp_for = "1m"

            [[target]]
            match = "POST /api/bookings"
            method = "post"
            url = "http://localhost:3000/api/bookings"
            headers = ["Content-Type: application/json"]
            body = '{"slot": 1}'
            confirm = false
            [target.payloads]
            morning = '{"slot": 9}'

            [[target]]
            match = "booking-*"
            type = "lambda"
            endpoint = "http://localhost:3001"
            function = "booking-create"
            """, file: "c.toml")
        #expect(c.warnings.isEmpty)
        #expect(c.invoke.burst == 5 && c.invoke.maxBurst == 50 && c.invoke.rampRate == 2 && c.invoke.rampSeconds == 60)
        #expect(c.targets.count == 2)
        let http = try #require(c.targets.first)
        #expect(http.confirm == false)
        #expect(http.presets.map(\.name) == ["morning"])
        if case .http(let r) = http.target {
            #expect(r.method == "POST" && r.headers == ["Content-Type: application/json"] && r.body == Array(#"{"slot": 1}"#.utf8))
        } else { Issue.record("http target expected") }
        if case .lambda(let l) = c.targets[1].target {
            #expect(l.request.url == "http://localhost:3001/2015-03-31/functions/booking-create/invocations")
            #expect(l.request.headers.contains("X-Amz-Log-Type: Tail"))
        } else { Issue.record("lambda target expected") }
        #expect(TargetResolver.spec(for: "booking-cancel", in: c.targets)?.match == "booking-*")
        #expect(throws: ConfigErrors.self) { _ = try ConfigLoader.parse("[[target]]\nmatch = \"x\"\ntype = \"lambda\"\n", file: "c.toml") }
        #expect(throws: ConfigErrors.self) { _ = try ConfigLoader.parse("[invoke]\nburst = 500\n", file: "c.toml") }
    }
}

/// The config chooses where requests go and which files bfftop appends to: a file someone else
/// could have written is refused (as ssh refuses its config), and no read blocks or grows unbounded.
@Suite struct ConfigFileTrustTests {
    func temp(_ name: String) -> String { "/tmp/bfftop-test-\(getpid())-\(name)-\(UInt32.random(in: 0...UInt32.max))" }

    @Test func aConfigOthersCanWriteIsRefused() throws {
        let path = temp("cfg.toml")
        defer { unlink(path) }
        try "theme = \"dark\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        #expect((try? ConfigLoader.readFile(path).get()) == "theme = \"dark\"\n")
        chmod(path, 0o666)
        guard case .failure(let e) = ConfigLoader.readFile(path) else {
            Issue.record("a world-writable config was read")
            return
        }
        #expect(e.description == "\(path): others can write it (mode 666); refusing it, as ssh does: chmod go-w \(path)")
        chmod(path, 0o600)
        if geteuid() == 0 {
            chown(path, 65534, 65534)
            guard case .failure(let f) = ConfigLoader.readFile(path) else {
                Issue.record("another user's config was read")
                return
            }
            #expect(f.description.contains("it belongs to uid 65534, not to you"))
        }
        #expect((try? ConfigLoader.readFile(temp("absent")).get()) == .some(nil), "no file: the defaults apply")
    }

    @Test func neitherAFIFONorAnEndlessFileHangsTheConfigOrABody() throws {
        let fifo = temp("fifo")
        mkfifo(fifo, 0o600)
        defer { unlink(fifo) }
        guard case .failure(let e) = ConfigLoader.readFile(fifo) else {
            Issue.record("a FIFO was read as a config")
            return
        }
        #expect(e.description.hasSuffix("not a regular file"))
        let config = temp("body.toml")
        defer { unlink(config) }
        let text = """
            [[target]]
            match = "a"
            url = "http://localhost/a"
            body_file = "\(fifo)"
            [[target]]
            match = "b"
            url = "http://localhost/b"
            body_file = "/dev/zero"
            """
        do {
            _ = try ConfigLoader.parse(text, file: config)
            Issue.record("a FIFO and /dev/zero were accepted as bodies")
        } catch {
            let d = error.errors.map(\.description)
            #expect(d.contains { $0.contains("cannot read \(fifo): not a regular file") }, "\(d)")
            #expect(d.contains { $0.contains("cannot read /dev/zero: not a regular file") }, "\(d)")
        }
    }
}

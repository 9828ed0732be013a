import BFFTopStats
import BFFTopWire

/// The commented default config that `bfftop config --print-default` prints. Built from the same
/// values the program uses (alarm defaults, price book), so it cannot drift from them.
public enum DefaultConfig {
    public static var text: String {
        var s = """
            # bfftop configuration. Location: $XDG_CONFIG_HOME/bfftop/config.toml (or ~/.config/bfftop/config.toml),
            # or --config PATH. Command-line options win over this file. Check it with `bfftop config --check`.

            # socket = "/run/user/1000/bfftop.sock"   # default: $BFFTOP_SOCKET, $XDG_RUNTIME_DIR/bfftop.sock, /tmp/bfftop-$UID/bfftop.sock
            # listen_beyond_loopback = false   # true allows listeners other machines can reach (a udp of 0.0.0.0:8125); the header says so
            refresh = "1s"          # 0.1s … 60s
            window = "1m"           # 1m, 5m, 15m, 1h
            # theme = "dark"        # default: light on a light terminal background, else dark; a name from themes/, a path, or "mono"
            max_endpoints = \(AggregatorConfig().maxEndpoints)   # named rows; further names are counted in (other routes) / (other functions)
            # prometheus = "127.0.0.1:9464"   # serve /metrics for a Prometheus server to scrape, as --prometheus

            # [otlp]
            # http = "127.0.0.1:4318"   # OpenTelemetry traces over OTLP/HTTP (protobuf or JSON), as --otlp-http
            # grpc = "127.0.0.1:4317"   # ... and over OTLP/gRPC, as --otlp-grpc; either may be "unix:/path/to/socket"

            [alarms]
            defaults = true         # keep the built-in rules listed below; false = only your [[alarm]] rules
            bell = false            # ring the terminal bell when an alarm fires
            flash = false           # flash the screen when an alarm fires
            # log = "~/bfftop-alarms.log"   # append every alarm transition to this file

            # Built-in rules (metric op threshold, window, for, scope, severity):

            """
        for r in AlarmRule.defaults {
            let t = r.threshold.map { formatted($0) + r.metric.unit } ?? (r.metric == .costPerHour ? "cost_budget_per_hour" : "latency_budget")
            s += "#   \(r.name): \(r.metric.rawValue) \(r.comparison.rawValue) \(t) over \(r.window), for \(formatted(r.forSeconds))s, \(r.scope), \(r.severity.rawValue)\n"
        }
        s += """

            # Your own rules. metric: \(AlarmMetric.allCases.map(\.rawValue).joined(separator: ", "))
            # [[alarm]]
            # name = "checkout slow"
            # metric = "p99"
            # op = ">"                  # >, >=, <, <=
            # threshold = 800           # in the metric's unit (ms, %, $/h, s), or "budget" (p50/p95/p99/cost_per_hour)
            # window = "5m"
            # for = "2m"                # how long it must hold before firing
            # applies_to = "GET /checkout*"   # all, routes, functions, total, or a glob on the endpoint name
            # severity = "critical"     # warning, critical
            # min_events = 10           # rates are not judged on fewer invocations

            [cost]
            provider = "aws-lambda-x86_64"   # \(Provider.allCases.map(\.rawValue).joined(separator: ", "))
            free_tier = false         # subtract the provider's monthly free grant from the projection
            default_memory_mb = 128   # for functions that report no memory size
            # budget_per_hour = 2.50  # alarm when everything together costs more per hour

            # Per-function settings, by name or glob; later entries override earlier ones.
            # [[function]]
            # match = "resize-*"
            # provider = "aws-lambda-arm64"
            # memory_mb = 1024
            # arch = "arm64"
            # timeout = "30s"
            # concurrency_limit = 100
            # provisioned_concurrency = 5
            # vcpu = 1                  # Google / Alibaba
            # latency_budget = "800ms"  # threshold for the "p99 over budget" alarm
            # cost_budget_per_hour = 0.50

            # Prices (USD) used, with their source; override any of them:

            """
        for sheet in PriceBook.sheets {
            s += "# [prices.\(sheet.provider.rawValue)]   # \(sheet.source), \(sheet.date)\n"
            if sheet.perRequest > 0 { s += "# per_request = \(formatted(sheet.perRequest))\n" }
            if sheet.perGBSecond > 0 { s += "# per_gb_second = \(formatted(sheet.perGBSecond))\n" }
            if sheet.perVCPUSecond > 0 { s += "# per_vcpu_second = \(formatted(sheet.perVCPUSecond))\n" }
            if sheet.perCU > 0 { s += "# per_cu = \(formatted(sheet.perCU))\n" }
        }
        s += """

            # Test invocations (i, I, b, B in the dashboard; `bfftop invoke`). Endpoints of emitters that declare
            # them on the socket (the demo fleet does) need no target.
            [invoke]
            burst = 20              # b: this many at once
            max_burst = 200         # hard cap on a burst and …
            max_in_flight = 100     # … on requests in flight at once
            ramp_rate = 5           # B: this many per second …
            ramp_for = "10s"        # … for this long
            max_rate = 100
            max_ramp = "5m"
            hide_test_traffic = false   # T toggles: keep test invocations out of the figures

            # [[target]]                # an HTTP route, a function URL, sam local start-api
            # match = "POST /api/bookings"
            # method = "POST"
            # url = "http://localhost:3000/api/bookings"
            # headers = ["Content-Type: application/json"]
            # body = '{"slot": 1}'      # or body_file = "booking.json" (relative to this file)
            # timeout = "10s"
            # confirm = true            # POST/PUT/PATCH/DELETE, hosts off this machine and every burst/ramp ask first; false skips it
            # record = false            # count the client's measurement as test traffic (instrumented BFFs report it anyway)
            # [target.payloads]         # presets for I
            # morning = '{"slot": 9}'
            #
            # [[target]]                # Lambda Invoke API: RIE, sam local start-lambda, LocalStack
            # match = "booking-*"
            # type = "lambda"
            # endpoint = "http://localhost:3001"
            # function = "booking-create"   # omit for the Runtime Interface Emulator's single function
            # payload = '{"slot": 1}'
            # log_tail = true           # X-Amz-Log-Type: Tail: the REPORT gives duration, billed, memory, cold start
            # confirm = true            # a Lambda invoke runs the function: it always asks, unless false

            # Key bindings: action = "key" or ["key", "key"]. Keys: a character, "space", "enter", "esc", "tab",
            # "up", "down", "left", "right", "pgup", "pgdn", "home", "end", "ctrl-x". See the help overlay (?).
            # [keys]
            # quit = ["q", "ctrl-c"]
            # sort = "o"

            """
        return s
    }

    /// Plain decimals (TOML has no use for 2e-07 here), trailing zeros trimmed.
    static func formatted(_ d: Double) -> String {
        var t = formatFixed(d, 12)
        if t.contains(".") {
            while t.hasSuffix("0") { t.removeLast() }
            if t.hasSuffix(".") { t.removeLast() }
        }
        return t
    }
}

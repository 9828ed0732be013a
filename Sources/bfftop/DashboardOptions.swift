#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BFFTopConfig
import BFFTopEngine
import BFFTopIngest
import BFFTopInvoke
import BFFTopStats
import BFFTopTerminal
import BFFTopUI
import BFFTopWire
import FoundationEssentials
import NIOPosix

struct DashboardOptions: ParsableArguments {
    @Option(help: "Unix socket to listen on (default: $BFFTOP_SOCKET, else $XDG_RUNTIME_DIR/bfftop.sock, else /tmp/bfftop-$UID/bfftop.sock).")
    var socket: String?

    @Option(name: .customLong("connect"), help: "Also read events from a socket an emitter or relay serves (repeatable).")
    var connect: [String] = []

    @Option(help: "Theme name or path to a .toml theme (default: the config's, else dark; mono, or one in a themes directory).")
    var theme: String?

    @Option(help: "Seconds between dashboard refreshes (default: the config's, else 1).")
    var refresh: Double?

    @Option(help: "Initial window: 1m, 5m, 15m or 1h (default: the config's, else 1m).")
    var window: String?

    @OptionGroup var config: ConfigOption

    @Option(help: "Also listen for DogStatsD on this Unix datagram socket (e.g. /var/run/datadog/dsd.socket).")
    var dogstatsd: String?

    @Option(help: "Also listen for DogStatsD on this Unix stream socket (4-byte little-endian length frames).")
    var dogstatsdStream: String?

    @Option(help: "Also listen for DogStatsD over UDP, e.g. 127.0.0.1:8125 (loopback only, unless --listen-beyond-loopback).")
    var dogstatsdUdp: String?

    @Option(name: .customLong("otlp-http"), help: ArgumentHelp(
        "Receive OpenTelemetry traces over OTLP/HTTP (POST /v1/traces, protobuf or JSON, gzip) on HOST:PORT or unix:PATH: server spans become routes, GraphQL operations and functions.",
        valueName: "addr"))
    var otlpHttp: String?

    @Option(name: .customLong("otlp-grpc"), help: ArgumentHelp(
        "Receive OpenTelemetry traces over OTLP/gRPC on HOST:PORT or unix:PATH (the Collector's otlp exporter sends to unix:///path).",
        valueName: "addr"))
    var otlpGrpc: String?

    @Option(help: ArgumentHelp(
        "Serve Prometheus metrics at http://HOST:PORT/metrics (requests, failures, cold starts, cost and a latency histogram per endpoint since the start), e.g. 127.0.0.1:9464.",
        valueName: "host:port"))
    var prometheus: String?

    @Flag(help: "Receive OpenTelemetry traces on OTLP's default ports: HTTP on 127.0.0.1:4318 and gRPC on 127.0.0.1:4317.")
    var otlp = false

    @Flag(help: "Allow listeners that other machines can reach (e.g. --dogstatsd-udp 0.0.0.0:8125); the header then says so.")
    var listenBeyondLoopback = false

    @Option(help: "Append every received event to FILE (NDJSON, replayable).")
    var record: String?

    @Option(help: "Rotate the recording when it reaches this size (e.g. 100M, 2G); keeps FILE.1 … FILE.5.")
    var recordMaxSize: String?

    var recordMaxBytes: Int? { recordMaxSize.flatMap(parseSize) }

    func validate() throws {
        if let s = recordMaxSize, parseSize(s) == nil {
            throw ValidationError("--record-max-size must be a size like 500K, 100M or 2G (got \(s))")
        }
        if recordMaxSize != nil, record == nil { throw ValidationError("--record-max-size needs --record FILE") }
        if let refresh, refresh < 0.1 || refresh > 60 { throw ValidationError("--refresh must be between 0.1 and 60 seconds") }
        if let window, Window(name: window) == nil { throw ValidationError("--window must be one of 1m, 5m, 15m, 1h (got \(window))") }
        if let u = dogstatsdUdp, UDPAddress(u) == nil { throw ValidationError("--dogstatsd-udp must be HOST:PORT, like 127.0.0.1:8125 (got \(u))") }
        if let u = otlpHttp, ListenAddress(u) == nil { throw ValidationError("--otlp-http must be HOST:PORT or unix:PATH, like 127.0.0.1:4318 (got \(u))") }
        if let u = prometheus, ListenAddress(u).map({ if case .tcp = $0 { true } else { false } }) != true {
            throw ValidationError("--prometheus must be HOST:PORT, like 127.0.0.1:9464 (got \(u)); Prometheus cannot scrape a Unix socket")
        }
        if let u = otlpGrpc, ListenAddress(u) == nil { throw ValidationError("--otlp-grpc must be HOST:PORT or unix:PATH, like 127.0.0.1:4317 (got \(u))") }
    }
}

/// Starts ingest and the engine, runs the dashboard until the user quits, then cleans up
/// (socket file removed, terminal restored) whatever way the session ends.
enum DashboardSession {
    static func run(options o: DashboardOptions, config: Config, socket: SocketLocation, mode: String, beforeDashboard: () -> Void = {}) async throws {
        let socketPath = socket.path
        let env = ProcessInfo.processInfo.environment
        // Before any socket exists: a terminal that cannot be used must leave nothing behind.
        if let problem = Terminal.problem(environment: env) { throw CLIError(problem.description) }
        let (themes, themeIndex) = try loadThemes(o.theme ?? config.theme ?? DashboardSession.defaultTheme(env), environment: env)
        let keymap = try Keymap.standard.applying(config.keys, file: config.file ?? "config")
        var alarmLog: AlarmLog?
        if let path = config.alarmLog {
            do {
                alarmLog = try AlarmLog(path: expandHome(path, env))
            } catch {
                throw CLIError(error.description)
            }
        }
        let stats = IngestStats()
        // The header names the source in words ("live /run/user/1000/bfftop.sock"), not the UI's glyph.
        let sourceWords = mode.unicodeScalars.filter { $0.properties.isAlphabetic || $0 == " " }.map(String.init).joined().trimmedWhitespace
        let recorder = o.record.map { Recorder(path: $0, source: "\(sourceWords) \(socketPath)", maxBytes: o.recordMaxBytes) }
        let prometheusAddress = o.prometheus ?? config.prometheus
        var aggregatorConfig = config.aggregatorConfig
        // Prometheus counters must only grow: the engine keeps every endpoint's lifetime for them.
        aggregatorConfig.keepsLifetime = prometheusAddress != nil
        let engine = LiveEngine(
            stats: stats, refreshInterval: o.refresh ?? config.refresh ?? 1, config: aggregatorConfig, recorder: recorder,
            alarms: config.alarms, alarmLog: alarmLog)
        let group = IngestThreads.makeGroup()
        // `bfftop snapshot` gets the frame the dashboard draws.
        let control = ControlRegistry { SnapshotJSON.frame(engine.frame()) }
        // Results of test invocations that the dashboard should count go through the same mailbox
        // as socket events (the emitters behind the control channel report their own).
        let mailbox = engine.mailbox
        let invoker = InvocationRunner(settings: config.invoke, control: control) { rec in
            guard rec.feed else { return }
            mailbox.deliver(WireEventBatch(receivedAt: wallClock(), events: [.invocation(rec.dashboardEvent)]))
        }
        let listener: Listener
        do {
            listener = try await Listener.start(location: socket, sink: engine.mailbox, stats: stats, group: group, control: control)
        } catch {
            try? await group.shutdownGracefully()
            throw CLIError(error.description)
        }
        let subscribers = o.connect.map { Subscriber.start(path: $0, sink: engine.mailbox, stats: stats, group: group) }
        var dogstatsd: [DogStatsDServer] = []
        var wanted: [DogStatsDServer.Endpoint] = []
        if let p = o.dogstatsd ?? config.dogstatsdSocket { wanted.append(.datagram(expandHome(p, env))) }
        if let p = o.dogstatsdStream ?? config.dogstatsdStream { wanted.append(.stream(expandHome(p, env))) }
        if let u = (o.dogstatsdUdp ?? config.dogstatsdUDP).flatMap(UDPAddress.init) { wanted.append(.udp(host: u.host, port: u.port)) }
        let beyondLoopback = o.listenBeyondLoopback || config.listenBeyondLoopback
        for w in wanted {
            do {
                dogstatsd.append(try await DogStatsDServer.start(
                    w, sink: engine.mailbox, stats: stats, mapper: config.dogstatsdMapping, group: group, beyondLoopback: beyondLoopback))
            } catch {
                for d in dogstatsd { d.stop() }
                listener.stopNow()
                try? await group.shutdownGracefully()
                throw CLIError("dogstatsd \(w): \(error.description)")
            }
        }
        let otlp: OTLPReceivers
        do {
            otlp = try await OTLPReceivers.start(
                http: o.otlpHttp ?? config.otlpHTTP ?? (o.otlp ? "127.0.0.1:4318" : nil),
                grpc: o.otlpGrpc ?? config.otlpGRPC ?? (o.otlp ? "127.0.0.1:4317" : nil),
                sink: engine.mailbox, stats: stats, group: group, beyondLoopback: beyondLoopback)
        } catch {
            for d in dogstatsd { d.stop() }
            listener.stopNow()
            try? await group.shutdownGracefully()
            throw error
        }
        var prometheus: PrometheusServer?
        if let p = prometheusAddress, case .tcp(let host, let port)? = ListenAddress(p) {
            do {
                prometheus = try await PrometheusServer.start(host: host, port: port, stats: stats, group: group, beyondLoopback: beyondLoopback) { reply in
                    engine.lifetime { reply(PrometheusText.render($0, version: BFFTop.configuration.version)) }
                }
            } catch {
                otlp.stop()
                for d in dogstatsd { d.stop() }
                listener.stopNow()
                try? await group.shutdownGracefully()
                throw CLIError("prometheus \(p): \(error.description)")
            }
        }
        engine.start()
        beforeDashboard()
        var state = AppState(
            frame: engine.frame(), source: SourceInfo(mode: mode, detail: socketPath), themes: themes,
            colorDepth: env["NO_COLOR"].map { !$0.isEmpty } == true ? .mono : .truecolor, keymap: keymap, utcOffset: localUTCOffset())
        state.themeIndex = themeIndex
        state.window = o.window.flatMap(Window.init(name:)) ?? config.window ?? .oneMinute
        state.bellOnAlarm = config.bell
        state.flashOnAlarm = config.flash
        state.targets = config.targets
        state.invokeSettings = config.invoke
        state.hideTestTraffic = config.invoke.hideTestTraffic
        engine.update(state.snapshotRequest)
        let reload = reloader(options: o, source: engine, environment: env)
        let result = await runUI(state: state, source: engine, environment: env, invoker: invoker, invokable: { control.invokable }, reload: reload)
        invoker.cancelAll()
        for s in subscribers { s.stop() }
        for d in dogstatsd { d.stop() }
        otlp.stop()
        prometheus?.stop()
        listener.stopNow()
        engine.stop()
        try? await group.shutdownGracefully()
        try result.get()
    }

    /// Runs the UI loop on a thread of its own (it blocks in ncurses, so not on a pool thread).
    static func runUI(state: AppState, source: any FrameSource, environment: [String: String], invoker: InvocationRunner? = nil,
                      invokable: (@Sendable () -> Set<String>)? = nil,
                      reload: (@Sendable () -> Result<ConfigReload, ReloadFailure>)? = nil) async -> Result<Void, Error> {
        await withCheckedContinuation { cont in
            startThread(name: "bfftop-ui") {
                cont.resume(returning: Result {
                    try DashboardRunner.run(state: state, source: source, environment: environment, invoker: invoker, invokable: invokable, reload: reload)
                })
            }
        }
    }

    /// `R`: reads the config file again with every check start-up makes; a config with errors is
    /// refused whole (the running one stays) and the header says why. Alarm rules, per-endpoint
    /// settings and prices go to the engine; keys, themes (unless --theme chose one), targets and
    /// the bell to the screen. Listeners and the socket stay as they are.
    static func reloader(options o: DashboardOptions, source: any FrameSource, environment env: [String: String])
        -> @Sendable () -> Result<ConfigReload, ReloadFailure> {
        let configOption = o.config
        let fixedTheme = o.theme != nil
        return {
            do {
                let c = try configOption.load(quiet: true)
                let keymap = try Keymap.standard.applying(c.keys, file: c.file ?? "config")
                // No terminal query here (ncurses owns the terminal): a config without a theme keeps the current one.
                let themes = fixedTheme ? nil : try c.theme.map { try loadThemes($0, environment: env).0 }
                source.reconfigure(EngineReconfiguration(alarms: c.alarms, functions: c.functions, cost: c.aggregatorConfig.cost))
                let file = c.file ?? "built-in defaults"
                let summary = "config reloaded from \(file): \(c.alarms.count) alarm rules, \(c.functions.count) function settings, \(c.targets.count) targets"
                    + (c.warnings.isEmpty ? "" : ", \(c.warnings.count) warnings (bfftop config --check)")
                return .success(ConfigReload(keymap: keymap, themes: themes, targets: c.targets, invokeSettings: c.invoke, bell: c.bell,
                                             flash: c.flash, summary: summary))
            } catch {
                // The first problem, located (the header has one line); --check lists them all.
                var lines = "\(error)".split(separator: "\n").map(String.init)
                if lines.count > 1, lines[0].hasPrefix("config has") { lines.removeFirst() }
                let more = lines.count > 1 ? " (+\(lines.count - 1) more: bfftop config --check)" : ""
                return .failure(ReloadFailure((lines.first ?? "\(error)") + more))
            }
        }
    }

    /// The theme when neither the command line nor the config names one: light on a light
    /// terminal background (COLORFGBG, or the terminal's answer to OSC 11), else dark.
    static func defaultTheme(_ env: [String: String]) -> String {
        TerminalBackground.detect(environment: env) == .light ? "light" : "dark"
    }

    /// Every available theme (so `t` can cycle), and the index of the one asked for.
    static func loadThemes(_ wanted: String, environment: [String: String]) throws -> ([Theme], Int) {
        let dirs = ThemeLoader.searchDirectories(environment: environment, executablePath: CommandLine.arguments[0])
        let chosen: Theme
        do {
            chosen = try ThemeLoader.load(wanted, dirs: dirs)
        } catch {
            throw CLIError("theme: \(error)")
        }
        var themes = [chosen]
        for name in ThemeLoader.available(dirs: dirs) where name != chosen.name {
            if let t = try? ThemeLoader.load(name, dirs: dirs) { themes.append(t) }
        }
        return (themes, 0)
    }

    static func localUTCOffset() -> Int {
        var t = time(nil)
        var parts = tm()
        localtime_r(&t, &parts)
        return parts.tm_gmtoff
    }
}

/// `~/x` → `$HOME/x`.
func expandHome(_ path: String, _ env: [String: String]) -> String {
    path.hasPrefix("~/") ? (env["HOME"] ?? "") + path.dropFirst() : path
}

/// "500K", "100M", "2G", "1048576" -> bytes.
func parseSize(_ s: String) -> Int? {
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
    let upper = String(s.uppercased().filter { $0 != "B" })
    if let last = upper.last, let unit = units[last], let n = Double(upper.dropLast()), n > 0 { return Int(n * Double(unit)) }
    if let n = Int(upper), n > 0 { return n }
    return nil
}

/// One message to stderr. Messages quote names, paths and lines from the outside: control
/// characters are made inert here, once, for every message (`TerminalSafe`).
func printError(_ s: String) {
    let line = TerminalSafe.cleanKeepingLines(s) + "\n"
    _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
}

/// One line of output (to stdout) that quotes text from the outside, made inert like `printError`'s.
func printOut(_ s: String) {
    print(TerminalSafe.cleanKeepingLines(s))
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

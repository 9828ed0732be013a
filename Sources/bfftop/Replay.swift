import ArgumentParser
import BFFTopConfig
import BFFTopEngine
import BFFTopStats
import BFFTopTerminal
import BFFTopUI
import BFFTopWire
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay recordings and real function logs (CloudWatch text, JSON exports, Telemetry API, EMF) on a virtual clock.",
        discussion: """
            Keys: space pause/resume, ←/→ ±10 s, Shift-←/→ ±1 min, [ ] slower/faster, Home/End start/end, \
            g go to a time. Several files are merged in time order. Seeking back rebuilds the figures from \
            the first event, so any position shows exactly what playing to it would.
            """)

    @Argument(help: "Recordings, exported function logs (CloudWatch text, JSON exports, Telemetry API) or EMF files.")
    var files: [String]

    @Option(help: "Playback speed: 0.1 to 1000, or max.")
    var speed: String = "1"

    @Option(help: "Start at: Unix seconds, a clock time (12:00:30) or an offset from the first event (+5m, 90s).")
    var from: String?

    @Option(help: "Stop at: same forms as --from.")
    var to: String?

    @Option(help: "Function name for Lambda log lines (REPORT lines do not name their function).")
    var function: String = "lambda"

    @Option(help: "Theme name or path (default: the config's, else dark).")
    var theme: String?

    @Option(help: "Initial window: 1m, 5m, 15m or 1h (default: the config's, else 1m).")
    var window: String?

    @OptionGroup var config: ConfigOption

    var speedValue: Double? {
        if speed == "max" { return .infinity }
        guard let v = Double(speed), v >= 0.1, v <= 1000 else { return nil }
        return v
    }

    func validate() throws {
        guard speedValue != nil else { throw ValidationError("--speed must be between 0.1 and 1000, or max (got \(speed))") }
        if let window, Window(name: window) == nil { throw ValidationError("--window must be one of 1m, 5m, 15m, 1h") }
    }

    static func time(_ text: String?, flag: String, start: Double, utcOffset: Int) throws -> Double? {
        guard let text else { return nil }
        guard let t = AppState.parseTime(text, start: start, position: start, utcOffset: utcOffset) else {
            throw CLIError("\(flag) \(text): not a time (Unix seconds, 12:00:30, +5m or 90s)")
        }
        return t
    }

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let cfg = try config.load()
        if let problem = Terminal.problem(environment: ProcessInfo.processInfo.environment) { throw CLIError(problem.description) }
        let offset = DashboardSession.localUTCOffset()
        let span: (start: Double, end: Double)
        do {
            span = try ReplayEngine.span(of: files, function: function)
        } catch {
            throw CLIError(error.description)
        }
        let fromTime = try Self.time(from, flag: "--from", start: span.start, utcOffset: offset)
        let toTime = try Self.time(to, flag: "--to", start: span.start, utcOffset: offset)
        let engine: ReplayEngine
        do {
            engine = try ReplayEngine(paths: files, speed: speedValue ?? 1, from: fromTime, to: toTime, function: function,
                                      config: cfg.aggregatorConfig, alarms: cfg.alarms)
        } catch {
            throw CLIError(error.description)
        }
        let (themes, _) = try DashboardSession.loadThemes(theme ?? cfg.theme ?? DashboardSession.defaultTheme(env), environment: env)
        let keymap = try Keymap.replay.applying(cfg.keys, file: cfg.file ?? "config")
        var state = AppState(
            frame: engine.frame(), source: SourceInfo(mode: "▷ replay", detail: files.joined(separator: " + ")), themes: themes,
            colorDepth: env["NO_COLOR"].map { !$0.isEmpty } == true ? .mono : .truecolor, keymap: keymap, utcOffset: offset)
        state.window = window.flatMap(Window.init(name:)) ?? cfg.window ?? .oneMinute
        state.bellOnAlarm = cfg.bell
        state.flashOnAlarm = cfg.flash
        engine.update(state.snapshotRequest)
        engine.start()
        let result = await DashboardSession.runUI(state: state, source: engine, environment: env)
        engine.stop()
        try result.get()
    }
}

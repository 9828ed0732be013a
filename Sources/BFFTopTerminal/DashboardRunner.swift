import BFFTopEngine
import BFFTopInvoke
import BFFTopUI
import BFFTopWire
import CNCursesW
#if canImport(Glibc)
import Glibc
#endif

/// The UI loop: the one thread that owns `AppState` and the terminal. It takes engine frames and
/// keys, updates state, and redraws only when something changed. Keys are read with a short
/// timeout, so input never waits for data and an idle dashboard sleeps.
public final class DashboardRunner {
    private let terminal: Terminal
    private let source: any FrameSource
    private let invoker: InvocationRunner?
    private let invokable: (@Sendable () -> Set<String>)?
    /// Reads the config file again (`R`): the UI's part comes back, the engine's goes to the source.
    private let reload: (@Sendable () -> Result<ConfigReload, ReloadFailure>)?
    public var state: AppState

    /// Returns once `q`, Ctrl-C, SIGTERM or SIGHUP ends the session. The terminal is restored
    /// before returning (and on a crash, by the handlers the terminal installs).
    public static func run(state: AppState, source: any FrameSource, environment: [String: String],
                           invoker: InvocationRunner? = nil, invokable: (@Sendable () -> Set<String>)? = nil,
                           reload: (@Sendable () -> Result<ConfigReload, ReloadFailure>)? = nil) throws {
        let terminal = try Terminal(environment: environment)
        let runner = DashboardRunner(terminal: terminal, source: source, state: state, invoker: invoker, invokable: invokable, reload: reload)
        defer { terminal.close() }
        runner.loop()
    }

    private init(terminal: Terminal, source: any FrameSource, state: AppState, invoker: InvocationRunner?,
                 invokable: (@Sendable () -> Set<String>)?, reload: (@Sendable () -> Result<ConfigReload, ReloadFailure>)?) {
        self.terminal = terminal
        self.source = source
        self.invoker = invoker
        self.invokable = invokable
        self.reload = reload
        self.state = state
        self.state.colorDepth = state.theme.name == "mono" ? .mono : min(state.colorDepth, terminal.depth)
        installSignalHandlers()
    }

    private func installSignalHandlers() {
        bt_install_quit_handlers()
    }

    private func loop() {
        var lastSequence = -1
        var (w, h) = terminal.size
        state.resize(width: w, height: h)
        var dirty = true
        // Transient messages ("sorted by…", "acknowledged…") give the notice row back after 4 s.
        var shownMessage: String?
        var invocationsSeen = -1
        var messageSince = 0.0
        while !state.shouldQuit, bt_quit_requested() == 0, bt_crashed() == 0 {
            if state.message != shownMessage {
                shownMessage = state.message
                messageSince = monotonicSeconds()
            } else if shownMessage != nil, monotonicSeconds() - messageSince > 4 {
                state.message = nil
                shownMessage = nil
                dirty = true
            }
            let frame = source.frame()
            if let invoker, invoker.generation != invocationsSeen {
                // Test invocations run on their own threads; the pane shows where they are.
                invocationsSeen = invoker.generation
                state.invocations = invoker.snapshot
                dirty = true
            }
            if let invokable, frame.sequence != lastSequence { state.invokable = invokable() }
            if frame.sequence != lastSequence {
                lastSequence = frame.sequence
                state.receive(frame)
                source.update(state.snapshotRequest)  // the selection may have changed with the data
                if state.takeAlert() { terminal.alert(bell: state.bellOnAlarm, flash: state.flashOnAlarm) }
                dirty = true
            }
            if dirty, bt_crashed() == 0 {
                terminal.draw(Dashboard.render(state))
                dirty = false
            }
            // Wait for a key (or the next tick), then drain whatever else is queued.
            var key = terminal.readKey(timeoutMs: 100)
            while let k = key {
                if k == .resize {
                    (w, h) = terminal.size
                    state.resize(width: w, height: h)
                    terminal.invalidate()
                    dirty = true
                } else if k == .ctrl("l") {
                    terminal.invalidate()
                    dirty = true
                } else if state.handle(k) {
                    dirty = true
                }
                for c in state.takeCommands() { source.control(c) }
                if let which = state.takeAcknowledge() { source.acknowledgeAlarms(which) }
                if state.takeReload() {
                    switch reload?() {
                    case .success(let r)?: state.apply(r)
                    case .failure(let why)?: state.message = "config not reloaded: \(why.message)"
                    case nil: state.message = "nothing to reload here"
                    }
                    dirty = true
                }
                let (requests, cancel) = state.takeInvokes()
                if cancel { invoker?.cancelAll() }
                for r in requests {
                    guard let invoker else { break }
                    if case .failure(let f) = invoker.start(endpoint: r.endpoint, target: r.target, plan: r.plan, record: r.record) { state.message = f.description }
                }
                source.update(state.snapshotRequest)
                if state.shouldQuit { break }
                key = terminal.readKey(timeoutMs: 0)
            }
        }
        // A fatal signal: the crash report is being printed on the restored terminal. Touch nothing
        // (no endwin, no redraw); the signal handler ends the process (see bt_fatal_signal).
        while bt_crashed() != 0 { pause() }
    }
}

/// Why a config reload was refused (the running config stays).
public struct ReloadFailure: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser

@main
struct BFFTop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bfftop",
        abstract: "A live terminal dashboard for BFFs on serverless functions.",
        discussion: """
            Emitters (BFF servers, function runtimes) send one JSON event per line to a Unix socket; \
            bfftop shows throughput, latency percentiles, concurrency, cold starts, errors and cost per \
            endpoint, live. Try `bfftop demo` for a simulated fleet. Protocol: docs/protocol.md.
            """,
        version: "0.1.0",
        subcommands: [Watch.self, Demo.self, Replay.self, Report.self, Snapshot.self, Forward.self, Invoke.self, Simulate.self, ConfigCommand.self, Bench.self],
        defaultSubcommand: Watch.self)

    static func main() async {
        preferNonInteractiveCrashReports()
        do {
            var command = try parseAsRoot(nil)
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            // As ArgumentParser's own exit, but every message goes through printError/printOut:
            // errors quote paths, names and lines from the outside, made inert there.
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == .success { printOut(message) } else { printError(message) }
            }
            Glibc.exit(code.rawValue)
        }
    }

    /// On a terminal, Swift's backtracer asks "Press space to interact…" after a crash and waits
    /// 30 s for a key before the process may exit: a dashboard that crashed would seem to hang.
    /// The runtime reads `SWIFT_BACKTRACE` only as the process starts, so when it is unset we set
    /// `interactive=no` and start again in place (one `exec`, a few milliseconds); the crash report
    /// is still printed, after the terminal is restored. Set `SWIFT_BACKTRACE` yourself to choose.
    static func preferNonInteractiveCrashReports() {
        guard getenv("SWIFT_BACKTRACE") == nil, isatty(STDIN_FILENO) != 0 else { return }
        setenv("SWIFT_BACKTRACE", "interactive=no", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed (no /proc): carry on; only the wait after a crash is affected.
    }
}

#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BFFTopDemo
import BFFTopIngest
import BFFTopWire
import FoundationEssentials

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Listen on the socket and show the live dashboard (the default command).")

    @OptionGroup var options: DashboardOptions

    func run() async throws {
        let config = try options.config.load()
        let path = SocketPath.resolve(explicit: options.socket, environment: ProcessInfo.processInfo.environment, configured: config.socket)
        try await DashboardSession.run(options: options, config: config, socketPath: path, mode: "● live")
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The dashboard on a built-in simulated fleet (two BFFs, eight routes, six functions) sending through a real socket.")

    @OptionGroup var options: DashboardOptions

    @Option(help: "Traffic multiplier for the simulated fleet.")
    var intensity: Double = 1

    @Option(help: "Random seed for the fleet (default: the clock).")
    var seed: UInt64?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let config = try options.config.load()
        // Its own path by default, so a demo never collides with a real `bfftop watch`.
        let dir = env["XDG_RUNTIME_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let path = options.socket ?? "\(dir)/bfftop-demo-\(getuid()).sock"
        let fleet = DemoFleetRunner(path: path, seed: seed ?? UInt64(Date().timeIntervalSince1970), intensity: intensity)
        defer { fleet.stop() }
        try await DashboardSession.run(options: options, config: config, socketPath: path, mode: "◆ demo") { fleet.start() }
    }
}

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the demo fleet as a separate process, sending to a running dashboard's socket.")

    @Option(help: "Socket of the dashboard to send to (default as for `watch`).")
    var socket: String?

    @Option(help: "Traffic multiplier.")
    var intensity: Double = 1

    @Option(help: "Random seed (default: the clock).")
    var seed: UInt64?

    @Option(help: "Stop after this many seconds (default: run until interrupted).")
    var duration: Double?

    func run() async throws {
        let path = SocketPath.resolve(explicit: socket, environment: ProcessInfo.processInfo.environment)
        let fleet = DemoFleetRunner(path: path, seed: seed ?? UInt64(Date().timeIntervalSince1970), intensity: intensity)
        fleet.start()
        let started = Date()
        printError("bfftop simulate: sending the demo fleet to \(path) (Ctrl-C stops)")
        var lastReport = Date()
        while duration.map({ Date().timeIntervalSince(started) < $0 }) ?? true {
            try await Task.sleep(nanoseconds: 200_000_000)
            if Date().timeIntervalSince(lastReport) >= 5 {
                lastReport = Date()
                let note = fleet.eventsLost > 0 ? ", \(fleet.eventsLost) not delivered (is a dashboard listening on \(path)?)" : ""
                printError("sent \(fleet.eventsSent) events\(note)")
            }
        }
        fleet.stop()
        printError("sent \(fleet.eventsSent) events, \(fleet.eventsLost) not delivered")
    }
}

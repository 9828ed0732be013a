#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BFFTopDemo
import BFFTopEngine
import BFFTopIngest
import BFFTopWire
import FoundationEssentials

struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Listen on the socket and show the live dashboard (the default command).")

    @OptionGroup var options: DashboardOptions

    func run() async throws {
        let config = try options.config.load()
        let location = SocketPath.resolve(explicit: options.socket, environment: ProcessInfo.processInfo.environment, configured: config.socket)
        try await DashboardSession.run(options: options, config: config, socket: location, mode: "● live")
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
        // Its own name in the private default directory, so a demo never collides with a real `bfftop watch`.
        let location = options.socket.map { SocketLocation(path: $0) } ?? SocketLocation.defaultLocation(environment: env, name: "bfftop-demo.sock")
        let fleet = DemoFleetRunner(location: location, seed: seed ?? UInt64(Date().timeIntervalSince1970), intensity: intensity)
        defer { fleet.stop() }
        try await DashboardSession.run(options: options, config: config, socket: location, mode: "◆ demo") { fleet.start() }
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
        let location = SocketPath.resolve(explicit: socket, environment: ProcessInfo.processInfo.environment)
        let path = location.path
        let fleet = DemoFleetRunner(location: location, seed: seed ?? UInt64(Date().timeIntervalSince1970), intensity: intensity)
        fleet.start()
        let started = Date()
        printError("bfftop simulate: sending the demo fleet to \(path) (Ctrl-C stops)")
        var lastReport = Date()
        var refusalShown = false
        while duration.map({ Date().timeIntervalSince(started) < $0 }) ?? true {
            try await Task.sleep(nanoseconds: 200_000_000)
            if let r = fleet.lastRefusal, !refusalShown {
                refusalShown = true
                printError("bfftop simulate: \(r)")
            }
            if Date().timeIntervalSince(lastReport) >= 5 {
                lastReport = Date()
                let note = fleet.eventsLost > 0 ? ", \(fleet.eventsLost) not delivered (is a dashboard listening on \(path)?)" : ""
                printError("sent \(fleet.eventsSent) events\(note)")
            }
        }
        fleet.stop()
        printError("sent \(fleet.eventsSent) events, \(fleet.eventsLost) not delivered")
        if let r = fleet.lastRefusal { throw CLIError(r.description) }
    }
}

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
            Emitters (BFF servers, function runtimes) send one JSON event per line to a Unix socket;
            bfftop shows throughput, latency percentiles, concurrency, cold starts, errors and cost per
            endpoint, live. Try `bfftop demo` for a simulated fleet. Protocol: docs/protocol.md.
            """,
        version: "0.1.0",
        subcommands: [Watch.self, Demo.self, Replay.self, Report.self, Forward.self, Invoke.self, Simulate.self, ConfigCommand.self, Bench.self],
        defaultSubcommand: Watch.self)
}

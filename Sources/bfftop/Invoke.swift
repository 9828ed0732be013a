#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BFFTopConfig
import BFFTopDemo
import BFFTopEngine
import BFFTopIngest
import BFFTopInvoke
import BFFTopUI
import BFFTopWire
import FoundationEssentials
import Synchronization

struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fire test invocations at an endpoint (a config target, or ad hoc --url / --lambda-endpoint) and print the results.",
        discussion: """
            Examples:
              bfftop invoke "GET /api/slots"                      # its [[target]] in the config
              bfftop invoke "GET /api/slots" --burst 20           # 20 at once (asks first)
              bfftop invoke booking-create --ramp 5 --for 30s     # 5 per second for 30 s
              bfftop invoke --url http://localhost:3000/api/slots
              bfftop invoke --lambda-endpoint http://localhost:9000 --data '{"slot":9}'
            Non-idempotent methods (POST, PUT, PATCH, DELETE), bursts and ramps ask for confirmation \
            unless the target sets confirm = false or --yes is given.
            """)

    @Argument(help: "Endpoint name (its [[target]] in the config), or a label for --url / --lambda-endpoint.")
    var endpoint: String?

    @Option(help: "Send N at once.") var burst: Int?
    @Option(help: "Send N per second (with --for).") var ramp: Double?
    @Option(name: .customLong("for"), help: "Ramp length: 30s, 2m.") var rampFor: String?
    @Option(help: "A named payload preset of the target.") var payload: String?
    @Option(help: "Ad hoc HTTP target URL.") var url: String?
    @Option(help: "HTTP method for --url.") var method: String = "GET"
    @Option(name: .customLong("header"), help: "'Name: value' (repeatable).") var headers: [String] = []
    @Option(help: "Request body / Lambda payload.") var data: String?
    @Option(help: "Lambda Invoke API base URL (Runtime Interface Emulator, sam local start-lambda, LocalStack).") var lambdaEndpoint: String?
    @Option(help: "Function name for --lambda-endpoint (default: the emulator's `function`).") var function: String?
    @Option(help: "Seconds before a request times out.") var timeout: Double = 10
    @Option(help: "Also send the results to the dashboard on this socket, as test invocations.") var socket: String?
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @OptionGroup var config: ConfigOption

    func validate() throws {
        if url != nil, lambdaEndpoint != nil { throw ValidationError("use --url or --lambda-endpoint, not both") }
        if url == nil, lambdaEndpoint == nil, endpoint == nil { throw ValidationError("give an ENDPOINT with a [[target]] in the config, or --url / --lambda-endpoint") }
        if ramp != nil, rampFor == nil { throw ValidationError("--ramp needs --for (e.g. --for 30s)") }
        if burst != nil, ramp != nil { throw ValidationError("use --burst or --ramp, not both") }
        if let b = burst, b < 1 { throw ValidationError("--burst must be at least 1") }
    }

    func run() async throws {
        let cfg = try config.load()
        let name = endpoint ?? url ?? function ?? "lambda"
        var spec: TargetSpec
        if let url {
            spec = TargetSpec(match: name, target: .http(HTTPRequest(method: method, url: url, headers: headers, body: data.map { Array($0.utf8) }, timeout: timeout)))
        } else if let lambdaEndpoint {
            spec = TargetSpec(match: name, target: .lambda(LambdaTarget(baseURL: lambdaEndpoint, function: function, payload: Array((data ?? "{}").utf8), timeout: timeout)))
        } else if let found = TargetResolver.spec(for: name, in: cfg.targets) {
            spec = found
            if case .control = spec.target { throw CLIError("\(name): its target is an emitter on the dashboard's socket; invoke it from the dashboard (i)") }
        } else {
            throw CLIError(InvokeFailure.noTarget(endpoint: name).description)
        }
        if let p = payload, !spec.presets.contains(where: { $0.name == p }) {
            throw CLIError("\(name) has no payload preset \"\(p)\" (presets: \(spec.presets.map(\.name).joined(separator: ", ")))")
        }
        let plan: InvokePlan
        if let burst { plan = .burst(burst) } else if let ramp, let f = rampFor {
            guard let secs = ConfigLoader.duration(f) else { throw CLIError("--for \(f): not a duration (30s, 2m)") }
            plan = .ramp(perSecond: ramp, seconds: secs)
        } else { plan = .once }
        let target = spec.target(preset: payload)
        if !yes, let why = spec.confirmationReason(for: target, plan: plan) {
            let what = "\(plan == .once ? "send" : "send a \(plan)") \(target.summary)"
            guard isatty(STDIN_FILENO) == 1 else { throw CLIError("\(name): not sent (\(why)): it asks first, and stdin is not a terminal; pass --yes to send it") }
            printError("\(name): \(what) (\(why))? [y/N] ")
            guard let answer = readLine(), answer.lowercased().hasPrefix("y") else { throw CLIError("not sent") }
        }
        // Results arrive on several threads: one writer, behind a lock.
        let writer = Mutex(socket.map { SocketLineWriter(location: SocketPath.resolve(explicit: $0, environment: ProcessInfo.processInfo.environment)) })
        let runner = InvocationRunner(settings: cfg.invoke) { rec in
            // Error texts and log tails come from the service: inert before they reach the terminal.
            printOut(Self.line(rec))
            writer.withLock { w in _ = w?.write(NativeEncoder.encode(.invocation(rec.dashboardEvent)) + "\n") }
        }
        if case .failure(let f) = runner.start(endpoint: name, target: target, plan: plan) { throw CLIError(f.description) }
        runner.waitUntilIdle()
        writer.withLock { $0?.disconnect() }
        let recs = runner.snapshot.records
        printOut(Self.summary(recs))
        if recs.contains(where: { !$0.succeeded }) { throw ExitCode(1) }
    }


    static func line(_ r: InvocationRecord) -> String {
        let status = r.status.map(String.init) ?? r.outcome.description
        var parts = ["#\(r.id)".padded(to: 5), Self.time(r.time), r.endpoint, status, formatFixed(r.latencyMs, 1) + "ms", "\(r.bytes) B"]
        if r.coldStart == true { parts.append("cold") }
        if let inv = r.report {
            parts.append("billed \(formatFixed(inv.billedMs ?? 0, 0))ms")
            if let m = inv.maxMemoryMB, let s = inv.memoryMB { parts.append("mem \(formatFixed(m, 0))/\(formatFixed(s, 0))MB") }
        }
        if let e = r.error { parts.append(e) }
        return parts.joined(separator: "  ")
    }

    static func summary(_ recs: [InvocationRecord]) -> String {
        let lat = recs.map(\.latencyMs).sorted()
        func q(_ p: Double) -> String {
            guard !lat.isEmpty else { return "—" }
            return formatFixed(lat[max(1, Int((p * Double(lat.count)).rounded(.up))) - 1], 1) + "ms"
        }
        let failed = recs.filter { !$0.succeeded }.count
        let cold = recs.filter { $0.coldStart == true }.count
        return "\(recs.count) invocation\(recs.count == 1 ? "" : "s"): \(recs.count - failed) ok, \(failed) failed · p50 \(q(0.5)) · p99 \(q(0.99)) · \(cold) cold start\(cold == 1 ? "" : "s")"
    }


    /// `HH:MM:SS.mmm`, local time: the dashboard's clock with milliseconds.
    static func time(_ t: Double) -> String {
        let ms = Int((t - t.rounded(.down)) * 1000)
        return Format.clock(t, utcOffset: DashboardSession.localUTCOffset()) + "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + String(ms)
    }
}

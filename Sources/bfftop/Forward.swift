import ArgumentParser
import BFFTopDemo
import BFFTopEngine
import BFFTopIngest
import BFFTopWire
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

struct Forward: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read log lines from stdin and send the decoded events to a running dashboard.",
        discussion: """
            Lines are recognised one by one: native protocol lines pass through; Lambda logs become invocations \
            (CloudWatch text with aws logs tail / sam logs / awslogs / serverless logs prefixes, Telemetry API \
            JSON, get-log-events JSON); anything else is counted and skipped. Examples:
              sam local start-api 2>&1 | bfftop forward --function my-fn
              aws logs tail /aws/lambda/my-fn --follow | bfftop forward --function my-fn
            """)

    @Option(help: "Dashboard socket (default as for `watch`).")
    var socket: String?

    @Option(help: "Function name for Lambda log lines without a log group.")
    var function: String = "lambda"

    @Option(help: "Input format: auto (line by line), native, text (CloudWatch text), telemetry, cloudwatch-json, emf.")
    var format: InputFormat = .auto

    enum InputFormat: String, ExpressibleByArgument, CaseIterable {
        case auto, native, text, telemetry, emf
        case cloudwatchJSON = "cloudwatch-json"
    }

    func run() async throws {
        let location = SocketPath.resolve(explicit: socket, environment: ProcessInfo.processInfo.environment)
        let path = location.path
        let writer = SocketLineWriter(location: location)
        // The one decoder chain, forward's stages: native lines pass through as they are; logs (and
        // EMF) become native lines. Live lines without a time of their own (sam local) have just happened.
        let logFormat = FunctionLogDecoder.Format(rawValue: format.rawValue) ?? .auto
        let stages: DecoderChain.Stages = switch format {
        case .auto: .forward
        case .native: [.native]
        case .emf: [.emf]
        default: [.functionLogs]
        }
        var chain = DecoderChain(stages: stages, logFormat: logFormat, defaultFunction: function, clock: { wallClock() })
        var forwarded = 0, other = 0, malformed = 0, lost = 0
        var warned = false
        var refused: SocketTrustError?
        func send(_ line: String) {
            // A socket another user holds is never written to; waiting will not change that.
            guard refused == nil else {
                lost += 1
                return
            }
            var backoff = 0.1
            for _ in 0..<8 {
                if writer.write(line + "\n") {
                    forwarded += 1
                    return
                }
                if let e = writer.lastError, e.isRefusal {
                    refused = e
                    printError("bfftop forward: \(e)")
                    lost += 1
                    return
                }
                if !warned {
                    printError("bfftop forward: cannot reach a dashboard on \(path)\(writer.lastError.map { " (\($0))" } ?? ""); retrying")
                    warned = true
                }
                usleep(UInt32(backoff * 1e6))
                backoff = min(backoff * 2, 2)
            }
            lost += 1
        }
        // Lines over 1 MiB are skipped to their newline, in constant memory (the socket's rule).
        let input = LineFileReader(streaming: STDIN_FILENO, name: "standard input")
        var next: String?
        while input.next({ bytes, _ in next = String(decoding: bytes, as: UTF8.self) }) {
            guard let raw = next else { continue }
            next = nil
            var line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            guard line.contains(where: { $0 != " " && $0 != "\t" }) else { continue }
            switch line.withUTF8({ chain.decode(UnsafeRawBufferPointer($0)) }) {
            case .event, .packed: send(line)
            case .invocations(let invs): for i in invs { send(NativeEncoder.encode(.invocation(i))) }
            case .events(let evs): for e in evs { send(NativeEncoder.encode(e)) }
            case .other, .header, .control: other += 1
            case .malformed: malformed += 1
            }
        }
        malformed += input.oversizedLines
        writer.disconnect()
        printError("bfftop forward: \(forwarded) events forwarded to \(path), \(other) other log lines, \(malformed) unreadable lines"
            + (lost > 0 ? ", \(lost) lost (\(refused == nil ? "no dashboard" : "refused: not your dashboard"))" : ""))
        if lost > 0 { throw ExitCode(1) }
    }
}

import ArgumentParser
import BFFTopDemo
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
            Lines are recognised one by one: native protocol lines pass through; Lambda REPORT lines (plain,
            or with aws logs tail / sam logs prefixes) and Telemetry API JSON become invocations; anything else
            is counted and skipped. Examples:
              sam local start-api 2>&1 | bfftop forward --function my-fn
              aws logs tail /aws/lambda/my-fn --follow | bfftop forward --function my-fn
            """)

    @Option(help: "Dashboard socket (default as for `watch`).")
    var socket: String?

    @Option(help: "Function name for Lambda log lines.")
    var function: String = "lambda"

    func run() async throws {
        let path = SocketPath.resolve(explicit: socket, environment: ProcessInfo.processInfo.environment)
        let writer = SocketLineWriter(path: path)
        let decoder = NativeDecoder()
        var telemetry = TelemetryDecoder()
        var forwarded = 0, other = 0, malformed = 0, lost = 0
        var warned = false
        func send(_ line: String) {
            var backoff = 0.1
            for _ in 0..<8 {
                if writer.write(line + "\n") {
                    forwarded += 1
                    return
                }
                if !warned {
                    printError("bfftop forward: cannot reach a dashboard on \(path); retrying")
                    warned = true
                }
                usleep(UInt32(backoff * 1e6))
                backoff = min(backoff * 2, 2)
            }
            lost += 1
        }
        while let raw = readLine(strippingNewline: true) {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            guard let first = line.first(where: { $0 != " " && $0 != "\t" }) else { continue }
            if first == "{" || first == "[" {
                var copy = line
                if case .success = decoder.decode(copy) {
                    send(line)
                    continue
                }
                let r = copy.withUTF8 { telemetry.decode(UnsafeRawBufferPointer($0), defaultFunction: function) }
                switch r {
                case .events(let invs): for i in invs { send(NativeEncoder.encode(.invocation(i))) }
                case .other: other += 1
                case .notTelemetry: malformed += 1
                }
                continue
            }
            switch LambdaTextDecoder.decode(Substring(line), function: function) {
            case .report(var inv, let hasTime):
                // Live output without timestamps (sam local): it has just finished.
                if !hasTime { inv.ts = wallClock() - inv.durationMs / 1000 }
                send(NativeEncoder.encode(.invocation(inv)))
            case .other:
                other += 1
            }
        }
        writer.disconnect()
        printError("bfftop forward: \(forwarded) events forwarded to \(path), \(other) other log lines, \(malformed) unreadable lines"
            + (lost > 0 ? ", \(lost) lost (no dashboard)" : ""))
        if lost > 0 { throw ExitCode(1) }
    }
}

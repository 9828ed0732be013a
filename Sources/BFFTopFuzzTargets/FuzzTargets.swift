import BFFTopWire

/// One decoder under fuzzing: it takes any bytes and returns the invariants they broke (empty when
/// none). A trap is a failure too; libFuzzer catches it. The same functions run the committed
/// corpus in `swift test` (`FuzzCorpusTests`), so every input a fuzzer ever found stays a test.
public struct FuzzTarget: Sendable {
    public let name: String
    public let run: @Sendable (UnsafeRawBufferPointer) -> [String]

    public init(_ name: String, _ run: @escaping @Sendable (UnsafeRawBufferPointer) -> [String]) {
        self.name = name
        self.run = run
    }
}

public enum FuzzTargets {
    public static let all: [FuzzTarget] = [
        FuzzTarget("native", NativeFuzz.native),
        FuzzTarget("recording-line", NativeFuzz.recordingLine),
        FuzzTarget("control", NativeFuzz.control),
        FuzzTarget("socket-lines", SocketFuzz.lines),
        FuzzTarget("dogstatsd", DogStatsDFuzz.packet),
        FuzzTarget("dogstatsd-stream", DogStatsDFuzz.stream),
        FuzzTarget("emf", LogFuzz.emf),
        FuzzTarget("telemetry", LogFuzz.telemetry),
        FuzzTarget("lambda-text", LogFuzz.lambdaText),
        FuzzTarget("function-log", LogFuzz.functionLog),
        FuzzTarget("config", ConfigFuzz.config),
        FuzzTarget("theme", ConfigFuzz.theme),
        FuzzTarget("engine", EngineFuzz.engine),
        FuzzTarget("otlp-json", OTLPFuzz.traces),
        FuzzTarget("otlp-protobuf", OTLPFuzz.protobuf),
        FuzzTarget("otlp-metrics", OTLPFuzz.metrics),
        FuzzTarget("otlp-logs", OTLPFuzz.logs),
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Whether a decoded event's figures are within what the protocol documents (docs/protocol.md):
/// finite, non-negative, under `WireLimits`.
func limitViolations(_ e: WireEvent) -> [String] {
    var out: [String] = []
    func check(_ v: Double?, _ what: String, max: Double = WireLimits.maxFigure) {
        if let v, !(v >= 0 && v <= max) { out.append("\(what) out of range: \(v)") }
    }
    switch e {
    case .invocation(let i):
        check(i.ts, "ts", max: WireLimits.maxTimestamp)
        check(i.durationMs, "duration_ms")
        check(i.billedMs, "billed_ms")
        check(i.memoryMB, "memory_mb")
        check(i.maxMemoryMB, "max_memory_mb")
        check(i.initMs, "init_ms")
        check(i.timeoutMs, "timeout_ms")
        if let s = i.status, !(0...999).contains(s) { out.append("status out of range: \(s)") }
    case .start(let s): check(s.ts, "start ts", max: WireLimits.maxTimestamp)
    case .concurrency(let c):
        check(c.ts, "gauge ts", max: WireLimits.maxTimestamp)
        if !c.value.isFinite { out.append("gauge value not finite: \(c.value)") }
    case .outcomes(let o):
        check(o.ts, "outcomes ts", max: WireLimits.maxTimestamp)
        if !(0...WireLimits.maxCount).contains(o.count) { out.append("count out of range: \(o.count)") }
        if !(0...WireLimits.maxCount).contains(o.coldStarts) { out.append("cold starts out of range: \(o.coldStarts)") }
    }
    return out
}

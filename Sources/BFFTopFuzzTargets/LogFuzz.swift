import BFFTopWire

enum LogFuzz {
    @Sendable static func emf(_ line: UnsafeRawBufferPointer) -> [String] {
        guard case .success(let events)? = EMFDecoder.decode(line) else { return [] }
        return events.flatMap(limitViolations)
    }

    @Sendable static func telemetry(_ line: UnsafeRawBufferPointer) -> [String] {
        var d = TelemetryDecoder()
        guard case .events(let invs) = d.decode(line, defaultFunction: "f") else { return [] }
        // The decoder itself may read figures out of range; FunctionLogDecoder refuses those lines.
        _ = invs
        return []
    }

    @Sendable static func lambdaText(_ line: UnsafeRawBufferPointer) -> [String] {
        _ = LambdaTextDecoder.decode(Substring(String(decoding: line, as: UTF8.self)), function: "f")
        return []
    }

    /// Many lines through one decoder (it keeps state across lines): what it returns is within limits.
    @Sendable static func functionLog(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var out: [String] = []
        for format in FunctionLogDecoder.Format.allCases {
            var d = FunctionLogDecoder(format: format, defaultFunction: "f", clock: { 1_700_000_000 })
            var start = 0
            for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
                switch d.decode(UnsafeRawBufferPointer(rebasing: bytes[start..<i])) {
                case .invocations(let invs): out += invs.flatMap { limitViolations(.invocation($0)) }
                case .events(let es): out += es.flatMap(limitViolations)
                case .other, .unrecognised: break
                }
                start = i + 1
            }
        }
        return out
    }
}

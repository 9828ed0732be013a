/// CloudWatch Embedded Metric Format lines, as aws-embedded-metrics and Powertools for AWS Lambda write
/// them: `{"_aws":{"Timestamp":ms,"CloudWatchMetrics":[{"Namespace":…,"Dimensions":[[…]],"Metrics":[{"Name":…,"Unit":…}]}]},
/// "function_name":"…","Latency":[12.5,30],"ColdStart":1}`.
///
/// The endpoint is named by the first of `endpoint`, `route`, `operation` (a route) or `function_name`,
/// `FunctionName`, `service`, `ServiceName` (a function) present at the root. Metrics in time units
/// (or named like latency/duration) are latency samples; `ColdStart` counts cold starts (marking the
/// document's own samples cold when it has some); counts named like errors/faults, timeouts and
/// throttles count failed invocations. Other metrics are ignored.
public enum EMFDecoder {
    static let routeKeys = ["endpoint", "route", "operation"]
    static let functionKeys = ["function_name", "FunctionName", "functionName", "service", "ServiceName"]

    /// nil: not EMF. An EMF document without a usable endpoint or metric gives no events; one
    /// with a figure outside `WireLimits` (a garbled sample, count or timestamp) is refused whole.
    public static func decode(_ line: UnsafeRawBufferPointer) -> Result<[WireEvent], DecodeError>? {
        do {
            guard let events = try decodeUnchecked(line) else { return nil }
            guard events.allSatisfy(WireLimits.admits) else {
                return .failure(DecodeError("EMF document with a latency sample or timestamp out of range"))
            }
            return .success(events)
        } catch {
            return .failure(error)
        }
    }

    private static func count(_ values: [Double], _ name: String) throws(DecodeError) -> Int {
        guard let n = WireLimits.count(values.reduce(0, +)) else {
            throw DecodeError("EMF metric \(name) is not a count (0 … 1e9): \(values.prefix(3).map(formatNumber).joined(separator: ", "))")
        }
        return n
    }

    private static func decodeUnchecked(_ line: UnsafeRawBufferPointer) throws(DecodeError) -> [WireEvent]? {
        guard bytesContain(line, "\"_aws\"") else { return nil }
        var s = JSONScanner(line)
        let r = JSONScanner(line)
        var strings: [String: String] = [:]
        var numbers: [String: [Double]] = [:]
        var aws: (Int, Int)?
        do {
            s.skipWhitespace()
            try s.forEachMember { (ks: Int, ke: Int, v: JSONToken) throws(DecodeError) in
                let key = try r.string(start: ks, end: ke, escaped: false)
                switch v {
                case .object(let a, let b) where key == "_aws": aws = (a, b)
                case .string(let a, let b, let e): strings[key] = try r.string(start: a, end: b, escaped: e)
                case .number(let d): numbers[key] = [d]
                case .array(let a, let b): if let list = try? numberArray(line, a, b) { numbers[key] = list }
                default: break
                }
            }
        } catch {
            return nil
        }
        guard let aws else { return nil }
        guard let meta = try? metadata(UnsafeRawBufferPointer(rebasing: line[aws.0..<aws.1])) else { return [] }
        var endpoint: String?
        var kind = EndpointKind.function
        if let k = routeKeys.first(where: { strings[$0]?.isEmpty == false }) {
            endpoint = strings[k]
            kind = .route
        } else if let k = functionKeys.first(where: { strings[$0]?.isEmpty == false }) {
            endpoint = strings[k]
        }
        guard let endpoint else { return [] }
        let t = meta.timestamp ?? 0
        guard t >= 0, t < WireLimits.maxTimestamp else { throw DecodeError("EMF Timestamp \(formatNumber(t * 1000)) is not Unix milliseconds") }
        var samples: [Double] = []
        var cold = 0
        var outcomes: [(Outcome, Int)] = []
        for (name, unit) in meta.metrics {
            guard let values = numbers[name] else { continue }
            let lower = name.lowercased()
            if let scale = msPerUnit(unit) ?? ((lower.contains("latency") || lower.contains("duration")) && unit == nil ? 1 : nil) {
                samples += values.map { $0 * scale }
            } else if lower == "coldstart" || lower == "cold_start" || lower == "coldstarts" {
                cold = min(cold + (try count(values, name)), WireLimits.maxCount)
            } else if lower.contains("throttl") {
                outcomes.append((.throttle, try count(values, name)))
            } else if lower.contains("timeout") {
                outcomes.append((.timeout, try count(values, name)))
            } else if lower.contains("error") || lower.contains("fault") {
                outcomes.append((.error, try count(values, name)))
            }
        }
        // Counts in a document with latency samples describe those requests: they mark samples (as a
        // cold start, an error…) rather than adding invocations; only what is left over is counted apart.
        var invs = samples.map { ms in
            Invocation(ts: t - ms / 1000, service: strings["service"], endpoint: endpoint, kind: kind, durationMs: ms)
        }
        for i in invs.indices where i < cold { invs[i].coldStart = true }
        var next = 0
        var leftovers: [(Outcome, Int)] = []
        for (o, n) in outcomes where n > 0 {
            let marked = min(n, invs.count - next)
            for k in next..<(next + marked) {
                invs[k].outcome = o
                invs[k].error = "EMF \(o)"
            }
            next += marked
            if n > marked { leftovers.append((o, n - marked)) }
        }
        var events = invs.map { WireEvent.invocation($0) }
        let leftoverCold = max(0, cold - samples.count)
        for (o, n) in leftovers {
            events.append(.outcomes(OutcomeCount(ts: t, endpoint: endpoint, kind: kind, outcome: o, count: n, service: strings["service"])))
        }
        if leftoverCold > 0 {
            events.append(.outcomes(OutcomeCount(ts: t, endpoint: endpoint, kind: kind, outcome: .ok, count: 0,
                                                 service: strings["service"], coldStarts: leftoverCold)))
        }
        return events
    }

    static func msPerUnit(_ unit: String?) -> Double? {
        switch unit {
        case "Milliseconds": 1
        case "Seconds": 1000
        case "Microseconds": 0.001
        default: nil
        }
    }

    struct Metadata {
        var timestamp: Double?
        var metrics: [(String, String?)] = []
    }

    static func metadata(_ bytes: UnsafeRawBufferPointer) throws(DecodeError) -> Metadata {
        var m = Metadata()
        var s = JSONScanner(bytes)
        let r = JSONScanner(bytes)
        try s.forEachMember { (ks: Int, ke: Int, v: JSONToken) throws(DecodeError) in
            if r.equals(ks, ke, "Timestamp"), case .number(let ms) = v { m.timestamp = ms / 1000 }
            if r.equals(ks, ke, "CloudWatchMetrics"), case .array(let a, let b) = v {
                try forEachObject(bytes, a, b) { (directive: UnsafeRawBufferPointer) throws(DecodeError) in
                    var ds = JSONScanner(directive)
                    let dr = JSONScanner(directive)
                    try ds.forEachMember { (dk: Int, dke: Int, dv: JSONToken) throws(DecodeError) in
                        guard dr.equals(dk, dke, "Metrics"), case .array(let ma, let mb) = dv else { return }
                        try forEachObject(directive, ma, mb) { (def: UnsafeRawBufferPointer) throws(DecodeError) in
                            var fs = JSONScanner(def)
                            let fr = JSONScanner(def)
                            var name: String?
                            var unit: String?
                            try fs.forEachMember { (fk: Int, fke: Int, fv: JSONToken) throws(DecodeError) in
                                if case .string(let a, let b, let e) = fv {
                                    if fr.equals(fk, fke, "Name") { name = try fr.string(start: a, end: b, escaped: e) }
                                    if fr.equals(fk, fke, "Unit") { unit = try fr.string(start: a, end: b, escaped: e) }
                                }
                            }
                            if let name { m.metrics.append((name, unit)) }
                        }
                    }
                }
            }
        }
        return m
    }

    static func forEachObject(_ bytes: UnsafeRawBufferPointer, _ a: Int, _ b: Int, _ body: (UnsafeRawBufferPointer) throws(DecodeError) -> Void) throws(DecodeError) {
        try JSONScanner.forEachElement(bytes, a, b) { (x: Int, y: Int) throws(DecodeError) in
            if bytes[x] == UInt8(ascii: "{") { try body(UnsafeRawBufferPointer(rebasing: bytes[x..<y])) }
        }
    }

    static func numberArray(_ bytes: UnsafeRawBufferPointer, _ a: Int, _ b: Int) throws(DecodeError) -> [Double] {
        var out: [Double] = []
        try JSONScanner.forEachElement(bytes, a, b) { (x: Int, y: Int) throws(DecodeError) in
            var s = JSONScanner(UnsafeRawBufferPointer(rebasing: bytes[x..<y]))
            guard case .number(let d) = try s.scanValue(depth: 1) else { throw DecodeError("not a number array") }
            out.append(d)
        }
        return out
    }
}

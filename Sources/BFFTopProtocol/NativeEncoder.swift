/// Writes events as native protocol v1 lines (no trailing newline). Used by the demo fleet,
/// the recorder and tests; the decoder reads back exactly what this writes.
public enum NativeEncoder {
    public static func encode(_ event: WireEvent) -> String {
        var w = JSONObjectWriter()
        w.number("v", 1)
        switch event {
        case .invocation(let i):
            w.string("type", "invocation")
            w.fixed("ts", i.ts)
            w.optionalString("service", i.service)
            w.string("endpoint", i.endpoint)
            w.string("kind", i.kind.description)
            w.fixed("duration_ms", i.durationMs)
            w.optionalNumber("billed_ms", i.billedMs)
            w.optionalNumber("memory_mb", i.memoryMB)
            w.optionalNumber("max_memory_mb", i.maxMemoryMB)
            if i.coldStart { w.bool("cold_start", true) }
            if let v = i.initMs { w.fixed("init_ms", v) }
            w.string("outcome", i.outcome.description)
            if let status = i.status { w.number("status", Double(status)) }
            w.optionalString("error", i.error)
            w.optionalNumber("timeout_ms", i.timeoutMs)
            w.optionalString("trace_id", i.traceID ?? i.span?.trace.hex)
            w.optionalString("parent", i.parent)
            w.optionalString("arch", i.arch?.description)
            w.optionalString("id", i.id)
            if i.test { w.bool("test", true) }
            if let span = i.span {
                w.string("span_id", span.spanHex)
                w.optionalString("parent_span_id", span.parentHex)
            }
            if let n = i.count { w.number("count", Double(n)) }
        case .start(let s):
            w.string("type", "start")
            w.fixed("ts", s.ts)
            w.optionalString("service", s.service)
            w.string("endpoint", s.endpoint)
            w.optionalString("kind", s.kind?.description)
            w.string("id", s.id)
        case .concurrency(let c):
            w.string("type", "concurrency")
            w.fixed("ts", c.ts)
            w.optionalString("service", c.service)
            w.string("endpoint", c.endpoint)
            w.optionalString("kind", c.kind?.description)
            w.number("value", c.value)
            w.optionalNumber("limit", c.limit)
        case .outcomes(let o):
            w.string("type", "outcomes")
            w.fixed("ts", o.ts)
            w.optionalString("service", o.service)
            w.string("endpoint", o.endpoint)
            w.optionalString("kind", o.kind?.description)
            w.string("outcome", o.outcome.description)
            w.number("count", Double(o.count))
            if o.coldStarts > 0 { w.number("cold_starts", Double(o.coldStarts)) }
            if o.untimed { w.bool("untimed", true) }
            if o.inits > 0, let i = o.initMs {
                w.number("inits", Double(o.inits))
                w.number("init_ms", i)
            }
            w.optionalNumber("max_memory_mb", o.maxMemoryMB)
        }
        return w.finish()
    }
}

/// Builds one flat JSON object. Numbers print in Swift's shortest round-trip form.
public struct JSONObjectWriter {
    private var out = "{"
    private var first = true

    public init() {}

    private mutating func key(_ k: String) {
        if !first { out += "," }
        first = false
        out += "\""
        out += k
        out += "\":"
    }

    public mutating func string(_ k: String, _ v: String) {
        key(k)
        out += JSONObjectWriter.quote(v)
    }

    public mutating func number(_ k: String, _ v: Double) {
        key(k)
        out += v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    /// `v` with at most `decimals` decimals. Times go out to the microsecond and durations to the
    /// nanosecond: finer is noise, and numbers of ≤ 16 significant digits parse fast and exactly.
    public mutating func fixed(_ k: String, _ v: Double, decimals: Int = 6) {
        key(k)
        out += JSONObjectWriter.fixed(v, decimals: decimals)
    }

    /// `v` with at most `decimals` decimals, trailing zeros dropped.
    public static func fixed(_ v: Double, decimals: Int) -> String {
        guard v.isFinite, abs(v) < 9e12 else { return String(v) }
        var s = formatFixed(v, decimals)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }

    public mutating func bool(_ k: String, _ v: Bool) {
        key(k)
        out += v ? "true" : "false"
    }

    public mutating func raw(_ k: String, _ json: String) {
        key(k)
        out += json
    }

    public mutating func optionalString(_ k: String, _ v: String?) { if let v { string(k, v) } }
    public mutating func optionalNumber(_ k: String, _ v: Double?) { if let v { number(k, v) } }

    public func finish() -> String { out + "}" }

    public static func quote(_ s: String) -> String {
        var r = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\r": r += "\\r"
            case "\t": r += "\\t"
            // Every control character escaped, C1 and bidirectional ones too (`TerminalSafe`): JSON
            // that reaches a terminal (`report --format json`, a `cat` of a recording) stays inert.
            case _ where TerminalSafe.isUnsafe(u.value):
                let hex = String(u.value, radix: 16)
                r += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: r.unicodeScalars.append(u)
            }
        }
        return r + "\""
    }
}

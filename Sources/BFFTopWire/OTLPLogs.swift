import FoundationEssentials

/// OTLP log records to invocations: a function's own log lines, shipped as OpenTelemetry logs (the
/// Collector's Lambda receivers, a log forwarder), read as bfftop reads them from a file: REPORT and
/// INIT_REPORT lines, `Task timed out`, Telemetry API JSON (`platform.report`), EMF. Each function
/// (`faas.name`, else `service.name` of the record's resource) has its own `FunctionLogDecoder`, so a
/// timeout message marks the REPORT after it as it does in a file; a REPORT line has no time of its
/// own and takes the record's. Records whose body is not text are skipped (counted).
public struct OTLPLogs {
    public struct Decoded: Sendable {
        public var events: [WireEvent] = []
        public var records = 0
        /// Records with no text body, or text that is no function log line (application logs): read, nothing to count.
        public var skipped = 0
        /// Lines that look like function log lines and cannot be read (a garbled REPORT).
        public var rejected = 0
        public var firstRejection: String?
    }

    private var decoders: [String: FunctionLogDecoder] = [:]
    private var order: [String] = []
    /// Functions whose decoders are kept (their state is a few marks each).
    public let capacity: Int

    public init(capacity: Int = 1_024) {
        self.capacity = max(1, capacity)
    }

    public mutating func map(_ export: OTLPLogsExport) -> Decoded {
        var out = Decoded()
        for rl in export.resources {
            let function = rl.resource.string(.faasName) ?? rl.resource.string(.serviceName) ?? "lambda"
            var decoder = decoders.removeValue(forKey: function) ?? FunctionLogDecoder(defaultFunction: function)
            for r in rl.records {
                out.records += 1
                guard let body = r.body, !body.isEmpty else {
                    out.skipped += 1
                    continue
                }
                let t = Double(r.timeNs != 0 ? r.timeNs : r.observedNs) / 1e9
                var text = body
                let line = text.withUTF8 { b in
                    t > 0 && t < WireLimits.maxTimestamp ? decoder.decode(UnsafeRawBufferPointer(b), at: t) : decoder.decode(UnsafeRawBufferPointer(b))
                }
                switch line {
                case .invocations(let invs): out.events += invs.map { .invocation($0) }
                case .events(let evs): out.events += evs
                case .other: out.skipped += 1
                case .unrecognised:
                    out.rejected += 1
                    if out.firstRejection == nil {
                        let excerpt = text.withUTF8 { TerminalSafe.excerpt(UnsafeRawBufferPointer($0)) }
                        out.firstRejection = "a log record of \(function) is a function log line bfftop cannot read: \(excerpt)"
                    }
                }
            }
            keep(function, decoder)
        }
        return out
    }

    private mutating func keep(_ function: String, _ decoder: FunctionLogDecoder) {
        if decoders.updateValue(decoder, forKey: function) == nil {
            order.append(function)
            if order.count > capacity { decoders[order.removeFirst()] = nil }
        }
    }

    public var functions: Int { decoders.count }

    /// An OTLP JSON logs export.
    public static func export(json body: [UInt8]) throws(DecodeError) -> OTLPLogsExport {
        let request: ExportRequest
        do {
            request = try JSONDecoder().decode(ExportRequest.self, from: Data(body))
        } catch {
            throw DecodeError("not an OTLP JSON logs export: \(OTLPTraces.reason(error))")
        }
        var out = OTLPLogsExport()
        for rl in request.resourceLogs ?? [] {
            var r = OTLPResourceLogs()
            r.resource = OTLPAttributes(rl.resource?.attributes ?? [])
            r.records = (rl.scopeLogs ?? []).flatMap { $0.logRecords ?? [] }.map { l in
                OTLPLogRecord(timeNs: l.timeUnixNano?.raw ?? 0, observedNs: l.observedTimeUnixNano?.raw ?? 0, body: l.body?.stringValue)
            }
            out.resources.append(r)
        }
        return out
    }

    struct ExportRequest: Decodable { var resourceLogs: [ResourceLogs]? }
    struct ResourceLogs: Decodable {
        var resource: OTLPTraces.Resource?
        var scopeLogs: [ScopeLogs]?
    }
    struct ScopeLogs: Decodable { var logRecords: [Record]? }
    struct Record: Decodable {
        var timeUnixNano: OTLPTraces.UInt64Value?
        var observedTimeUnixNano: OTLPTraces.UInt64Value?
        var body: OTLPTraces.AnyValue?
    }
}

public struct OTLPLogsExport: Sendable {
    public var resources: [OTLPResourceLogs] = []
    public init() {}
    public var recordCount: Int { resources.reduce(0) { $0 + $1.records.count } }
}

public struct OTLPResourceLogs: Sendable {
    public var resource = OTLPAttributes()
    public var records: [OTLPLogRecord] = []
    public init() {}
}

public struct OTLPLogRecord: Sendable, Equatable {
    public var timeNs: UInt64
    public var observedNs: UInt64
    /// The body when it is text (a log line); nil for other kinds.
    public var body: String?
}

/// `ExportLogsServiceRequest` in protobuf (opentelemetry-proto's logs.proto): resources, and of
/// each record its times and a string body; everything else skipped.
extension OTLPProtobuf {
    public static func logs(_ body: [UInt8]) throws(DecodeError) -> OTLPLogsExport {
        try body.withUnsafeBytes { b in Result { () throws(DecodeError) in try logs(b) } }.get()
    }

    public static func logs(_ body: UnsafeRawBufferPointer) throws(DecodeError) -> OTLPLogsExport {
        var r = ProtobufReader(body)
        var export = OTLPLogsExport()
        while let (field, wire) = try r.nextTag() {
            guard field == 1, wire == .lengthDelimited else { try r.skip(wire); continue }
            var rl = r.message(try r.lengthDelimited())
            var out = OTLPResourceLogs()
            while let (f, w) = try rl.nextTag() {
                guard w == .lengthDelimited, f == 1 || f == 2 else { try rl.skip(w); continue }
                var inner = rl.message(try rl.lengthDelimited())
                while let (g, x) = try inner.nextTag() {
                    guard x == .lengthDelimited, g == (f == 1 ? 1 : 2) else { try inner.skip(x); continue }
                    let range = try inner.lengthDelimited()
                    if f == 1 {  // Resource.attributes
                        if let (k, v) = try keyValue(inner.message(range)) { out.resource[k] = v }
                    } else {  // ScopeLogs.log_records
                        out.records.append(try logRecord(inner.message(range)))
                    }
                }
            }
            export.resources.append(out)
        }
        return export
    }

    static func logRecord(_ m: ProtobufReader) throws(DecodeError) -> OTLPLogRecord {
        var r = m
        var rec = OTLPLogRecord(timeNs: 0, observedNs: 0, body: nil)
        while let (field, wire) = try r.nextTag() {
            switch (field, wire) {
            case (1, .fixed64): rec.timeNs = try r.fixed64()
            case (11, .fixed64): rec.observedNs = try r.fixed64()
            case (5, .lengthDelimited):
                if case .string(let s)? = try anyValue(r.message(r.lengthDelimited())) { rec.body = s } else { rec.body = nil }
            default: try r.skip(wire)
            }
        }
        return rec
    }
}

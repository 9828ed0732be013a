import BFFTopEngine
import BFFTopWire
import NIOCore
import Synchronization

/// What every OTLP transport (HTTP in JSON or protobuf, gRPC) does with an export once it has the
/// body: decode it, map its spans with the shared trace linker (a function's span and its route's
/// span may come over different connections), hand the invocations to the engine and say what
/// happened, in words both transports turn into their own answers.
public final class OTLPReceiver: Sendable {
    public enum Encoding: Sendable { case json, protobuf }

    public enum Outcome: Sendable, Equatable {
        /// Taken; `rejected` spans could not be read (`reason` says why the first could not).
        case accepted(rejected: Int, reason: String?)
        /// The body is not an export.
        case invalid(String)
        /// The engine is behind: the client should retry after a moment.
        case busy
    }

    private let sink: any EventSink
    private let stats: IngestStats
    /// The trace linker and the name table of the packed invocations, under one lock: exports from
    /// every connection and transport are mapped one at a time, in the order they arrive.
    private struct Mapping {
        var linker = OTLPTraceLinker()
        var packer = OTLPPacker()
        var namesSent = 0
        let source = BatchSource.next()

        /// The engine's batch for these invocations: successful ones packed, the rest general.
        mutating func batch(_ invocations: [Invocation], at now: Double) -> WireEventBatch {
            var b = WireEventBatch(receivedAt: now, events: [])
            b.source = source
            b.packed.reserveCapacity(invocations.count)
            b.packedSpans.reserveCapacity(invocations.count)
            for i in invocations {
                if let p = packer.pack(i) {
                    b.packed.append(p)
                    b.packedSpans.append(i.span)
                } else {
                    b.append(general: .invocation(i))
                }
            }
            b.takeNewNames(packer.names.names, sent: &namesSent)
            return b
        }

        var linking: (Int, Int, Int) { (linker.pendingCount, linker.linkedLate, linker.unlinked) }
    }

    private let mapping = Mutex(Mapping())
    /// Each metric stream's last point (cumulative totals are differenced), for every transport.
    private let streams: Mutex<OTLPMetricStreams>
    /// Each function's log decoder (a timeout line marks the REPORT after it), for every transport.
    private let logDecoders = Mutex(OTLPLogs())
    private let clock: @Sendable () -> Double
    private let timer = Mutex<RepeatedTask?>(nil)

    public init(sink: any EventSink, stats: IngestStats, clock: @escaping @Sendable () -> Double = wallClock) {
        self.sink = sink
        self.stats = stats
        self.clock = clock
        streams = Mutex(OTLPMetricStreams(startedAt: clock()))
        stats.otlp { _ in }
    }

    /// Starts delivering held invocations whose wait is over, once a second.
    public func start(on loop: any EventLoop) {
        let task = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in releaseHeld() }
        timer.withLock { $0 = task }
    }

    public func stop() {
        timer.withLock { $0?.cancel(); $0 = nil }
    }

    public func traces(_ body: [UInt8], _ encoding: Encoding) -> Outcome {
        let export: OTLPExport
        switch decode(body, encoding, json: OTLPTraces.export(json:), protobuf: OTLPProtobuf.traces) {
        case .success(let e): export = e
        case .failure(let error): return .invalid(error.reason)
        }
        let spans = export.spanCount
        // Ask before mapping: the client keeps the export and sends it again.
        guard sink.hasRoom(for: spans) else {
            stats.otlp { $0.busy += 1 }
            return .busy
        }
        // Spans made invocations on this connection's thread; linked, packed and delivered under
        // the lock (a batch's new names must reach the mailbox before the next batch that uses them).
        let prepared = OTLPTraces.prepare(export)
        let now = clock()
        let (decoded, linking) = mapping.withLock { m in
            let d = OTLPTraces.link(prepared, linker: &m.linker, now: now)
            let batch = m.batch(d.invocations, at: now)
            if batch.count > 0 || !batch.newNames.isEmpty { sink.deliver(batch) }
            return (d, m.linking)
        }
        stats.otlp { o in
            o.exports += 1
            o.spans += spans
            (o.held, o.linkedLate, o.unlinked) = linking
        }
        let malformed = decoded.firstRejection.map { [MalformedLine(connection: 0, origin: "otlp", reason: $0, excerpt: "")] } ?? []
        stats.record(0, lines: decoded.spans, events: decoded.invocations.count, bytes: body.count, malformed: malformed)
        return .accepted(rejected: decoded.rejected, reason: decoded.firstRejection)
    }

    /// One metrics export: decoded, differenced per stream, mapped to events and delivered.
    public func metrics(_ body: [UInt8], _ encoding: Encoding) -> Outcome {
        let export: OTLPMetricsExport
        switch decode(body, encoding, json: OTLPMetrics.export(json:), protobuf: OTLPProtobuf.metrics) {
        case .success(let e): export = e
        case .failure(let error): return .invalid(error.reason)
        }
        let now = clock()
        // Mapped under the lock; when the engine has no room for the events the streams are put
        // back as they were, so the exporter's retry is differenced the same way and nothing is lost.
        let result = streams.withLock { s -> (OTLPMetrics.Decoded, (Int, Int))? in
            let before = s
            let d = OTLPMetrics.map(export, streams: &s)
            guard sink.hasRoom(for: d.events.count) else {
                s = before
                return nil
            }
            if !d.events.isEmpty { sink.deliver(WireEventBatch(receivedAt: now, events: d.events)) }
            return (d, (s.baselines, s.count))
        }
        guard let (decoded, (baselines, count)) = result else {
            stats.otlp { $0.busy += 1 }
            return .busy
        }
        stats.otlp { o in
            o.metricExports += 1
            o.points += export.points
            o.pointsSkipped += decoded.skipped
            (o.baselines, o.streams) = (baselines, count)
        }
        let malformed = decoded.firstRejection.map { [MalformedLine(connection: 0, origin: "otlp", reason: $0, excerpt: "")] } ?? []
        stats.record(0, lines: export.points, events: decoded.events.count, bytes: body.count, malformed: malformed)
        return .accepted(rejected: decoded.rejected, reason: decoded.firstRejection)
    }

    /// One logs export: each function's records through its log decoder, the invocations to the engine.
    public func logs(_ body: [UInt8], _ encoding: Encoding) -> Outcome {
        let export: OTLPLogsExport
        switch decode(body, encoding, json: OTLPLogs.export(json:), protobuf: OTLPProtobuf.logs) {
        case .success(let e): export = e
        case .failure(let error): return .invalid(error.reason)
        }
        // A record gives at most a few events: room for them is asked before the decoders' state moves.
        guard sink.hasRoom(for: export.recordCount) else {
            stats.otlp { $0.busy += 1 }
            return .busy
        }
        let now = clock()
        let decoded = logDecoders.withLock { l in
            let d = l.map(export)
            if !d.events.isEmpty { sink.deliver(WireEventBatch(receivedAt: now, events: d.events)) }
            return d
        }
        stats.otlp { o in
            o.logExports += 1
            o.logRecords += decoded.records
        }
        let malformed = decoded.firstRejection.map { [MalformedLine(connection: 0, origin: "otlp", reason: $0, excerpt: "")] } ?? []
        stats.record(0, lines: decoded.records, events: decoded.events.count, bytes: body.count, malformed: malformed)
        return .accepted(rejected: decoded.rejected, reason: decoded.firstRejection)
    }

    /// One export of any signal, as a transport hands it over.
    public func export(_ signal: OTLPSignal, _ body: [UInt8], _ encoding: Encoding) -> Outcome {
        switch signal {
        case .traces: traces(body, encoding)
        case .metrics: metrics(body, encoding)
        case .logs: logs(body, encoding)
        }
    }

    /// The body read by the encoding's decoder; a body that is not an export is counted as
    /// malformed (with an excerpt for JSON) and answered with its reason.
    private func decode<Export>(_ body: [UInt8], _ encoding: Encoding, json: ([UInt8]) throws(DecodeError) -> Export,
                                protobuf: ([UInt8]) throws(DecodeError) -> Export) -> Result<Export, DecodeError> {
        do throws(DecodeError) {
            return .success(encoding == .json ? try json(body) : try protobuf(body))
        } catch {
            stats.record(0, lines: 1, events: 0, bytes: body.count, malformed: [
                MalformedLine(connection: 0, origin: "otlp", reason: error.reason,
                              excerpt: encoding == .json ? body.withUnsafeBytes { TerminalSafe.excerpt($0) } : "\(body.count) bytes of protobuf"),
            ])
            return .failure(error)
        }
    }

    /// Delivers held invocations whose route arrived or whose wait is over (`all`: every one, at exit).
    public func releaseHeld(all: Bool = false) {
        let now = clock()
        let (released, linking) = mapping.withLock { m in
            let r = m.linker.release(now: now, all: all)
            if !r.isEmpty { sink.deliver(m.batch(r, at: now)) }
            return (r.count, m.linking)
        }
        guard released > 0 else { return }
        stats.otlp { o in (o.held, o.linkedLate, o.unlinked) = linking }
        stats.record(0, lines: 0, events: released, bytes: 0, malformed: [])
    }
}

/// What an OTLP export carries.
public enum OTLPSignal: Sendable { case traces, metrics, logs }

/// The bodies OTLP answers with, in JSON or protobuf as the request came.
package enum OTLPAnswer {
    /// `Export*ServiceResponse`: empty on full success, else `partial_success` (field 1) with the
    /// rejected count (field 1) and the message (field 2).
    static func success(rejected: Int, reason: String?, _ encoding: OTLPReceiver.Encoding, signal: OTLPSignal = .traces) -> [UInt8] {
        switch encoding {
        case .json:
            guard rejected > 0 else { return Array("{}".utf8) }
            var w = JSONObjectWriter()
            w.number(signal == .traces ? "rejectedSpans" : signal == .metrics ? "rejectedDataPoints" : "rejectedLogRecords", Double(rejected))
            w.string("errorMessage", reason ?? "")
            return Array(("{\"partialSuccess\":" + w.finish() + "}").utf8)
        case .protobuf:
            guard rejected > 0 else { return [] }
            return partialSuccess(rejected: rejected, reason: reason)
        }
    }

    package static func partialSuccess(rejected: Int, reason: String?) -> [UInt8] {
        guard rejected > 0 else { return [] }
        var inner = ProtobufWriter()
        inner.int(1, Int64(rejected))
        inner.string(2, reason ?? "")
        var outer = ProtobufWriter()
        outer.bytes(1, inner.bytes)
        return outer.bytes
    }

    /// A failure as `google.rpc.Status` (code, message): gRPC's code for the HTTP status.
    static func failure(httpStatus: Int, message: String, _ encoding: OTLPReceiver.Encoding) -> [UInt8] {
        let code = grpcCode(httpStatus: httpStatus)
        switch encoding {
        case .json:
            return Array(("{\"code\":\(code),\"message\":" + JSONObjectWriter.quote(message) + "}").utf8)
        case .protobuf:
            var w = ProtobufWriter()
            w.int(1, Int64(code))
            w.string(2, message)
            return w.bytes
        }
    }

    /// google.rpc.Code: INVALID_ARGUMENT 3, NOT_FOUND 5, RESOURCE_EXHAUSTED 8, UNIMPLEMENTED 12, UNAVAILABLE 14.
    static func grpcCode(httpStatus: Int) -> Int {
        switch httpStatus {
        case 400, 415: 3
        case 404, 405: httpStatus == 404 ? 5 : 12
        case 413, 429: 8
        case 503: 14
        default: 2
        }
    }
}

import BFFTopWire

enum OTLPFuzz {
    /// An OTLP protobuf export (HTTP body or gRPC message): read or refused with a reason, never a
    /// trap; the invocations within the limits; and through a tiny trace linker (8 spans, 4 held),
    /// twice, the linker stays within its bounds and gives back everything it held.
    @Sendable static func protobuf(_ bytes: UnsafeRawBufferPointer) -> [String] {
        let export: OTLPExport
        do {
            export = try OTLPProtobuf.traces(bytes)
        } catch {
            return error.reason.isEmpty ? ["refused without a reason"] : []
        }
        var out: [String] = []
        var linker = OTLPTraceLinker(capacity: 8, maxPending: 4)
        var delivered = 0
        for now in [0.0, 1.0] {
            let d = OTLPTraces.map(export, linker: &linker, now: now)
            out += d.invocations.flatMap { limitViolations(.invocation($0)) }
            if d.rejected > 0, d.firstRejection == nil { out.append("\(d.rejected) spans rejected without a reason") }
            delivered += d.invocations.count + d.rejected
            if linker.pendingCount > linker.maxPending { out.append("the linker holds \(linker.pendingCount) > \(linker.maxPending)") }
        }
        delivered += linker.release(now: 100, all: true).count
        if linker.pendingCount != 0 { out.append("the linker kept \(linker.pendingCount) after releasing all") }
        if delivered > 2 * export.spanCount { out.append("more invocations than spans") }
        return out
    }

    /// An OTLP/HTTP JSON trace body: decoded or refused with a reason, never a trap; every
    /// invocation within the limits; rejected spans counted with a reason.
    @Sendable static func traces(_ bytes: UnsafeRawBufferPointer) -> [String] {
        do {
            let d = try OTLPTraces.decode(json: Array(bytes))
            var out = d.invocations.flatMap { limitViolations(.invocation($0)) }
            if d.rejected > 0, d.firstRejection == nil { out.append("\(d.rejected) spans rejected without a reason") }
            if d.invocations.count + d.rejected > d.spans { out.append("more invocations than spans") }
            return out
        } catch {
            return error.reason.isEmpty ? ["refused without a reason"] : []
        }
    }

    /// An OTLP metrics export, protobuf or (first byte `{`) JSON: read or refused with a reason,
    /// never a trap; through a tiny stream table (4 streams), twice (the second time differenced
    /// against the first), every event within the limits and the export's events within their bound.
    @Sendable static func metrics(_ bytes: UnsafeRawBufferPointer) -> [String] {
        let export: OTLPMetricsExport
        do {
            export = bytes.first == UInt8(ascii: "{") ? try OTLPMetrics.export(json: Array(bytes)) : try OTLPProtobuf.metrics(bytes)
        } catch {
            return error.reason.isEmpty ? ["refused without a reason"] : []
        }
        var out: [String] = []
        var streams = OTLPMetricStreams(startedAt: 1_700_000_000, capacity: 4)
        for _ in 0..<2 {
            let d = OTLPMetrics.map(export, streams: &streams)
            out += d.events.flatMap(limitViolations)
            for case .invocation(let i) in d.events where !(1...WireLimits.maxCount).contains(i.count ?? 0) {
                out.append("an invocation standing for \(i.count.map(String.init) ?? "none")")
            }
            if d.rejected > 0, d.firstRejection == nil { out.append("\(d.rejected) points rejected without a reason") }
            if d.events.count > OTLPMetrics.maxEvents + OTLPMetricPoint.maxBuckets * 60 { out.append("\(d.events.count) events from one export") }
            if streams.count > streams.capacity { out.append("\(streams.count) streams kept") }
        }
        return out
    }

    /// An OTLP logs export, protobuf or (first byte `{`) JSON: read or refused with a reason, never a
    /// trap; every event within the limits; rejected records counted with a reason.
    @Sendable static func logs(_ bytes: UnsafeRawBufferPointer) -> [String] {
        let export: OTLPLogsExport
        do {
            export = bytes.first == UInt8(ascii: "{") ? try OTLPLogs.export(json: Array(bytes)) : try OTLPProtobuf.logs(bytes)
        } catch {
            return error.reason.isEmpty ? ["refused without a reason"] : []
        }
        var logs = OTLPLogs(capacity: 2)
        let d = logs.map(export)
        var out = d.events.flatMap(limitViolations)
        if d.rejected > 0, d.firstRejection == nil { out.append("\(d.rejected) records rejected without a reason") }
        if d.records != export.recordCount { out.append("\(d.records) records mapped of \(export.recordCount)") }
        if logs.functions > 2 { out.append("\(logs.functions) decoders kept") }
        return out
    }
}

import BFFTopEngine
import BFFTopStats
import BFFTopWire

enum EngineFuzz {
    /// Native lines into the engine (default alarm rules, a small endpoint cap), a quarter second of
    /// receive time apart: memory stays bounded whatever the times, and every event is either
    /// aggregated or counted as lost, by reason.
    @Sendable static func engine(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var config = AggregatorConfig()
        config.maxEndpoints = 4
        config.startedAt = 1_700_000_000
        let engine = Engine(config: config, alarms: AlarmRule.defaults)
        let agg = engine.aggregator
        let decoder = NativeDecoder()
        var decoded = 0
        var start = 0
        var now = 1_700_000_000.0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == 0x0A {
            if case .success(let e) = decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[start..<i])) {
                engine.ingest(WireEventBatch(receivedAt: now, events: [e]))
                decoded += 1
                now += 0.25
                engine.passTime(to: now)
            }
            start = i + 1
        }
        var out: [String] = []
        let snap = agg.snapshot(SnapshotRequest(), now: now)
        let accounted = agg.eventsAggregated + agg.losses.total + agg.testHidden
        if accounted != decoded { out.append("\(decoded) events decoded, \(agg.eventsAggregated) aggregated + \(agg.losses.total) lost") }
        if snap.endpoints.count > config.maxEndpoints + EndpointKind.allCases.count {
            out.append("\(snap.endpoints.count) endpoints past a cap of \(config.maxEndpoints)")
        }
        if agg.heapBytes > 64 << 20 { out.append("aggregator holds \(agg.heapBytes) bytes") }
        // Every endpoint's waterfalls, whatever parents the spans claimed (loops, themselves, absent):
        // each kept span drawn once, within the limits.
        for e in snap.endpoints {
            for w in agg.snapshot(SnapshotRequest(detailFor: e.name), now: now).detail?.traces ?? [] {
                if w.spans.count > agg.traceSpans.perTrace { out.append("a waterfall of \(w.spans.count) spans") }
                if w.spans.contains(where: { $0.depth > TraceWaterfall.maxDepth }) { out.append("a span drawn deeper than the limit") }
                if w.focus.map({ !w.spans.indices.contains($0) }) ?? false { out.append("focus outside the waterfall") }
            }
        }
        if agg.traceSpans.kept > agg.traceSpans.bound { out.append("trace store past its bounds") }
        return out
    }
}

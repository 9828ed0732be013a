import BFFTopStats
import BFFTopWire

/// The figures as JSON, one writer for every place that prints them: `bfftop snapshot` (a live
/// dashboard's frame) and `bfftop report --format json` (endpoint objects). Plain numbers in the
/// units the keys say (ms, USD to 8 decimals), no float noise.
public enum SnapshotJSON {
    /// One endpoint's figures.
    public static func endpoint(_ r: EndpointFigures) -> String {
        var o = JSONObjectWriter()
        o.string("endpoint", r.name)
        o.string("kind", r.kind.description)
        o.optionalString("service", r.service)
        o.number("count", Double(r.count))
        o.fixed("rps", r.rps, decimals: 3)
        o.fixed("rps_now", r.rpsNow, decimals: 3)
        for (k, v) in [("p50_ms", r.p50), ("p90_ms", r.p90), ("p95_ms", r.p95), ("p99_ms", r.p99), ("max_ms", r.max),
                       ("init_p50_ms", r.initP50), ("init_p99_ms", r.initP99), ("memory_mb", r.memoryMB), ("max_memory_used_mb", r.maxMemoryUsedMB)] {
            if let v { o.fixed(k, v, decimals: 3) }
        }
        o.number("errors", Double(r.errors))
        o.number("timeouts", Double(r.timeouts))
        o.number("throttles", Double(r.throttles))
        o.number("counted_failures", Double(r.countedFailures))
        o.fixed("error_rate", r.errorRate, decimals: 6)
        o.number("cold_starts", Double(r.cold))
        // Endpoints known only from histograms and counters have no start times: their concurrency
        // is unknown (null), not 0, as the table shows —.
        if r.concurrencyKnown {
            o.fixed("concurrency_now", r.concurrencyNow, decimals: 3)
            o.fixed("concurrency_peak", r.concurrencyPeak, decimals: 3)
        } else {
            o.raw("concurrency_now", "null")
            o.raw("concurrency_peak", "null")
        }
        if let l = r.concurrencyLimit { o.fixed("concurrency_limit", l, decimals: 3) }
        o.fixed("cost_usd", r.cost, decimals: 8)
        o.fixed("cost_per_hour_usd", r.costPerHour, decimals: 8)
        o.fixed("cost_per_million_usd", r.costPerMillion, decimals: 8)
        o.fixed("fan_out_cost_usd", r.fanOutCost, decimals: 8)
        return o.finish()
    }

    /// What a live dashboard shows at this frame, as one line: `{"v":1,"type":"snapshot",…}`.
    public static func frame(_ f: EngineFrame) -> String {
        let s = f.snapshot
        var out = #"{"v":1,"type":"snapshot","now":"# + JSONObjectWriter.fixed(s.now, decimals: 3)
        out += #","window":"# + JSONObjectWriter.quote(s.request.window.description)
        var t = JSONObjectWriter()
        t.number("count", Double(s.totals.count))
        t.fixed("rps", s.totals.rps, decimals: 3)
        t.fixed("rps_now", s.totals.rpsNow, decimals: 3)
        t.number("failures", Double(s.totals.failures))
        t.number("cold_starts", Double(s.totals.cold))
        t.fixed("cost_usd", s.totals.cost, decimals: 8)
        t.fixed("cost_per_hour_usd", s.totals.costPerHour, decimals: 8)
        t.fixed("projected_usd_per_month", s.totals.projectedPerMonth, decimals: 8)
        out += #","totals":"# + t.finish()
        var i = JSONObjectWriter()
        i.number("events", Double(f.ingest.events))
        i.number("malformed", Double(f.ingest.malformed))
        i.number("connections", Double(f.ingest.connections.count))
        i.number("dropped_engine_behind", Double(f.backlogDropped))
        i.number("not_counted", Double(s.losses.total))
        i.number("endpoints_over_cap", Double(s.endpointsOverCap))
        if let o = f.ingest.otlp {
            var w = JSONObjectWriter()
            w.number("exports", Double(o.exports))
            w.number("spans", Double(o.spans))
            w.number("busy", Double(o.busy))
            w.number("held", Double(o.held))
            w.number("linked_late", Double(o.linkedLate))
            w.number("unlinked", Double(o.unlinked))
            w.number("metric_exports", Double(o.metricExports))
            w.number("points", Double(o.points))
            w.number("points_skipped", Double(o.pointsSkipped))
            w.number("streams", Double(o.streams))
            w.number("baselines", Double(o.baselines))
            w.number("log_records", Double(o.logRecords))
            i.raw("otlp", w.finish())
        }
        var tr = JSONObjectWriter()
        tr.number("spans", Double(s.traceStore.spans))
        tr.number("not_kept", Double(s.traceStore.notKept))
        tr.number("exemplars_lost", Double(s.traceStore.exemplarsLost))
        i.raw("traces", tr.finish())
        out += #","ingest":"# + i.finish()
        out += #","endpoints":["# + s.endpoints.map(endpoint).joined(separator: ",") + "]"
        out += #","alarms":["# + f.alarms.active.map { a in
            var w = JSONObjectWriter()
            w.string("rule", a.rule)
            w.string("endpoint", a.endpoint)
            w.string("severity", a.severity == .critical ? "critical" : "warning")
            w.string("state", a.phase == .firing ? "firing" : "pending")
            w.bool("acknowledged", a.acknowledged)
            w.string("metric", a.metric.rawValue)
            w.fixed("value", a.value, decimals: 6)
            w.fixed("threshold", a.threshold, decimals: 6)
            w.fixed("since", a.since, decimals: 3)
            if let t = a.firedAt { w.fixed("fired_at", t, decimals: 3) }
            return w.finish()
        }.joined(separator: ",") + "]"
        return out + "}"
    }
}

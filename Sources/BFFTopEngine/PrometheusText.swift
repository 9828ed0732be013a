#if canImport(Glibc)
import Glibc
#endif
import BFFTopStats

/// The Prometheus text exposition (format 0.0.4) of what bfftop has taken since it started: RED
/// per endpoint as counters and a latency histogram, cold starts, cost, concurrency now, and
/// bfftop's own ingest counters. `bfftop_` prefix, base units (seconds), `_total` counters; labels
/// are the endpoint (a route template or function name, never an id), its kind and service.
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ e: LifetimeExport, version: String) -> String {
        var out = Writer()
        out.family("bfftop_build_info", "gauge", "bfftop's version.")
        out.sample("bfftop_build_info", ["version": version], 1)

        let eps = e.snapshot.endpoints
        func labels(_ f: EndpointFigures) -> [(String, String)] {
            [("endpoint", f.name), ("kind", f.kind.description), ("service", f.service ?? "")]
        }
        out.family("bfftop_requests_total", "counter", "Requests (route calls and function invocations) taken per endpoint since bfftop started.")
        for f in eps { out.sample("bfftop_requests_total", labels(f), Double(f.count)) }
        out.family("bfftop_request_failures_total", "counter", "Failed requests per endpoint by outcome (error, timeout, throttle).")
        for f in eps {
            for (outcome, n) in [("error", f.errors), ("timeout", f.timeouts), ("throttle", f.throttles)] {
                out.sample("bfftop_request_failures_total", labels(f) + [("outcome", outcome)], Double(n))
            }
        }
        out.family("bfftop_cold_starts_total", "counter", "Function invocations that started cold.")
        for f in eps where f.kind == .function { out.sample("bfftop_cold_starts_total", labels(f), Double(f.cold)) }
        out.family("bfftop_cost_usd_total", "counter", "Estimated cost in US dollars (requests and compute) per endpoint.")
        for f in eps { out.sample("bfftop_cost_usd_total", labels(f), f.cost) }

        out.family("bfftop_request_duration_seconds", "histogram",
                   "Request duration per endpoint. Buckets come from bfftop's sketch: a value within 1.8 % of a bound may count on either side of it.")
        for (f, h) in zip(eps, e.histograms) {
            guard let h else { continue }
            let l = labels(f)
            for (bound, n) in zip(LifetimeExport.bucketBoundsSeconds, h.cumulative) {
                out.sample("bfftop_request_duration_seconds_bucket", l + [("le", format(bound))], Double(n))
            }
            out.sample("bfftop_request_duration_seconds_bucket", l + [("le", "+Inf")], Double(h.count))
            out.sample("bfftop_request_duration_seconds_sum", l, h.sumMs / 1000)
            out.sample("bfftop_request_duration_seconds_count", l, Double(h.count))
        }

        // Gauges from the dashboard's latest frame.
        out.family("bfftop_concurrency", "gauge", "Requests in flight per endpoint now.")
        // No sample for an endpoint whose concurrency is unknown (fed only by histograms and counters).
        for f in e.frame.snapshot.endpoints where f.concurrencyKnown { out.sample("bfftop_concurrency", labels(f), f.concurrencyNow) }

        let ingest = e.frame.ingest
        out.family("bfftop_ingest_events_total", "counter", "Events bfftop decoded from every input.")
        out.sample("bfftop_ingest_events_total", [], Double(ingest.events))
        out.family("bfftop_ingest_malformed_total", "counter", "Lines, datagrams or spans no decoder could read.")
        out.sample("bfftop_ingest_malformed_total", [], Double(ingest.malformed))
        out.family("bfftop_ingest_dropped_total", "counter", "Events dropped because the engine was behind.")
        out.sample("bfftop_ingest_dropped_total", [], Double(e.frame.backlogDropped))
        out.family("bfftop_ingest_not_counted_total", "counter", "Events decoded but outside the time the aggregator keeps (too old, from the future).")
        out.sample("bfftop_ingest_not_counted_total", [], Double(e.snapshot.losses.total))
        let traces = e.frame.snapshot.traceStore
        out.family("bfftop_trace_spans_total", "counter", "Traced spans taken for request waterfalls.")
        out.sample("bfftop_trace_spans_total", [], Double(traces.spans))
        out.family("bfftop_trace_spans_not_kept_total", "counter", "Traced spans not kept: past a trace's span limit or the held traces' limit.")
        out.sample("bfftop_trace_spans_not_kept_total", [], Double(traces.notKept))
        out.family("bfftop_trace_exemplars_lost_total", "counter", "Exemplar traces forgotten because the held traces were full.")
        out.sample("bfftop_trace_exemplars_lost_total", [], Double(traces.exemplarsLost))
        if let o = ingest.otlp {
            out.family("bfftop_otlp_spans_total", "counter", "Spans taken over OTLP.")
            out.sample("bfftop_otlp_spans_total", [], Double(o.spans))
            out.family("bfftop_otlp_metric_points_total", "counter", "Metric data points taken over OTLP (of every metric, read or not).")
            out.sample("bfftop_otlp_metric_points_total", [], Double(o.points))
            out.family("bfftop_otlp_metric_points_skipped_total", "counter", "Points of metrics bfftop reads that name no endpoint (no route, no function).")
            out.sample("bfftop_otlp_metric_points_skipped_total", [], Double(o.pointsSkipped))
            out.family("bfftop_otlp_exports_busy_total", "counter", "OTLP exports answered busy (retry) because the engine was behind.")
            out.sample("bfftop_otlp_exports_busy_total", [], Double(o.busy))
            out.family("bfftop_otlp_held", "gauge", "Function and operation spans waiting for the route span above them.")
            out.sample("bfftop_otlp_held", [], Double(o.held))
            out.family("bfftop_otlp_unlinked_total", "counter", "Spans that waited for their route in vain and were counted without it.")
            out.sample("bfftop_otlp_unlinked_total", [], Double(o.unlinked))
        }
        out.family("bfftop_endpoints", "gauge", "Endpoints bfftop tracks.")
        out.sample("bfftop_endpoints", [], Double(eps.count))
        out.family("bfftop_endpoints_over_cap", "gauge", "Endpoint names refused because the endpoint cap was reached.")
        out.sample("bfftop_endpoints_over_cap", [], Double(e.snapshot.endpointsOverCap))
        return out.text
    }

    /// A number as Prometheus reads it: integers without a fraction, others shortest.
    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        // Twelve significant digits: sums of prices carry float noise past that.
        var buf = [CChar](repeating: 0, count: 32)
        _ = withVaList([v]) { vsnprintf(&buf, buf.count, "%.12g", $0) }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    struct Writer {
        var text = ""

        mutating func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
            sample(name, labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, value)
        }

        mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
            text += name
            if !labels.isEmpty {
                text += "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
            }
            text += " " + format(value) + "\n"
        }

        /// Label values: backslash, double quote and line feed escaped, as the format says.
        func escape(_ s: String) -> String {
            var out = ""
            for c in s.unicodeScalars {
                switch c {
                case "\\": out += "\\\\"
                case "\"": out += "\\\""
                case "\n": out += "\\n"
                default: out.unicodeScalars.append(c)
                }
            }
            return out
        }
    }
}

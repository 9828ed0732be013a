import FoundationEssentials

/// OTLP JSON metric exports (`application/json`: the Node SDK's HTTP exporter) read into the
/// model protobuf bodies are read into, with OTLP's JSON rules (64-bit integers as decimal strings,
/// integer enums, unknown fields ignored).
extension OTLPMetrics {
    public static func export(json body: [UInt8]) throws(DecodeError) -> OTLPMetricsExport {
        let request: ExportRequest
        do {
            request = try JSONDecoder().decode(ExportRequest.self, from: Data(body))
        } catch {
            throw DecodeError("not an OTLP JSON metrics export: \(OTLPTraces.reason(error))")
        }
        var out = OTLPMetricsExport()
        for rm in request.resourceMetrics ?? [] {
            var r = OTLPResourceMetrics()
            let attributes = rm.resource?.attributes ?? []
            r.resource = OTLPAttributes(attributes)
            r.identity = identity(attributes)
            for m in (rm.scopeMetrics ?? []).flatMap({ $0.metrics ?? [] }) {
                let points = m.gauge?.dataPoints?.count ?? m.sum?.dataPoints?.count ?? m.histogram?.dataPoints?.count
                    ?? m.exponentialHistogram?.dataPoints?.count ?? 0
                out.points += points
                guard let name = m.name.flatMap(OTLPMetricName.init(rawValue:)) else { continue }
                var metric = OTLPMetric(name: name)
                metric.unit = m.unit ?? ""
                if let s = m.sum {
                    (metric.kind, metric.temporality, metric.monotonic) = (.sum, s.aggregationTemporality?.value ?? 0, s.isMonotonic ?? false)
                    metric.points = (s.dataPoints ?? []).map(\.point)
                } else if let g = m.gauge {
                    metric.kind = .gauge
                    metric.points = (g.dataPoints ?? []).map(\.point)
                } else if let h = m.histogram {
                    (metric.kind, metric.temporality) = (.histogram, h.aggregationTemporality?.value ?? 0)
                    metric.points = (h.dataPoints ?? []).map(\.point)
                } else if let e = m.exponentialHistogram {
                    (metric.kind, metric.temporality) = (.exponentialHistogram, e.aggregationTemporality?.value ?? 0)
                    metric.points = (e.dataPoints ?? []).map(\.point)
                } else {
                    continue
                }
                r.metrics.append(metric)
            }
            out.resources.append(r)
        }
        return out
    }

    /// Every attribute, known or not, hashed in order (see `OTLPResourceMetrics.identity`).
    static func identity(_ kv: [OTLPTraces.KeyValue]) -> UInt64 {
        var h = OTLPIdentity.seed
        for k in kv {
            OTLPIdentity.mix(&h, k.key ?? "")
            let v = k.value
            OTLPIdentity.mix(&h, v?.stringValue ?? v?.boolValue.map { "\($0)" } ?? v?.intValue?.raw.map { "\($0)" }
                ?? v?.doubleValue.map { "\($0.value)" } ?? "")
        }
        return h
    }

    struct ExportRequest: Decodable { var resourceMetrics: [ResourceMetrics]? }
    struct ResourceMetrics: Decodable {
        var resource: OTLPTraces.Resource?
        var scopeMetrics: [ScopeMetrics]?
    }
    struct ScopeMetrics: Decodable { var metrics: [Metric]? }
    struct Metric: Decodable {
        var name: String?
        var unit: String?
        var gauge: Series<NumberPoint>?
        var sum: Series<NumberPoint>?
        var histogram: Series<HistogramPoint>?
        var exponentialHistogram: Series<ExponentialPoint>?
    }
    struct Series<P: Decodable>: Decodable {
        var dataPoints: [P]?
        var aggregationTemporality: OTLPTraces.EnumValue?
        var isMonotonic: Bool?
    }

    struct NumberPoint: Decodable {
        var attributes: [OTLPTraces.KeyValue]?
        var startTimeUnixNano: OTLPTraces.UInt64Value?
        var timeUnixNano: OTLPTraces.UInt64Value?
        var asDouble: OTLPTraces.DoubleValue?
        var asInt: OTLPTraces.Int64Value?
        var flags: UInt32?

        var point: OTLPMetricPoint {
            var p = OTLPMetricPoint.common(attributes, startTimeUnixNano, timeUnixNano, flags)
            p.value = asDouble?.value ?? asInt?.raw.map(Double.init)
            return p
        }
    }

    struct HistogramPoint: Decodable {
        var attributes: [OTLPTraces.KeyValue]?
        var startTimeUnixNano: OTLPTraces.UInt64Value?
        var timeUnixNano: OTLPTraces.UInt64Value?
        var count: OTLPTraces.UInt64Value?
        var sum: OTLPTraces.DoubleValue?
        var bucketCounts: [OTLPTraces.UInt64Value]?
        var explicitBounds: [OTLPTraces.DoubleValue]?
        var flags: UInt32?
        var min: OTLPTraces.DoubleValue?
        var max: OTLPTraces.DoubleValue?

        var point: OTLPMetricPoint {
            var p = OTLPMetricPoint.common(attributes, startTimeUnixNano, timeUnixNano, flags)
            (p.count, p.sum, p.min, p.max) = (count?.raw ?? 0, sum?.value, min?.value, max?.value)
            for c in bucketCounts ?? [] { p.appendBucket(c.raw ?? 0) }
            for b in explicitBounds ?? [] { p.appendBound(b.value) }
            return p
        }
    }

    struct Buckets: Decodable {
        var offset: Int32?
        var bucketCounts: [OTLPTraces.UInt64Value]?
    }

    struct ExponentialPoint: Decodable {
        var attributes: [OTLPTraces.KeyValue]?
        var startTimeUnixNano: OTLPTraces.UInt64Value?
        var timeUnixNano: OTLPTraces.UInt64Value?
        var count: OTLPTraces.UInt64Value?
        var sum: OTLPTraces.DoubleValue?
        var scale: Int32?
        var zeroCount: OTLPTraces.UInt64Value?
        var positive: Buckets?
        var negative: Buckets?
        var flags: UInt32?
        var min: OTLPTraces.DoubleValue?
        var max: OTLPTraces.DoubleValue?

        var point: OTLPMetricPoint {
            var p = OTLPMetricPoint.common(attributes, startTimeUnixNano, timeUnixNano, flags)
            (p.count, p.sum, p.min, p.max, p.scale, p.zeroCount) = (count?.raw ?? 0, sum?.value, min?.value, max?.value, scale ?? 0, zeroCount?.raw ?? 0)
            p.positiveOffset = positive?.offset ?? 0
            for c in positive?.bucketCounts ?? [] { OTLPMetricPoint.append(c.raw ?? 0, to: &p.positive, tooMany: &p.tooManyBuckets) }
            p.negativeCount = (negative?.bucketCounts ?? []).reduce(0) { $0 &+ ($1.raw ?? 0) }
            return p
        }
    }
}

extension OTLPMetricPoint {
    static func common(_ attributes: [OTLPTraces.KeyValue]?, _ start: OTLPTraces.UInt64Value?, _ time: OTLPTraces.UInt64Value?,
                       _ flags: UInt32?) -> OTLPMetricPoint {
        var p = OTLPMetricPoint()
        p.attributes = OTLPAttributes(attributes ?? [])
        p.identity = OTLPMetrics.identity(attributes ?? [])
        p.startNs = start?.raw ?? 0
        p.timeNs = time?.raw ?? 0
        p.flags = flags ?? 0
        return p
    }
}

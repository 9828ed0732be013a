import Foundation
import Testing
@testable import BFFTopWire

/// OTLP metric points to events: routes and functions from the semantic conventions, cumulative
/// streams differenced, buckets as invocations standing for their counts, spread over the interval.
@Suite struct OTLPMetricsMappingTests {
    let t0: UInt64 = 1_765_000_000_000_000_000
    let second: UInt64 = 1_000_000_000

    func attrs(_ pairs: [(OTLPKey, OTLPValue)]) -> OTLPAttributes {
        var a = OTLPAttributes()
        for (k, v) in pairs { a[k] = v }
        return a
    }

    func export(_ m: OTLPMetric, resource: [(OTLPKey, OTLPValue)] = [(.serviceName, .string("web-bff"))]) -> OTLPMetricsExport {
        var r = OTLPResourceMetrics()
        r.resource = attrs(resource)
        r.identity = 42
        r.metrics = [m]
        var e = OTLPMetricsExport()
        e.resources = [r]
        e.points = m.points.count
        return e
    }

    func routePoint(status: Int, counts: [UInt64], start: UInt64, time: UInt64, min: Double? = nil, max: Double? = nil) -> OTLPMetricPoint {
        var p = OTLPMetricPoint()
        p.attributes = attrs([(.httpRoute, .string("/graphql")), (.httpRequestMethod, .string("POST")), (.httpResponseStatusCode, .int(Int64(status)))])
        p.identity = UInt64(status)
        p.startNs = start
        p.timeNs = time
        p.bounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5]
        p.bucketCounts = counts
        p.count = counts.reduce(0, +)
        (p.min, p.max) = (min, max)
        return p
    }

    func invocations(_ d: OTLPMetrics.Decoded) -> [Invocation] {
        d.events.compactMap { if case .invocation(let i) = $0 { i } else { nil } }
    }

    @Test func deltaHistogramBecomesTheRoutesRequestsSpreadOverTheInterval() throws {
        var m = OTLPMetric(name: .httpServerRequestDuration)
        (m.kind, m.temporality, m.unit) = (.histogram, 1, "s")
        m.points = [routePoint(status: 200, counts: [0, 3, 10, 0, 0, 2, 0, 1], start: t0, time: t0 + 10 * second, min: 0.006, max: 0.9),
                    routePoint(status: 503, counts: [0, 0, 0, 0, 4, 0, 0, 0], start: t0, time: t0 + 10 * second)]
        var streams = OTLPMetricStreams(startedAt: 1_764_999_000)
        let d = OTLPMetrics.map(export(m), streams: &streams)
        let inv = invocations(d)
        #expect(d.rejected == 0 && d.skipped == 0)
        #expect(Set(inv.map(\.endpoint)) == ["POST /graphql"])
        #expect(inv.filter { $0.status == 200 }.reduce(0) { $0 + ($1.count ?? 0) } == 16)
        #expect(inv.filter { $0.status == 503 }.reduce(0) { $0 + ($1.count ?? 0) } == 4)
        #expect(inv.filter { $0.status == 503 }.allSatisfy { $0.outcome == .error })
        // Values: the bucket's middle, narrowed by min and max (0.006 for the first, 0.9 for the last).
        let values = Set(inv.filter { $0.status == 200 }.map { ($0.durationMs * 1000).rounded() / 1000 })
        #expect(values == [8, 17.5, 175, 700])  // (6+10)/2, (10+25)/2, (100+250)/2, (500+900)/2 ms
        // Spread over the ten seconds: every invocation ends inside the interval, and no second gets them all.
        let start = Double(t0) / 1e9, end = start + 10
        #expect(inv.allSatisfy { $0.endTs > start - 1e-6 && $0.endTs <= end + 1e-6 })
        #expect(Set(inv.map { Int($0.endTs.rounded()) }).count == 10)
        #expect(inv.allSatisfy { $0.service == "web-bff" && $0.kind == .route && $0.count != nil })
    }

    @Test func cumulativeStreamsAreDifferencedWithBaselinesAndRestarts() throws {
        var m = OTLPMetric(name: .httpServerRequestDuration)
        (m.kind, m.temporality) = (.histogram, 2)
        func run(_ p: OTLPMetricPoint, _ streams: inout OTLPMetricStreams) -> Int {
            m.points = [p]
            return invocations(OTLPMetrics.map(export(m), streams: &streams)).reduce(0) { $0 + ($1.count ?? 0) }
        }
        // A stream that began after bfftop started: its first point counts whole.
        var s = OTLPMetricStreams(startedAt: Double(t0 / second) - 5)
        #expect(run(routePoint(status: 200, counts: [1, 2, 0, 0, 0, 0, 0, 0], start: t0, time: t0 + 5 * second), &s) == 3)
        #expect(run(routePoint(status: 200, counts: [4, 2, 1, 0, 0, 0, 0, 0], start: t0, time: t0 + 10 * second), &s) == 4)
        // The same point again: nothing new.
        #expect(run(routePoint(status: 200, counts: [4, 2, 1, 0, 0, 0, 0, 0], start: t0, time: t0 + 10 * second), &s) == 0)
        // Totals went down with a new start: a restart counts whole from it.
        #expect(run(routePoint(status: 200, counts: [1, 0, 0, 0, 0, 0, 0, 0], start: t0 + 12 * second, time: t0 + 15 * second), &s) == 1)
        #expect(s.restarts == 1)
        // A stream that began long before bfftop listened: a baseline, then what it adds.
        var old = OTLPMetricStreams(startedAt: Double(t0 / second) + 3600)
        #expect(run(routePoint(status: 200, counts: [100, 0, 0, 0, 0, 0, 0, 0], start: t0, time: t0 + 3_700 * second), &old) == 0)
        #expect(run(routePoint(status: 200, counts: [103, 0, 0, 0, 0, 0, 0, 0], start: t0, time: t0 + 3_710 * second), &old) == 3)
        #expect(old.baselines == 1)
        // Bounded: a full table forgets its oldest stream (and counts it).
        var small = OTLPMetricStreams(startedAt: 0, capacity: 2)
        for status in [200, 201, 202] { _ = run(routePoint(status: status, counts: [1, 0, 0, 0, 0, 0, 0, 0], start: t0, time: t0 + second), &small) }
        #expect(small.count == 2 && small.evicted == 1)
    }

    @Test func exponentialHistogramsAcrossAScaleChangeAndFunctionCounters() throws {
        var m = OTLPMetric(name: .faasInvokeDuration)
        (m.kind, m.temporality, m.unit) = (.exponentialHistogram, 2, "s")
        func point(scale: Int32, offset: Int32, _ counts: [UInt64], time: UInt64) -> OTLPMetricPoint {
            var p = OTLPMetricPoint()
            (p.scale, p.positiveOffset, p.positive, p.startNs, p.timeNs) = (scale, offset, counts, t0, time)
            return p
        }
        var s = OTLPMetricStreams(startedAt: 0)
        let resource: [(OTLPKey, OTLPValue)] = [(.faasName, .string("slots-query")), (.faasMaxMemory, .int(512 * 1_048_576))]
        m.points = [point(scale: 3, offset: -40, [2, 0, 5, 1], time: t0 + second)]
        let first = invocations(OTLPMetrics.map(export(m, resource: resource), streams: &s))
        #expect(first.reduce(0) { $0 + ($1.count ?? 0) } == 8)
        #expect(first.allSatisfy { $0.kind == .function && $0.endpoint == "slots-query" && $0.memoryMB == 512 })
        // Bucket -40 at scale 3 holds (2^-5, 2^-4.875] s: its geometric middle.
        let base = pow(2.0, 1.0 / 8)
        let expected = (pow(base, -40) * pow(base, -39)).squareRoot() * 1000
        #expect(first.contains { abs($0.durationMs - expected) < 1e-9 && $0.count == 2 })
        // The SDK lowered the scale to 2: indices halve (−40, −39 → −20; −38, −37 → −19); 3 more requests.
        m.points = [point(scale: 2, offset: -20, [3, 8], time: t0 + 2 * second)]
        let second2 = invocations(OTLPMetrics.map(export(m, resource: resource), streams: &s))
        #expect(second2.reduce(0) { $0 + ($1.count ?? 0) } == 3)
        // Counters: errors and cold starts of the function.
        var errors = OTLPMetric(name: .faasErrors)
        (errors.kind, errors.temporality, errors.monotonic) = (.sum, 1, true)
        var p = OTLPMetricPoint()
        (p.value, p.startNs, p.timeNs) = (4, t0, t0 + second)
        errors.points = [p]
        let events = OTLPMetrics.map(export(errors, resource: resource), streams: &s).events
        #expect(events == [.outcomes(OutcomeCount(ts: Double(t0 + second) / 1e9, endpoint: "slots-query", kind: .function, outcome: .error, count: 4))])
    }

    @Test func whatCannotBeMappedIsSkippedOrRejectedWithAReason() throws {
        var m = OTLPMetric(name: .httpServerRequestDuration)
        (m.kind, m.temporality) = (.histogram, 1)
        var noRoute = routePoint(status: 404, counts: [1, 0, 0, 0, 0, 0, 0, 0], start: t0, time: t0 + second)
        noRoute.attributes[.httpRoute] = nil
        var mismatched = routePoint(status: 200, counts: [1, 2], start: t0, time: t0 + second)
        mismatched.identity = 9
        var huge = routePoint(status: 201, counts: [1], start: t0, time: t0 + second)
        huge.tooManyBuckets = true
        m.points = [noRoute, mismatched, huge]
        var s = OTLPMetricStreams(startedAt: 0)
        let d = OTLPMetrics.map(export(m), streams: &s)
        #expect(d.events.isEmpty)
        #expect(d.skipped == 1 && d.rejected == 2)
        #expect(d.firstRejection?.contains("buckets") == true)
        // A histogram in an unknown unit is not a duration.
        m.unit = "By"
        m.points = [routePoint(status: 200, counts: [1, 0, 0, 0, 0, 0, 0, 0], start: t0, time: t0 + second)]
        #expect(OTLPMetrics.map(export(m), streams: &s).firstRejection == "http.server.request.duration: unit \"By\" is not a duration")
    }
}

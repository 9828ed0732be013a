import Foundation
import OTLPProtoGenerated
import SwiftProtobuf
import Testing
@testable import BFFTopWire

/// The metrics reader against swift-protobuf's generated code: random exports (every point kind,
/// packed and unpacked numbers, unknown metrics, odd attributes) read the same; corrupted bytes that
/// swift-protobuf accepts read the same; JSON (swift-protobuf's JSON mapping, which is OTLP's for
/// metrics) reads the same as protobuf.
@Suite struct OTLPMetricsOracleTests {
    typealias Rng = OTLPProtobufOracleTests.Rng
    typealias M = Opentelemetry_Proto_Metrics_V1_Metric
    typealias Req = Opentelemetry_Proto_Collector_Metrics_V1_ExportMetricsServiceRequest

    static let names = OTLPMetricName.allCases.map(\.rawValue) + ["http.client.request.duration", "process.cpu.time", ""]

    static func request(_ r: inout Rng) -> Req {
        var req = Req()
        for _ in 0..<Int.random(in: 0..<3, using: &r) {
            var rm = Opentelemetry_Proto_Metrics_V1_ResourceMetrics()
            rm.resource.attributes = OTLPProtobufOracleTests.attributes(&r)
            for _ in 0..<Int.random(in: 0..<3, using: &r) {
                var sm = Opentelemetry_Proto_Metrics_V1_ScopeMetrics()
                sm.scope.name = "opentelemetry.instrumentation.http"
                for _ in 0..<Int.random(in: 0..<5, using: &r) { sm.metrics.append(metric(&r)) }
                rm.scopeMetrics.append(sm)
            }
            req.resourceMetrics.append(rm)
        }
        return req
    }

    static func metric(_ r: inout Rng) -> M {
        var m = M()
        m.name = names.randomElement(using: &r)!
        m.unit = ["s", "ms", "", "By"].randomElement(using: &r)!
        let t: UInt64 = 1_765_000_000_000_000_000
        func times<P>(_ p: inout P, _ start: WritableKeyPath<P, UInt64>, _ time: WritableKeyPath<P, UInt64>) {
            p[keyPath: start] = [t, 0].randomElement(using: &r)!
            p[keyPath: time] = t + UInt64.random(in: 0...60_000_000_000, using: &r)
        }
        switch Int.random(in: 0..<5, using: &r) {
        case 0, 1:
            var s = Opentelemetry_Proto_Metrics_V1_Sum()
            s.aggregationTemporality = Bool.random(using: &r) ? .cumulative : .delta
            s.isMonotonic = Bool.random(using: &r)
            for _ in 0..<Int.random(in: 0..<4, using: &r) {
                var p = Opentelemetry_Proto_Metrics_V1_NumberDataPoint()
                times(&p, \.startTimeUnixNano, \.timeUnixNano)
                if Bool.random(using: &r) { p.asInt = Int64.random(in: -5...1_000, using: &r) } else { p.asDouble = Double.random(in: 0...100, using: &r) }
                p.attributes = OTLPProtobufOracleTests.attributes(&r)
                p.flags = UInt32.random(in: 0...1, using: &r)
                s.dataPoints.append(p)
            }
            if Bool.random(using: &r) { m.sum = s } else { m.gauge.dataPoints = s.dataPoints }
        case 2:
            var h = Opentelemetry_Proto_Metrics_V1_Histogram()
            h.aggregationTemporality = .cumulative
            for _ in 0..<Int.random(in: 0..<4, using: &r) {
                var p = Opentelemetry_Proto_Metrics_V1_HistogramDataPoint()
                times(&p, \.startTimeUnixNano, \.timeUnixNano)
                p.explicitBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1].prefix(Int.random(in: 0...8, using: &r)).map { $0 }
                p.bucketCounts = (0..<(p.explicitBounds.count + Int.random(in: 0...1, using: &r))).map { _ in UInt64.random(in: 0...1_000, using: &r) }
                p.count = p.bucketCounts.reduce(0, +)
                if Bool.random(using: &r) { p.sum = 1.5 }
                if Bool.random(using: &r) { (p.min, p.max) = (0.002, 0.8) }
                p.attributes = OTLPProtobufOracleTests.attributes(&r)
                h.dataPoints.append(p)
            }
            m.histogram = h
        case 3:
            var h = Opentelemetry_Proto_Metrics_V1_ExponentialHistogram()
            h.aggregationTemporality = .delta
            for _ in 0..<Int.random(in: 0..<4, using: &r) {
                var p = Opentelemetry_Proto_Metrics_V1_ExponentialHistogramDataPoint()
                times(&p, \.startTimeUnixNano, \.timeUnixNano)
                p.scale = Int32.random(in: -3...8, using: &r)
                p.zeroCount = UInt64.random(in: 0...3, using: &r)
                p.positive.offset = Int32.random(in: -200...200, using: &r)
                p.positive.bucketCounts = (0..<Int.random(in: 0...40, using: &r)).map { _ in UInt64.random(in: 0...100_000, using: &r) }
                if Bool.random(using: &r) { p.negative.bucketCounts = [1, 2] }
                p.count = p.positive.bucketCounts.reduce(p.zeroCount, +)
                if Bool.random(using: &r) { (p.min, p.max) = (0.001, 3.0) }
                p.attributes = OTLPProtobufOracleTests.attributes(&r)
                h.dataPoints.append(p)
            }
            m.exponentialHistogram = h
        default:
            m.summary.dataPoints = [Opentelemetry_Proto_Metrics_V1_SummaryDataPoint.with { $0.count = 3 }]
        }
        return m
    }

    /// What bfftop's model should hold, from swift-protobuf's view (metrics bfftop does not map are absent).
    static func expected(_ req: Req) -> [String] {
        var out: [String] = []
        for rm in req.resourceMetrics {
            out.append("resource")
            for m in rm.scopeMetrics.flatMap(\.metrics) where OTLPMetricName(rawValue: m.name) != nil {
                switch m.data {
                case .sum(let s)?:
                    out.append("\(m.name) \(m.unit) sum \(s.aggregationTemporality.rawValue) \(s.isMonotonic)")
                    out += s.dataPoints.map { p in number(p) }
                case .gauge(let g)?:
                    out.append("\(m.name) \(m.unit) gauge 0 false")
                    out += g.dataPoints.map { p in number(p) }
                case .histogram(let h)?:
                    out.append("\(m.name) \(m.unit) histogram \(h.aggregationTemporality.rawValue) false")
                    out += h.dataPoints.map { p in
                        "h \(p.startTimeUnixNano) \(p.timeUnixNano) \(p.count) \(p.hasSum ? "\(p.sum)" : "-") \(p.explicitBounds) \(p.bucketCounts) \(p.hasMin ? "\(p.min)" : "-") \(p.hasMax ? "\(p.max)" : "-") \(p.flags)"
                    }
                case .exponentialHistogram(let h)?:
                    out.append("\(m.name) \(m.unit) exponentialHistogram \(h.aggregationTemporality.rawValue) false")
                    out += h.dataPoints.map { p in
                        "e \(p.startTimeUnixNano) \(p.timeUnixNano) \(p.count) \(p.scale) \(p.zeroCount) \(p.positive.offset) \(p.positive.bucketCounts) \(p.negative.bucketCounts.reduce(0, +)) \(p.hasMin ? "\(p.min)" : "-") \(p.hasMax ? "\(p.max)" : "-")"
                    }
                case .summary?, nil:
                    continue
                }
            }
        }
        return out
    }

    static func number(_ p: Opentelemetry_Proto_Metrics_V1_NumberDataPoint) -> String {
        let v: Double? = switch p.value {
        case .asDouble(let d)?: d
        case .asInt(let i)?: Double(i)
        case nil: nil
        }
        return "n \(p.startTimeUnixNano) \(p.timeUnixNano) \(v.map { "\($0)" } ?? "-") \(p.flags)"
    }

    static func actual(_ e: OTLPMetricsExport) -> [String] {
        var out: [String] = []
        for rm in e.resources {
            out.append("resource")
            for m in rm.metrics {
                out.append("\(m.name.rawValue) \(m.unit) \(m.kind) \(m.temporality) \(m.monotonic)")
                for p in m.points {
                    switch m.kind {
                    case .sum, .gauge: out.append("n \(p.startNs) \(p.timeNs) \(p.value.map { "\($0)" } ?? "-") \(p.flags)")
                    case .histogram:
                        out.append("h \(p.startNs) \(p.timeNs) \(p.count) \(p.sum.map { "\($0)" } ?? "-") \(p.bounds) \(p.bucketCounts) \(p.min.map { "\($0)" } ?? "-") \(p.max.map { "\($0)" } ?? "-") \(p.flags)")
                    case .exponentialHistogram:
                        out.append("e \(p.startNs) \(p.timeNs) \(p.count) \(p.scale) \(p.zeroCount) \(p.positiveOffset) \(p.positive) \(p.negativeCount) \(p.min.map { "\($0)" } ?? "-") \(p.max.map { "\($0)" } ?? "-")")
                    case .other: break
                    }
                }
            }
        }
        return out
    }

    @Test func randomExportsReadAsSwiftProtobufReadsThem() throws {
        var r = Rng(state: 61206)
        for _ in 0..<1_500 {
            let req = Self.request(&r)
            let e = try OTLPProtobuf.metrics(Array(try req.serializedData()))
            #expect(Self.actual(e) == Self.expected(req))
            // Streams are told apart by all their attributes: the same point's identity twice is equal.
            let again = try OTLPProtobuf.metrics(Array(try req.serializedData()))
            #expect(e.resources.map(\.identity) == again.resources.map(\.identity))
        }
    }

    @Test func jsonReadsAsProtobufDoes() throws {
        var r = Rng(state: 99)
        for _ in 0..<300 {
            let req = Self.request(&r)
            let fromJSON = try OTLPMetrics.export(json: Array(try req.jsonString().utf8))
            let fromProtobuf = try OTLPProtobuf.metrics(Array(try req.serializedData()))
            // Doubles print and parse back the same in swift-protobuf's JSON; identities differ by encoding.
            #expect(Self.actual(fromJSON) == Self.actual(fromProtobuf))
        }
    }

    @Test func corruptedBytesNeverTrapAndAgreeWhenSwiftProtobufAccepts() throws {
        var r = Rng(state: 11)
        var agreed = 0
        for _ in 0..<3_000 {
            var bytes = Array(try Self.request(&r).serializedData())
            guard !bytes.isEmpty else { continue }
            let i = Int.random(in: 0..<bytes.count, using: &r)
            switch Int.random(in: 0..<3, using: &r) {
            case 0: bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &r))
            case 1: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...8, using: &r)))
            default: bytes.insert(UInt8.random(in: 0...255, using: &r), at: i)
            }
            let mine = try? OTLPProtobuf.metrics(bytes)
            if let oracle = try? Req(serializedBytes: bytes) {
                let m = try #require(mine, "swift-protobuf reads these bytes; so must bfftop: \(Result { () throws(DecodeError) in try OTLPProtobuf.metrics(bytes) }) \(bytes)")
                #expect(Self.actual(m) == Self.expected(oracle))
                agreed += 1
            }
        }
        #expect(agreed > 150, "enough corrupted inputs still parse (\(agreed))")
    }
}

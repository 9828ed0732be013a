/// One export of metrics as bfftop reads it, whichever encoding it came in: only the metrics
/// bfftop maps (`OTLPMetricName`), only what the mapping needs. Other metrics are skipped unread.
public struct OTLPMetricsExport: Sendable {
    public var resources: [OTLPResourceMetrics] = []
    /// Data points of every metric, read or skipped.
    public var points = 0
    public init() {}
}

public struct OTLPResourceMetrics: Sendable {
    public var resource = OTLPAttributes()
    /// All the resource's attributes, known or not, hashed: with the point's, a stream's identity
    /// (two hosts' `POST /graphql` differ by `service.instance.id`, which bfftop does not keep).
    public var identity: UInt64 = OTLPIdentity.seed
    public var metrics: [OTLPMetric] = []
    public init() {}
}

/// The metrics bfftop reads, by the OpenTelemetry semantic conventions.
public enum OTLPMetricName: String, CaseIterable, Sendable {
    /// Histogram of server request durations (stable HTTP conventions; seconds).
    case httpServerRequestDuration = "http.server.request.duration"
    /// The same before the stable conventions (milliseconds; still the Node SDK's default).
    case httpServerDuration = "http.server.duration"
    /// Histogram of function invocation durations (FaaS conventions, the Collector's `telemetryapi` receiver; seconds).
    case faasInvokeDuration = "faas.invoke_duration"
    /// Histogram of function initialization durations (seconds): the init time of cold starts.
    case faasInitDuration = "faas.init_duration"
    /// Histogram of the memory function invocations used (bytes).
    case faasMemUsage = "faas.mem_usage"
    /// Counters of cold starts, errors and timeouts per function.
    case faasColdstarts = "faas.coldstarts"
    case faasErrors = "faas.errors"
    case faasTimeouts = "faas.timeouts"

    /// The unit its values are in when the metric does not say.
    var defaultUnit: String { self == .httpServerDuration ? "ms" : self == .faasMemUsage ? "By" : "s" }

    static func match(_ bytes: UnsafeRawBufferPointer) -> OTLPMetricName? {
        for n in allCases {
            let name = n.rawValue.utf8
            if name.count == bytes.count, name.elementsEqual(bytes) { return n }
        }
        return nil
    }
}

public struct OTLPMetric: Sendable {
    public enum Kind: Sendable, Equatable { case gauge, sum, histogram, exponentialHistogram, other }
    public var name: OTLPMetricName
    public var unit = ""
    public var kind = Kind.other
    /// `AggregationTemporality`: 1 delta, 2 cumulative (0 unspecified).
    public var temporality = 0
    public var monotonic = false
    public var points: [OTLPMetricPoint] = []
    public init(name: OTLPMetricName) { self.name = name }

    /// Milliseconds per unit of its values (nil: a unit that is not a duration).
    /// Mebibytes per unit of a memory metric (nil: not a size).
    var mebibytesPerUnit: Double? {
        switch unit.isEmpty ? name.defaultUnit : unit {
        case "By": 1 / 1_048_576
        case "KiBy": 1 / 1024
        case "MiBy": 1
        default: nil
        }
    }

    var millisecondsPerUnit: Double? {
        switch unit.isEmpty ? name.defaultUnit : unit {
        case "s": 1000
        case "ms": 1
        case "us", "µs": 0.001
        case "ns": 1e-6
        case "min": 60_000
        default: nil
        }
    }
}

/// One data point of any kind (number, histogram, exponential histogram): the fields of its kind are set.
public struct OTLPMetricPoint: Sendable {
    public var attributes = OTLPAttributes()
    /// All the point's attributes hashed (see `OTLPResourceMetrics.identity`).
    public var identity: UInt64 = OTLPIdentity.seed
    public var startNs: UInt64 = 0
    public var timeNs: UInt64 = 0
    /// `DataPointFlags`: bit 0, no recorded value.
    public var flags: UInt32 = 0
    /// A number point's value.
    public var value: Double?
    public var count: UInt64 = 0
    public var sum: Double?
    public var min: Double?
    public var max: Double?
    /// Explicit-bucket histograms: `bucketCounts[i]` counts values in (`bounds[i-1]`, `bounds[i]`].
    public var bounds: [Double] = []
    public var bucketCounts: [UInt64] = []
    /// Exponential histograms: base 2^(2^-scale); `positive[i]` counts values in (base^(offset+i), base^(offset+i+1)].
    public var scale: Int32 = 0
    public var zeroCount: UInt64 = 0
    public var positiveOffset: Int32 = 0
    public var positive: [UInt64] = []
    /// Values below zero (durations cannot be negative: refused).
    public var negativeCount: UInt64 = 0
    /// More buckets than `maxBuckets` were sent: the point is refused (a hostile body would
    /// otherwise make eight bytes of memory out of each byte of varints).
    public var tooManyBuckets = false
    public init() {}

    /// Far more than any SDK writes (exponential histograms keep 160 by default).
    public static let maxBuckets = 4_096

    public var hasNoRecordedValue: Bool { flags & 1 != 0 }

    static func append<T>(_ v: T, to list: inout [T], tooMany: inout Bool) {
        if list.count < maxBuckets { list.append(v) } else { tooMany = true }
    }
    mutating func appendBucket(_ v: UInt64) { Self.append(v, to: &bucketCounts, tooMany: &tooManyBuckets) }
    mutating func appendBound(_ v: Double) { Self.append(v, to: &bounds, tooMany: &tooManyBuckets) }
}

/// A stream's identity: FNV-1a over attribute bytes, in the order they came.
public enum OTLPIdentity {
    public static let seed: UInt64 = 0xcbf2_9ce4_8422_2325

    static func mix(_ h: inout UInt64, _ bytes: UnsafeRawBufferPointer) {
        for b in bytes {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01B3
        }
    }

    static func mix(_ h: inout UInt64, _ text: String) {
        var t = text
        t.withUTF8 { mix(&h, UnsafeRawBufferPointer($0)) }
        mix(&h, UnsafeRawBufferPointer(start: nil, count: 0))
        h ^= 0xff
        h &*= 0x0000_0100_0000_01B3
    }
}

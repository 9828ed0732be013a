import BFFTopWire

/// What the DogStatsD listeners received, for the header and the raw-metrics list.
public struct DogStatsDStatus: Sendable, Equatable {
    public var listeners: [String] = []
    public var packets = 0
    public var metrics = 0
    public var eventsAndChecks = 0
    /// Metrics that became bfftop events (latency samples, outcomes, concurrency).
    public var mapped = 0
    public var malformed = 0
    /// Datagrams larger than the 64 KiB read slot (cut, counted, skipped).
    public var truncated = 0
    /// Dropped before they reached us: by the client (datadogpy's own telemetry) and by the kernel (UDP).
    public var clientDropped = 0
    public var kernelDropped = 0
    /// Metrics that map to no endpoint, by series (name and tags), most recent first when listed.
    public var raw: [String: RawMetric] = [:]
    public static let rawCapacity = 500

    public init() {}

    public var received: Int { metrics + eventsAndChecks }

    public mutating func noteRaw(_ m: DogStatsDMetric, at t: Double) {
        let tags = m.tags.map { $0.value.isEmpty ? $0.key : "\($0.key):\($0.value)" }.joined(separator: ",")
        let key = m.name + "|" + tags
        if raw[key] == nil, raw.count >= Self.rawCapacity, let oldest = raw.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
            raw[oldest] = nil
        }
        var r = raw[key] ?? RawMetric(name: m.name, tags: tags, kind: m.kind.rawValue)
        r.samples += m.values.count
        r.last = m.values.last ?? r.last
        r.sum += m.values.reduce(0, +)
        r.lastSeen = t
        raw[key] = r
    }

    /// Most recently seen first.
    public var rawList: [RawMetric] { raw.values.sorted { ($0.lastSeen, $1.name) > ($1.lastSeen, $0.name) } }
}

public struct RawMetric: Sendable, Equatable {
    public var name: String
    public var tags: String
    public var kind: String
    public var samples = 0
    public var last = 0.0
    public var sum = 0.0
    public var lastSeen = 0.0
}

import BFFTopStats

/// The panes that can take focus, and the endpoint table's columns (every one sorts).
public enum Pane: Int, CaseIterable, Sendable {
    case endpoints, detail, concurrency, errors, alarms, invocations, metrics, malformed

    public var title: String {
        switch self {
        case .malformed: "Malformed"
        case .metrics: "Raw metrics"
        case .alarms: "Alarms"
        case .invocations: "Invocations"
        case .endpoints: "Endpoints"
        case .detail: "Detail"
        case .concurrency: "Concurrency"
        case .errors: "Errors"
        }
    }
}

/// Table columns, in display order. Every column sorts.
public enum Column: String, CaseIterable, Sendable {
    case endpoint, kind, rps, rpsWindow = "avg", p50, p95, p99, errorRate = "err%", concurrency = "conc", cold = "cold%", costPerHour = "$/h", trend

    public var title: String {
        switch self {
        case .endpoint: "ENDPOINT"
        case .kind: "KIND"
        case .rps: "RPS \(Aggregator.nowSeconds)s"
        case .rpsWindow: "RPS"
        case .p50: "P50"
        case .p95: "P95"
        case .p99: "P99"
        case .errorRate: "ERR%"
        case .concurrency: "CONC"
        case .cold: "COLD%"
        case .costPerHour: "$/H"
        case .trend: "TREND"
        }
    }

    /// Text columns sort ascending first; numbers descending (biggest problem on top).
    var naturalDescending: Bool { self != .endpoint && self != .kind }
}

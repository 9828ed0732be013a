import BFFTopWire

/// The time windows figures are computed over. Each reads the coarsest tier that still gives
/// it enough points: 1 s buckets for the last minute, 10 s for five, 1 min for 15 min and 1 h.
public enum Window: Int, Sendable, CaseIterable, CustomStringConvertible {
    case oneMinute, fiveMinutes, fifteenMinutes, oneHour

    public var seconds: Int {
        switch self {
        case .oneMinute: 60
        case .fiveMinutes: 300
        case .fifteenMinutes: 900
        case .oneHour: 3600
        }
    }

    /// The tier (bucket width in seconds) the window is read from.
    public var resolution: Int {
        switch self {
        case .oneMinute: 1
        case .fiveMinutes: 10
        case .fifteenMinutes, .oneHour: 60
        }
    }

    public var bucketCount: Int { seconds / resolution }

    public var description: String {
        switch self {
        case .oneMinute: "1m"
        case .fiveMinutes: "5m"
        case .fifteenMinutes: "15m"
        case .oneHour: "1h"
        }
    }

    public init?(name: String) {
        guard let w = Window.allCases.first(where: { $0.description == name }) else { return nil }
        self = w
    }

    public var next: Window { Window(rawValue: (rawValue + 1) % Window.allCases.count) ?? .oneMinute }

    /// Bucket indices [first, last] at `resolution` that the window covers at time `now`:
    /// the bucket holding `now` and the `bucketCount - 1` before it.
    public func bucketRange(now: Double) -> ClosedRange<Int64> {
        let last = wholeSecond(now / Double(resolution))
        return (last - Int64(bucketCount) + 1)...last
    }
}

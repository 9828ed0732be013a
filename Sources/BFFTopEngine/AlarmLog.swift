#if canImport(Glibc)
import Glibc
#endif
import BFFTopStats
import BFFTopWire

/// Why the alarm log cannot be opened.
public struct AlarmLogError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot open the alarm log \(TerminalSafe.clean(path)): \(reason)" }
}

/// The append-only alarm log (`[alarms] log`): one line per transition, written by the engine thread.
/// `2026-11-24T21:30:00Z FIRING critical "error rate high" GET /checkout error_rate=12.5% (> 10%)`
public final class AlarmLog: Sendable {
    public let path: String
    private let fd: Int32

    public init(path: String) throws(AlarmLogError) {
        self.path = path
        switch PrivateFile.openForAppend(path) {
        case .success(let f): fd = f
        case .failure(let e): throw AlarmLogError(path: path, reason: e.reason)
        }
    }

    deinit { close(fd) }

    public func write(_ t: AlarmTransition) {
        let line = Self.line(t) + "\n"
        _ = line.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    public static func line(_ t: AlarmTransition) -> String {
        let unit = t.metric.unit
        // Endpoint names come from the outside: a log that is `tail -f`ed must not carry their escapes.
        return "\(isoUTC(t.time)) \(t.phase.rawValue.uppercased()) \(t.severity.rawValue) \"\(TerminalSafe.clean(t.rule))\" \(TerminalSafe.clean(t.endpoint)) "
            + "\(t.metric.rawValue)=\(formatFixed(t.value, 2))\(unit) (\(t.comparison.rawValue) \(formatFixed(t.threshold, 2))\(unit))"
    }

    /// `2026-11-24T21:30:00Z` (Howard Hinnant's civil-from-days).
    public static func isoUTC(_ t: Double) -> String {
        let secs = Int(wholeSecond(t))
        let days = daysSinceEpoch(secs)
        let rem = secs - days * 86_400
        let (y, m, d) = civilDate(daysSinceEpoch: days)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(rem / 3600)):\(two(rem / 60 % 60)):\(two(rem % 60))Z"
    }
}

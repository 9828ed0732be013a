import BFFTopWire

/// What an alarm rule watches, read from an endpoint's figures over the rule's window.
public enum AlarmMetric: String, CaseIterable, Sendable {
    case errorRate = "error_rate"
    case timeouts
    case oom
    case durationVsTimeout = "duration_vs_timeout"
    case coldRate = "cold_rate"
    case throttleRate = "throttle_rate"
    case concurrencyVsLimit = "concurrency_vs_limit"
    case memoryUsed = "memory_used"
    case p50, p95, p99
    case rps
    case costPerHour = "cost_per_hour"
    case silent

    public var unit: String {
        switch self {
        case .errorRate, .durationVsTimeout, .coldRate, .throttleRate, .concurrencyVsLimit, .memoryUsed: "%"
        case .p50, .p95, .p99: "ms"
        case .costPerHour: "$/h"
        case .silent: "s"
        case .rps: "/s"
        case .timeouts, .oom: ""
        }
    }

    /// Rates need some traffic to mean anything; counts and silence do not.
    var isRate: Bool {
        switch self {
        case .errorRate, .coldRate, .throttleRate: true
        default: false
        }
    }

    var isPercentile: Bool {
        switch self {
        case .p50, .p95, .p99: true
        default: false
        }
    }

    /// The metric's value, or nil where it does not apply (no traffic, no known limit or timeout).
    public func value(_ f: EndpointFigures, now: Double) -> Double? {
        withUnsafePointer(to: f) { value(at: $0, now: now) }
    }

    /// The same, reading the figures in place (see `AlarmEngine.judge`).
    func value(at f: UnsafePointer<EndpointFigures>, now: Double) -> Double? {
        let n = Double(f.pointee.count)
        switch self {
        case .errorRate: return n > 0 ? min(100, Double(f.pointee.errors + f.pointee.timeouts) / n * 100) : nil
        case .timeouts: return Double(f.pointee.timeouts)
        case .oom: return Double(f.pointee.oom)
        case .durationVsTimeout: return f.pointee.timeoutMs != nil && f.pointee.count > 0 ? f.pointee.maxTimeoutRatio * 100 : nil
        case .coldRate: return n > 0 ? Double(f.pointee.cold) / n * 100 : nil
        case .throttleRate: return n > 0 ? min(100, Double(f.pointee.throttles) / n * 100) : nil
        case .concurrencyVsLimit: return f.pointee.concurrencyLimit.flatMap { $0 > 0 ? f.pointee.concurrencyPeak / $0 * 100 : nil }
        case .memoryUsed:
            guard let used = f.pointee.maxMemoryUsedMB, let size = f.pointee.memoryMB, size > 0 else { return nil }
            return used / size * 100
        case .p50: return f.pointee.p50
        case .p95: return f.pointee.p95
        case .p99: return f.pointee.p99
        case .rps: return f.pointee.rps
        case .costPerHour: return f.pointee.costPerHour
        case .silent:
            // Only endpoints that had traffic in the last hour can go silent.
            guard f.pointee.totalCount > 0, now - f.pointee.lastSeen < 3600 else { return nil }
            return max(0, now - f.pointee.lastSeen)
        }
    }
}

public enum AlarmComparison: String, CaseIterable, Sendable {
    case greater = ">", greaterOrEqual = ">=", less = "<", lessOrEqual = "<="

    func holds(_ v: Double, _ t: Double) -> Bool {
        switch self {
        case .greater: v > t
        case .greaterOrEqual: v >= t
        case .less: v < t
        case .lessOrEqual: v <= t
        }
    }
}

public enum AlarmSeverity: String, CaseIterable, Sendable, Comparable {
    case warning, critical
    public static func < (a: Self, b: Self) -> Bool { a == .warning && b == .critical }
}

public enum AlarmScope: Sendable, Equatable, CustomStringConvertible {
    case all
    case kind(EndpointKind)
    /// Glob on the endpoint name.
    case pattern(String)
    /// Everything together (a total cost budget), shown as the endpoint "all endpoints".
    case total

    public static let totalName = "all endpoints"

    func applies(to f: UnsafePointer<EndpointFigures>, isTotal: Bool) -> Bool {
        switch self {
        case .all: !isTotal
        case .kind(let k): !isTotal && f.pointee.kind == k
        case .pattern(let p): !isTotal && Glob.matches(p, f.pointee.name)
        case .total: isTotal
        }
    }

    public var description: String {
        switch self {
        case .all: "all"
        case .kind(let k): k == .route ? "routes" : "functions"
        case .pattern(let p): p
        case .total: "total"
        }
    }
}

public struct AlarmRule: Sendable, Equatable {
    public var name: String
    public var metric: AlarmMetric
    public var comparison: AlarmComparison
    /// nil: the endpoint's own budget (latency budget for p50/p95/p99, cost budget for cost_per_hour).
    public var threshold: Double?
    public var window: Window
    /// How long the condition must hold before the alarm fires (pending until then).
    public var forSeconds: Double
    public var scope: AlarmScope
    public var severity: AlarmSeverity
    /// Rates are not judged on fewer invocations than this in the window.
    public var minEvents: Int

    public init(name: String, metric: AlarmMetric, _ comparison: AlarmComparison = .greater, _ threshold: Double?,
                window: Window = .oneMinute, for forSeconds: Double = 0, scope: AlarmScope = .all,
                severity: AlarmSeverity = .warning, minEvents: Int = 10) {
        self.name = name
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.window = window
        self.forSeconds = forSeconds
        self.scope = scope
        self.severity = severity
        self.minEvents = minEvents
    }

    func threshold(for f: UnsafePointer<EndpointFigures>) -> Double? {
        if let threshold { return threshold }
        switch metric {
        case .p50, .p95, .p99: return f.pointee.latencyBudgetMs
        case .costPerHour: return f.pointee.costBudgetPerHour
        default: return nil
        }
    }

    /// Industry defaults (Datadog's serverless warnings and monitors, the Serverless Framework's alerts).
    public static let defaults: [AlarmRule] = [
        AlarmRule(name: "error rate", metric: .errorRate, .greater, 1, for: 30, severity: .warning),
        AlarmRule(name: "error rate high", metric: .errorRate, .greater, 10, for: 30, severity: .critical),
        AlarmRule(name: "timeouts", metric: .timeouts, .greater, 0, severity: .critical, minEvents: 0),
        AlarmRule(name: "out of memory", metric: .oom, .greater, 0, scope: .kind(.function), severity: .critical, minEvents: 0),
        AlarmRule(name: "near timeout", metric: .durationVsTimeout, .greater, 90, scope: .kind(.function), minEvents: 0),
        AlarmRule(name: "cold starts", metric: .coldRate, .greater, 1, for: 60, scope: .kind(.function), severity: .warning, minEvents: 20),
        AlarmRule(name: "cold starts high", metric: .coldRate, .greaterOrEqual, 20, for: 30, scope: .kind(.function), severity: .critical, minEvents: 20),
        AlarmRule(name: "throttles", metric: .throttleRate, .greater, 10, for: 30),
        AlarmRule(name: "concurrency near limit", metric: .concurrencyVsLimit, .greater, 80, minEvents: 0),
        AlarmRule(name: "memory near size", metric: .memoryUsed, .greater, 95, scope: .kind(.function), minEvents: 0),
        AlarmRule(name: "p99 over budget", metric: .p99, .greater, nil, for: 60),
        AlarmRule(name: "cost over budget", metric: .costPerHour, .greater, nil, for: 60, minEvents: 0),
        AlarmRule(name: "silent", metric: .silent, .greater, 60, minEvents: 0),
    ]
}

public enum AlarmPhase: String, Sendable, Equatable {
    case pending, firing, resolved
}

/// An alarm that is pending or firing for one endpoint.
public struct ActiveAlarm: Sendable, Equatable {
    public var rule: String
    public var endpoint: String
    public var metric: AlarmMetric
    public var severity: AlarmSeverity
    public var phase: AlarmPhase
    /// When the condition was first seen (pending) and when it fired.
    public var since: Double
    public var firedAt: Double?
    public var value: Double
    public var threshold: Double
    public var comparison: AlarmComparison
    public var acknowledged: Bool
    /// Its rule is muted (`m`): still judged and logged, but no badge, bell or colour.
    public var muted = false
}

/// A state change, for the history list and the alarm log.
public struct AlarmTransition: Sendable, Equatable {
    public var time: Double
    public var rule: String
    public var endpoint: String
    public var severity: AlarmSeverity
    public var phase: AlarmPhase
    public var metric: AlarmMetric
    public var value: Double
    public var threshold: Double
    public var comparison: AlarmComparison

    public init(time: Double, rule: String, endpoint: String, severity: AlarmSeverity, phase: AlarmPhase, metric: AlarmMetric,
                value: Double, threshold: Double, comparison: AlarmComparison) {
        self.time = time
        self.rule = rule
        self.endpoint = endpoint
        self.severity = severity
        self.phase = phase
        self.metric = metric
        self.value = value
        self.threshold = threshold
        self.comparison = comparison
    }
}

/// Which firing alarms `a` marks as seen.
public enum AlarmAcknowledgement: Sendable, Equatable {
    case all
    /// One rule's alarm on one endpoint (by the names the snapshot shows).
    case one(rule: String, endpoint: String)
    /// Mutes a rule (or unmutes a muted one) on every endpoint: judged and logged, not signalled.
    case toggleMute(rule: String)
}

public struct AlarmSnapshot: Sendable, Equatable {
    /// Firing first (critical, then warning, oldest first), then pending.
    public var active: [ActiveAlarm] = []
    /// Newest first.
    public var history: [AlarmTransition] = []
    /// Rules muted with `m`.
    public var mutedRules: [String] = []
    public var firing: Int { active.filter { $0.phase == .firing && !$0.muted }.count }
    public var unacknowledged: Int { active.filter { $0.phase == .firing && !$0.acknowledged && !$0.muted }.count }
    public var worst: AlarmSeverity? { active.filter { $0.phase == .firing && !$0.muted }.map(\.severity).max() }
    public init() {}

    /// The firing alarm on this endpoint's metric, if any (to colour the cell that shows it).
    public func firing(_ endpoint: String, _ metrics: Set<AlarmMetric>) -> AlarmSeverity? {
        active.filter { $0.phase == .firing && !$0.muted && $0.endpoint == endpoint && metrics.contains($0.metric) }.map(\.severity).max()
    }
}

/// Evaluates rules once per second of event time: ok → pending → firing → resolved. Driven by the
/// same clock as the aggregator it reads, so live and replay (at any speed, after any seek) agree.
/// One engine judges one aggregator for its life (alarms are keyed by that aggregator's endpoint
/// ids); a replay that seeks back builds both afresh.
public final class AlarmEngine {
    public let rules: [AlarmRule]
    /// A rule and an endpoint by the aggregator's id (its index in the figures; `totalEndpoint`
    /// for `.total` rules): judging every rule for every endpoint each second hashed their names.
    private struct Key: Hashable {
        var rule: Int32
        var endpoint: Int32
    }

    private static let totalEndpoint: Int32 = -1
    private var mutedRules: Set<String> = []
    private var active: [Key: ActiveAlarm] = [:]
    /// Whether `active` holds the key, by endpoint then rule: most rules hold for no endpoint,
    /// and this answers without hashing.
    private var isActive: [Bool] = []
    private var history: [AlarmTransition] = []
    private let historyCapacity = 200
    private var lastSecond: Int64?
    /// Called on every transition (the alarm log).
    public var onTransition: ((AlarmTransition) -> Void)?

    public init(rules: [AlarmRule]) { self.rules = rules }

    /// Evaluates every whole second in (last evaluation, t]. A gap longer than a minute (a clock jump)
    /// is not replayed second by second: only its last second is evaluated.
    public func evaluate(_ aggregator: Aggregator, upTo t: Double) {
        guard !rules.isEmpty else { return }
        let s = wholeSecond(t)
        guard var next = lastSecond.map({ $0 + 1 }) else {
            lastSecond = s
            return
        }
        guard s >= next else { return }
        if s - next > 60 { next = s }
        for sec in next...s { evaluate(aggregator, at: Double(sec)) }
        lastSecond = s
    }

    private func evaluate(_ aggregator: Aggregator, at now: Double) {
        var byWindow: [(window: Window, figures: [EndpointFigures])] = []
        // Percentile sketches are the expensive part: merge them only if a latency rule can fire
        // (a fixed threshold, or budgets configured for some endpoint).
        let budgets = aggregator.config.functions.contains { $0.latencyBudgetMs != nil }
        let needsLatency = rules.contains { $0.metric.isPercentile && ($0.threshold != nil || budgets) }
        let needsConcurrency = rules.contains { $0.metric == .concurrencyVsLimit }
        for (i, rule) in rules.enumerated() {
            let w: Int
            if let k = byWindow.firstIndex(where: { $0.window == rule.window }) {
                w = k
            } else {
                let figures = aggregator.alarmFigures(window: rule.window, now: now, latency: needsLatency, concurrency: needsConcurrency)
                byWindow.append((rule.window, figures))
                w = byWindow.count - 1
            }
            if rule.scope == .total {
                withUnsafePointer(to: Self.total(byWindow[w].figures, now: now)) {
                    judge(rule, Int32(i), $0, endpoint: Self.totalEndpoint, now: now)
                }
                continue
            }
            let figures = byWindow[w].figures
            if isActive.count < figures.count * rules.count {
                isActive += Array(repeating: false, count: figures.count * rules.count - isActive.count)
            }
            // By pointer: `figures[k]`, or `all[k]` of a buffer, as an argument copied the figures
            // (their strings and arrays), for every rule and endpoint each second.
            figures.withUnsafeBufferPointer { all in
                for k in all.indices where rule.scope.applies(to: all.baseAddress! + k, isTotal: false) {
                    judge(rule, Int32(i), all.baseAddress! + k, endpoint: Int32(k), now: now)
                }
            }
        }
    }

    /// One rule for one endpoint's figures this second.
    @inline(__always)
    private func judge(_ rule: AlarmRule, _ ruleIndex: Int32, _ f: UnsafePointer<EndpointFigures>, endpoint: Int32, now: Double) {
        var breached = false
        var value = 0.0
        var threshold = 0.0
        if let v = rule.metric.value(at: f, now: now), let t = rule.threshold(for: f),
           !rule.metric.isRate || f.pointee.count >= rule.minEvents {
            value = v
            threshold = t
            breached = rule.comparison.holds(v, t)
        }
        let flag = endpoint == Self.totalEndpoint ? nil : Int(endpoint) * rules.count + Int(ruleIndex)
        guard breached || flag.map({ isActive[$0] }) ?? true else { return }
        step(Key(rule: ruleIndex, endpoint: endpoint), rule, name: f.pointee.name, breached: breached, value: value, threshold: threshold, now: now)
        if let flag { isActive[flag] = active[Key(rule: ruleIndex, endpoint: endpoint)] != nil }
    }

    /// The sum of every endpoint, for `.total` rules.
    static func total(_ all: [EndpointFigures], now: Double) -> EndpointFigures {
        var t = EndpointFigures(
            name: AlarmScope.totalName, kind: .route, count: 0, rps: 0, ok: 0, errors: 0, timeouts: 0, throttles: 0, cold: 0,
            test: 0, concurrencyNow: 0, concurrencyPeak: 0, maxTimeoutRatio: 0, cost: 0, costRequests: 0, costCompute: 0,
            costPerHour: 0, fanOutCost: 0, rpsSeries: [], lastSeen: 0, totalCount: 0, totalCost: 0)
        // In place: iterating the array copied each endpoint's figures (their strings and arrays).
        all.withUnsafeBufferPointer { all in
            for i in all.indices {
                let f = all.baseAddress! + i
                t.count += f.pointee.count
                t.rps += f.pointee.rps
                t.ok += f.pointee.ok
                t.errors += f.pointee.errors
                t.timeouts += f.pointee.timeouts
                t.throttles += f.pointee.throttles
                t.cold += f.pointee.cold
                t.oom += f.pointee.oom
                t.cost += f.pointee.cost
                t.costPerHour += f.pointee.costPerHour
                t.totalCount += f.pointee.totalCount
                t.lastSeen = max(t.lastSeen, f.pointee.lastSeen)
            }
        }
        return t
    }

    private func step(_ key: Key, _ rule: AlarmRule, name: String, breached: Bool, value: Double, threshold: Double, now: Double) {
        if var a = active[key] {
            if breached {
                a.value = value
                if a.phase == .pending, now - a.since >= rule.forSeconds {
                    a.phase = .firing
                    a.firedAt = now
                    record(a, .firing, now)
                }
                active[key] = a
            } else {
                if a.phase == .firing { record(a, .resolved, now) }
                active[key] = nil
            }
        } else if breached {
            var a = ActiveAlarm(
                rule: rule.name, endpoint: name, metric: rule.metric, severity: rule.severity, phase: .pending,
                since: now, firedAt: nil, value: value, threshold: threshold, comparison: rule.comparison, acknowledged: false)
            if rule.forSeconds <= 0 {
                a.phase = .firing
                a.firedAt = now
                record(a, .firing, now)
            }
            active[key] = a
        }
    }

    private func record(_ a: ActiveAlarm, _ phase: AlarmPhase, _ now: Double) {
        let t = AlarmTransition(
            time: now, rule: a.rule, endpoint: a.endpoint, severity: a.severity, phase: phase, metric: a.metric,
            value: a.value, threshold: a.threshold, comparison: a.comparison)
        if history.count >= historyCapacity { history.removeFirst() }
        history.append(t)
        onTransition?(t)
    }

    /// Marks every firing alarm as seen: no more bell, shown dimmed; a new firing is unacknowledged again.
    public func acknowledgeAll() { acknowledge(.all) }

    /// Marks firing alarms as seen: all of them, or one rule's on one endpoint.
    public func acknowledge(_ which: AlarmAcknowledgement) {
        if case .toggleMute(let rule) = which {
            if mutedRules.remove(rule) == nil { mutedRules.insert(rule) }
            return
        }
        for k in active.keys where active[k]?.phase == .firing {
            switch which {
            case .toggleMute: return
            case .all: active[k]?.acknowledged = true
            case .one(let rule, let endpoint):
                if active[k]?.rule == rule, active[k]?.endpoint == endpoint { active[k]?.acknowledged = true }
            }
        }
    }

    public var snapshot: AlarmSnapshot {
        var s = AlarmSnapshot()
        s.active = active.values.sorted {
            let a = ($0.phase == .firing ? 0 : 1, $0.severity == .critical ? 0 : 1, $0.firedAt ?? $0.since, $0.endpoint, $0.rule)
            let b = ($1.phase == .firing ? 0 : 1, $1.severity == .critical ? 0 : 1, $1.firedAt ?? $1.since, $1.endpoint, $1.rule)
            return a < b
        }
        for i in s.active.indices where mutedRules.contains(s.active[i].rule) { s.active[i].muted = true }
        s.mutedRules = mutedRules.sorted()
        s.history = history.reversed()
        return s
    }
}

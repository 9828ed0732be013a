#if canImport(Glibc)
import Glibc
#endif
import BFFTopInvoke
import BFFTopStats
import BFFTopWire

/// Everything `config.toml` can set, validated. Command-line options win over it; it wins over
/// the built-in defaults. Errors name file:line:key and what was expected; unknown keys are warnings.
public struct Config: Sendable {
    public var file: String?
    public var socket: String?
    public var refresh: Double?
    public var window: Window?
    public var theme: String?
    /// Where `theme` is set (for the error when no such theme exists).
    public var themeLine = 0
    public var bell = false
    public var flash = false
    public var alarmLog: String?
    public var cost = CostModel.awsLambda
    public var functions: [FunctionSettings] = []
    public var alarms: [AlarmRule] = AlarmRule.defaults
    /// `[keys]`: action name → key names, checked against the keymap by the UI layer.
    public var keys: [KeyBinding] = []
    /// `[[target]]`: how to invoke endpoints from the dashboard and `bfftop invoke`.
    public var targets: [TargetSpec] = []
    public var invoke = InvokeSettings()
    /// `[dogstatsd]`: listeners and how metrics map to endpoints.
    public var dogstatsdSocket: String?
    public var dogstatsdStream: String?
    public var dogstatsdUDP: String?
    /// `[otlp] http`: where to receive OTLP/HTTP traces (HOST:PORT, loopback unless opted in, or unix:PATH).
    public var otlpHTTP: String?
    /// `prometheus`: where to serve `/metrics` (HOST:PORT, loopback unless opted in).
    public var prometheus: String?
    /// `[otlp] grpc`: where to receive OTLP/gRPC traces (HOST:PORT, loopback unless opted in, or unix:PATH).
    public var otlpGRPC: String?
    /// Listeners other machines can reach are allowed (`listen_beyond_loopback = true`).
    public var listenBeyondLoopback = false
    public var dogstatsdMapping = DogStatsDMapper()
    public var warnings: [ConfigError] = []

    public struct KeyBinding: Sendable, Equatable {
        public var action: String
        public var keys: [String]
        public var line: Int
    }

    public init() {}

    /// Named endpoints kept; events of further names go to the `(other routes)` / `(other functions)` rows.
    public var maxEndpoints = AggregatorConfig().maxEndpoints

    public var aggregatorConfig: AggregatorConfig {
        var c = AggregatorConfig()
        c.cost = cost
        c.functions = functions
        c.maxEndpoints = maxEndpoints
        return c
    }
}

/// All the errors in one file, so `bfftop config --check` reports them together.
public struct ConfigErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [ConfigError]
    public init(errors: [ConfigError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

public enum ConfigLoader {
    /// `--config PATH`, else `$XDG_CONFIG_HOME/bfftop/config.toml`, else `~/.config/bfftop/config.toml`.
    /// nil when no path was given and the default file does not exist (the defaults apply).
    public static func defaultPath(environment env: [String: String]) -> String {
        if let x = env["XDG_CONFIG_HOME"], !x.isEmpty { return x + "/bfftop/config.toml" }
        return (env["HOME"] ?? "") + "/.config/bfftop/config.toml"
    }

    /// The largest config file read (a config is a few KiB; this bounds a mistaken path).
    public static let maxFileBytes = 1 << 20

    /// The text of the config file at `path`, nil when there is none. Like ssh with its config, a
    /// file that someone else could have written is refused: it chooses where requests go (even
    /// without asking, `confirm = false`) and which files bfftop appends to. So it must be a regular
    /// file, owned by you (or root), not writable by group or others, and at most `maxFileBytes`.
    public static func readFile(_ path: String) -> Result<String?, ConfigError> {
        func refuse(_ why: String) -> Result<String?, ConfigError> {
            .failure(ConfigError(file: path, line: 0, key: nil, message: why))
        }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return errno == ENOENT ? .success(nil) : refuse("cannot read it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return refuse("cannot read it: \(String(cString: strerror(errno)))") }
        guard st.st_mode & S_IFMT == S_IFREG else { return refuse("not a regular file") }
        guard st.st_uid == geteuid() || st.st_uid == 0 else {
            return refuse("it belongs to uid \(st.st_uid), not to you (uid \(geteuid())); refusing a config someone else controls")
        }
        guard st.st_mode & 0o022 == 0 else {
            return refuse("others can write it (mode \(String(st.st_mode & 0o777, radix: 8))); refusing it, as ssh does: chmod go-w \(path)")
        }
        guard Int(st.st_size) <= maxFileBytes else { return refuse("\(st.st_size) bytes, over the \(maxFileBytes >> 20) MiB a config may have") }
        guard let bytes = readAtMost(fd, maxFileBytes) else { return refuse("grew past \(maxFileBytes >> 20) MiB while read") }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// All of an open file, or nil when it holds more than `limit` bytes (a file can grow after its
    /// size was checked): the one bounded read for the config and the files it names.
    static func readAtMost(_ fd: Int32, _ limit: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count <= limit {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 65536) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out.count <= limit ? out : nil
    }

    /// Seconds from "500ms", "30s", "2m", "1h" or a bare number of seconds; nil if it is none of these.
    /// The longest duration a setting takes: a year, in seconds.
    public static let maxDuration = 366.0 * 86400

    public static func duration(_ s: String) -> Double? {
        for (u, f) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where s.hasSuffix(u) {
            if let n = Double(s.dropLast(u.count)), n >= 0, n * f <= maxDuration { return n * f }
        }
        return Double(s).flatMap { $0 >= 0 && $0 <= maxDuration ? $0 : nil }
    }

    /// `checks` are what higher layers know (the keymap, the themes): their errors are reported
    /// with the file's own, in one round; they may add warnings to the config.
    public static func parse(_ text: String, file: String, checks: (inout Config) -> [ConfigError] = { _ in [] }) throws(ConfigErrors) -> Config {
        let root: TOMLTable
        do {
            root = try TOMLParser.parse(text, file: file)
        } catch {
            throw ConfigErrors(errors: [error])
        }
        var r = Reader(file: file)
        var c = Config()
        c.file = file
        r.read(root, into: &c)
        c.warnings = r.warnings
        let more = checks(&c)
        if !r.errors.isEmpty || !more.isEmpty { throw ConfigErrors(errors: (r.errors + more).sorted { $0.line < $1.line }) }
        return c
    }
}

/// Walks the parsed table; every accessor records a located error instead of throwing, so one pass
/// finds every problem.
struct Reader {
    let file: String
    var errors: [ConfigError] = []
    var warnings: [ConfigError] = []

    mutating func fail(_ e: TOMLTable.Entry, _ expected: String, section: String? = nil) {
        errors.append(ConfigError(file: file, line: e.line, key: (section.map { $0 + "." } ?? "") + e.key, message: expected))
    }

    mutating func unknown(_ e: TOMLTable.Entry, section: String?, known: [String]) {
        warnings.append(ConfigError(
            file: file, line: e.line, key: (section.map { $0 + "." } ?? "") + e.key,
            message: "unknown key, ignored (known here: \(known.joined(separator: ", ")))"))
    }

    mutating func string(_ e: TOMLTable.Entry, section: String? = nil) -> String? {
        if case .string(let s) = e.value { return s }
        fail(e, "expected a string in quotes, got \(e.value.typeName)", section: section)
        return nil
    }

    mutating func bool(_ e: TOMLTable.Entry, section: String? = nil) -> Bool? {
        if case .bool(let b) = e.value { return b }
        fail(e, "expected true or false, got \(e.value.typeName)", section: section)
        return nil
    }

    /// A number within `min … max` (every setting has a sane ceiling: nothing is configured in
    /// quantities that could overflow a count or a clock when converted).
    mutating func number(_ e: TOMLTable.Entry, section: String? = nil, min: Double = 0, max: Double = 1e12) -> Double? {
        guard let d = e.value.number else {
            fail(e, "expected a number, got \(e.value.typeName)", section: section)
            return nil
        }
        guard d >= min else {
            fail(e, "must be at least \(formatNumber(min)) (got \(formatNumber(d)))", section: section)
            return nil
        }
        guard d <= max else {
            fail(e, "must be at most \(formatNumber(max)) (got \(formatNumber(d)))", section: section)
            return nil
        }
        return d
    }

    /// A whole number within `min … max`.
    mutating func integer(_ e: TOMLTable.Entry, section: String? = nil, min: Int, max: Int) -> Int? {
        guard let d = number(e, section: section, min: Double(min), max: Double(max)) else { return nil }
        guard d == d.rounded() else {
            fail(e, "must be a whole number (got \(formatNumber(d)))", section: section)
            return nil
        }
        return Int(d)
    }

    /// Seconds: a number, or "500ms", "30s", "2m", "1h".
    mutating func duration(_ e: TOMLTable.Entry, section: String? = nil) -> Double? {
        if let d = e.value.number, d >= 0, d <= ConfigLoader.maxDuration { return d }
        if case .string(let s) = e.value, let d = ConfigLoader.duration(s) { return d }
        fail(e, "expected a duration like 500ms, 30s, 2m or 1h (or seconds as a number), at most a year", section: section)
        return nil
    }


    mutating func oneOf<T>(_ e: TOMLTable.Entry, _ options: [(String, T)], section: String? = nil) -> T? {
        guard let s = string(e, section: section) else { return nil }
        if let hit = options.first(where: { $0.0 == s }) { return hit.1 }
        fail(e, "expected one of \(options.map { "\"\($0.0)\"" }.joined(separator: ", ")), got \"\(s)\"", section: section)
        return nil
    }

    mutating func table(_ e: TOMLTable.Entry) -> TOMLTable? {
        if case .table(let t) = e.value { return t }
        fail(e, "expected a [\(e.key)] table, got \(e.value.typeName)")
        return nil
    }

    mutating func tables(_ e: TOMLTable.Entry) -> [TOMLTable] {
        if case .tables(let t) = e.value { return t }
        fail(e, "expected [[\(e.key)]] entries, got \(e.value.typeName)")
        return []
    }

    static let windows = Window.allCases.map { ($0.description, $0) }
    static let providers = Provider.allCases.map { ($0.rawValue, $0) }

    mutating func read(_ root: TOMLTable, into c: inout Config) {
        let known = ["socket", "refresh", "window", "theme", "max_endpoints", "listen_beyond_loopback", "alarms", "alarm", "cost", "prices", "function",
                     "keys", "target", "invoke", "dogstatsd", "otlp", "prometheus"]
        // Read first: the listeners it allows may come before it in the file.
        if let e = root.entries.first(where: { $0.key == "listen_beyond_loopback" }) { c.listenBeyondLoopback = bool(e) ?? false }
        for e in root.entries {
            switch e.key {
            case "listen_beyond_loopback": break
            case "socket": c.socket = string(e)
            case "refresh":
                if let d = duration(e) {
                    if (0.1...60).contains(d) { c.refresh = d } else { fail(e, "must be between 0.1 s and 60 s") }
                }
            case "window": c.window = oneOf(e, Self.windows)
            case "theme":
                c.theme = string(e)
                c.themeLine = e.line
            case "max_endpoints": c.maxEndpoints = integer(e, min: 1, max: 1_000_000) ?? c.maxEndpoints
            case "alarms": if let t = table(e) { readAlarmSettings(t, into: &c) }
            case "alarm": readAlarmRules(tables(e), into: &c)
            case "cost": if let t = table(e) { readCost(t, into: &c) }
            case "prices": if let t = table(e) { readPrices(t, into: &c) }
            case "function": c.functions = tables(e).compactMap { readFunction($0) }
            case "keys": if let t = table(e) { readKeys(t, into: &c) }
            case "target": c.targets = tables(e).compactMap { readTarget($0) }
            case "invoke": if let t = table(e) { readInvoke(t, into: &c) }
            case "dogstatsd": if let t = table(e) { readDogStatsD(t, into: &c) }
            case "otlp": if let t = table(e) { readOTLP(t, into: &c) }
            case "prometheus": readPrometheus(e, into: &c)
            default: unknown(e, section: nil, known: known)
            }
        }
    }

    mutating func readAlarmSettings(_ t: TOMLTable, into c: inout Config) {
        let s = "alarms"
        for e in t.entries {
            switch e.key {
            case "defaults": if bool(e, section: s) == false { c.alarms.removeAll { r in AlarmRule.defaults.contains(r) } }
            case "bell": c.bell = bool(e, section: s) ?? false
            case "flash": c.flash = bool(e, section: s) ?? false
            case "log": c.alarmLog = string(e, section: s)
            default: unknown(e, section: s, known: ["defaults", "bell", "flash", "log"])
            }
        }
    }

    mutating func readAlarmRules(_ list: [TOMLTable], into c: inout Config) {
        let s = "alarm"
        let keys = ["name", "metric", "op", "threshold", "window", "for", "applies_to", "severity", "min_events"]
        for t in list {
            var name: String?
            var metric: AlarmMetric?
            var op = AlarmComparison.greater
            var threshold: Double?
            var budget = false
            var window = Window.oneMinute
            var forSeconds = 0.0
            var scope = AlarmScope.all
            var severity = AlarmSeverity.warning
            var minEvents = 10
            for e in t.entries {
                switch e.key {
                case "name": name = string(e, section: s)
                case "metric": metric = oneOf(e, AlarmMetric.allCases.map { ($0.rawValue, $0) }, section: s)
                case "op": op = oneOf(e, AlarmComparison.allCases.map { ($0.rawValue, $0) }, section: s) ?? op
                case "threshold":
                    if case .string("budget") = e.value { budget = true } else { threshold = number(e, section: s, min: -.infinity) }
                case "window": window = oneOf(e, Self.windows, section: s) ?? window
                case "for": forSeconds = duration(e, section: s) ?? 0
                case "applies_to":
                    if let v = string(e, section: s) {
                        scope = v == "all" ? .all : v == "routes" ? .kind(.route) : v == "functions" ? .kind(.function) : v == "total" ? .total : .pattern(v)
                    }
                case "severity": severity = oneOf(e, AlarmSeverity.allCases.map { ($0.rawValue, $0) }, section: s) ?? severity
                case "min_events": minEvents = integer(e, section: s, min: 0, max: 1_000_000_000) ?? 10
                default: unknown(e, section: s, known: keys)
                }
            }
            guard let metric else {
                if t["metric"] != nil { continue }  // already reported as invalid
                errors.append(ConfigError(file: file, line: t.line, key: "alarm.metric", message: "missing; one of \(AlarmMetric.allCases.map(\.rawValue).joined(separator: ", "))"))
                continue
            }
            if threshold == nil, !budget {
                errors.append(ConfigError(file: file, line: t.line, key: "alarm.threshold", message: "missing; a number, or \"budget\" for p50/p95/p99/cost_per_hour"))
                continue
            }
            if budget, ![.p50, .p95, .p99, .costPerHour].contains(metric) {
                errors.append(ConfigError(file: file, line: t.line, key: "alarm.threshold", message: "\"budget\" only applies to p50, p95, p99 and cost_per_hour"))
                continue
            }
            c.alarms.append(AlarmRule(
                name: name ?? metric.rawValue, metric: metric, op, threshold, window: window, for: forSeconds, scope: scope,
                severity: severity, minEvents: minEvents))
        }
    }

    mutating func readCost(_ t: TOMLTable, into c: inout Config) {
        let s = "cost"
        for e in t.entries {
            switch e.key {
            case "provider": if let p = oneOf(e, Self.providers, section: s) { c.cost.provider = p }
            case "free_tier": c.cost.freeTier = bool(e, section: s) ?? false
            case "default_memory_mb": c.cost.defaultMemoryMB = number(e, section: s, min: 1) ?? c.cost.defaultMemoryMB
            case "budget_per_hour":
                if let b = number(e, section: s) {
                    c.alarms.append(AlarmRule(name: "total cost over budget", metric: .costPerHour, .greater, b, for: 60, scope: .total, minEvents: 0))
                }
            default: unknown(e, section: s, known: ["provider", "free_tier", "default_memory_mb", "budget_per_hour"])
            }
        }
    }

    mutating func readPrices(_ t: TOMLTable, into c: inout Config) {
        for e in t.entries {
            guard let provider = Provider(rawValue: e.key) else {
                fail(e, "unknown provider; one of \(Provider.allCases.map(\.rawValue).joined(separator: ", "))", section: "prices")
                continue
            }
            guard let sub = table(e) else { continue }
            var sheet = c.cost.sheet(provider)
            let s = "prices.\(e.key)"
            for p in sub.entries {
                guard let v = number(p, section: s) else { continue }
                switch p.key {
                case "per_request": sheet.perRequest = v
                case "per_gb_second":
                    sheet.perGBSecond = v
                    sheet.gbSecondTiers = []  // an override is a flat price
                case "per_vcpu_second": sheet.perVCPUSecond = v
                case "per_cu":
                    sheet.perCU = v
                    sheet.cuTiers = []
                case "provisioned_per_gb_second": sheet.provisionedPerGBSecond = v
                case "free_requests": sheet.freeRequests = v
                case "free_gb_seconds": sheet.freeGBSeconds = v
                default:
                    unknown(p, section: s, known: ["per_request", "per_gb_second", "per_vcpu_second", "per_cu", "provisioned_per_gb_second", "free_requests", "free_gb_seconds"])
                    continue
                }
                sheet.source = "config \(file):\(p.line)"
            }
            c.cost.sheets[provider] = sheet
        }
    }

    mutating func readFunction(_ t: TOMLTable) -> FunctionSettings? {
        let s = "function"
        guard let m = t["match"] else {
            errors.append(ConfigError(file: file, line: t.line, key: "function.match", message: "missing; a name or glob like \"resize-*\""))
            return nil
        }
        guard let pattern = string(m, section: s) else { return nil }
        var f = FunctionSettings(pattern: pattern)
        for e in t.entries {
            switch e.key {
            case "match": break
            case "provider": f.provider = oneOf(e, Self.providers, section: s)
            case "memory_mb": f.memoryMB = number(e, section: s, min: 1)
            case "arch": f.arch = oneOf(e, [("x86_64", Architecture.x86_64), ("arm64", .arm64)], section: s)
            case "timeout": f.timeoutMs = duration(e, section: s).map { $0 * 1000 }
            case "concurrency_limit": f.concurrencyLimit = number(e, section: s, min: 1)
            case "vcpu": f.vcpu = number(e, section: s)
            case "provisioned_concurrency": f.provisionedConcurrency = number(e, section: s)
            case "latency_budget": f.latencyBudgetMs = duration(e, section: s).map { $0 * 1000 }
            case "cost_budget_per_hour": f.costBudgetPerHour = number(e, section: s)
            default:
                unknown(e, section: s, known: ["match", "provider", "memory_mb", "arch", "timeout", "concurrency_limit", "vcpu",
                                               "provisioned_concurrency", "latency_budget", "cost_budget_per_hour"])
            }
        }
        return f
    }

    mutating func readKeys(_ t: TOMLTable, into c: inout Config) {
        for e in t.entries {
            switch e.value {
            case .string(let k): c.keys.append(.init(action: e.key, keys: [k], line: e.line))
            case .array(let items):
                let ks = items.compactMap { v -> String? in if case .string(let s) = v { return s }; return nil }
                if ks.count != items.count { fail(e, "expected key names in quotes", section: "keys") } else {
                    c.keys.append(.init(action: e.key, keys: ks, line: e.line))
                }
            default: fail(e, "expected a key name or a list of them, like \"q\" or [\"q\", \"ctrl-c\"]", section: "keys")
            }
        }
    }

    /// The most a `body_file` may hold: Lambda's synchronous payload limit (6 MB), well above any test body.
    static let maxBodyFileBytes = 6 << 20

    /// A `body_file`, relative to the config file: a regular file up to `maxBodyFileBytes` (not a FIFO
    /// that would block, not /dev/zero that would never end). The reason on failure.
    func readFile(_ path: String) -> Result<String, ConfigFileFailure> {
        let dir = file.contains("/") ? String(file[..<(file.lastIndex(of: "/") ?? file.endIndex)]) : "."
        let full = path.hasPrefix("/") ? path : dir + "/" + path
        let fd = open(full, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.init(reason: String(cString: strerror(errno)))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return .failure(.init(reason: "not a regular file")) }
        guard Int(st.st_size) <= Self.maxBodyFileBytes else {
            return .failure(.init(reason: "\(st.st_size) bytes, over the \(Self.maxBodyFileBytes >> 20) MiB a body may have"))
        }
        guard let bytes = ConfigLoader.readAtMost(fd, Self.maxBodyFileBytes) else {
            return .failure(.init(reason: "grew past \(Self.maxBodyFileBytes >> 20) MiB while read"))
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }
}

struct ConfigFileFailure: Error {
    var reason: String
}

/// `127.0.0.1:8125`.
public struct UDPAddress: Sendable, Equatable {
    public var host: String
    public var port: UInt16

    public init?(_ s: String) {
        guard let colon = s.lastIndex(of: ":"), let p = UInt16(s[s.index(after: colon)...]), p > 0 else { return nil }
        host = String(s[..<colon])
        port = p
        guard host.split(separator: ".").count == 4 else { return nil }
    }
}

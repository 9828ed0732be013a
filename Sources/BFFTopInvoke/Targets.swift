import BFFTopWire

/// Where a test invocation of an endpoint goes.
public enum InvokeTarget: Sendable, Equatable {
    /// A BFF route, a function URL, `sam local start-api`.
    case http(HTTPRequest)
    /// The Lambda Invoke API as served by the Runtime Interface Emulator, `sam local start-lambda`
    /// or LocalStack: `POST {base}/2015-03-31/functions/{function}/invocations`.
    case lambda(LambdaTarget)
    /// An emitter connected to the dashboard's socket that declared it can run the endpoint.
    case control

    public var summary: String {
        switch self {
        case .http(let r): "\(r.method.uppercased()) \(r.url)"
        case .lambda(let l): "λ \(l.function ?? "function") @ \(l.baseURL)"
        case .control: "its emitter (socket)"
        }
    }

    /// Why this request asks before it is sent, or nil: anything that changes state or leaves the
    /// machine asks. POST, PUT, PATCH and DELETE change things; a request to a host that is not this
    /// machine reaches someone else's service; a Lambda invoke runs the function (with its side
    /// effects) whatever the method. GETs to this machine and the emitters' own control channel go at once.
    public var confirmationReason: String? {
        switch self {
        case .http(let r):
            if !r.isIdempotent { return "\(r.method.uppercased()) changes things" }
            if !LocalHost.isLocal(url: r.url) { return "\(LocalHost.host(of: r.url) ?? "its host") is not this machine" }
            return nil
        case .lambda: return "a Lambda invoke runs the function"
        case .control: return nil
        }
    }
}

/// Which URLs stay on this machine.
public enum LocalHost {
    /// The host of `scheme://[user@]host[:port]/…`, without brackets (nil when there is none).
    public static func host(of url: String) -> String? {
        let scalars = Array(url.utf8)
        var start: Int?
        if scalars.count >= 3 {
            for i in 0...(scalars.count - 3) where scalars[i] == 0x3A && scalars[i + 1] == 0x2F && scalars[i + 2] == 0x2F {
                start = i + 3
                break
            }
        }
        guard let start else { return nil }
        var rest = Substring(String(decoding: scalars[start...], as: UTF8.self))
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            return String(rest[rest.index(after: rest.startIndex)..<close]).lowercased()
        }
        if let colon = rest.firstIndex(of: ":") { rest = rest[..<colon] }
        return rest.isEmpty ? nil : rest.lowercased()
    }

    /// localhost (and `*.localhost`, which resolvers send to loopback), 127.0.0.0/8 and ::1.
    public static func isLocal(url: String) -> Bool {
        guard let h = host(of: url) else { return false }
        return h == "localhost" || h.hasSuffix(".localhost") || NetworkExposure.isLoopback(h)
    }
}

public struct LambdaTarget: Sendable, Equatable {
    public var baseURL: String
    /// nil: the emulator's single function (`/functions/function/invocations`).
    public var function: String?
    public var payload: [UInt8]
    public var timeout: Double
    /// Ask for the log tail (`X-Amz-Log-Type: Tail`); the emulator ignores it, LocalStack and AWS honour it.
    public var logTail: Bool

    public init(baseURL: String, function: String? = nil, payload: [UInt8] = Array("{}".utf8), timeout: Double = 30, logTail: Bool = true) {
        self.baseURL = baseURL
        self.function = function
        self.payload = payload
        self.timeout = timeout
        self.logTail = logTail
    }

    public var request: HTTPRequest {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        var headers = ["Content-Type: application/json", "X-Amz-Invocation-Type: RequestResponse"]
        if logTail { headers.append("X-Amz-Log-Type: Tail") }
        return HTTPRequest(method: "POST", url: "\(base)/2015-03-31/functions/\(function ?? "function")/invocations",
                           headers: headers, body: payload, timeout: timeout)
    }
}

/// A `[[target]]` from the config: which endpoints it serves, how, its payload presets.
public struct TargetSpec: Sendable, Equatable {
    /// Glob on the endpoint name.
    public var match: String
    public var target: InvokeTarget
    /// Named bodies for `I` / `--payload NAME`.
    public var presets: [(name: String, body: String)]
    /// nil: ask before what changes state or leaves the machine, and before every burst/ramp
    /// (`confirmationReason`); false: never ask; true: always ask.
    public var confirm: Bool?
    /// Send the measured result to the dashboard as a test invocation (Lambda: its REPORT). HTTP
    /// targets default to false: an instrumented BFF reports the request itself.
    public var record: Bool

    public init(match: String, target: InvokeTarget, presets: [(name: String, body: String)] = [], confirm: Bool? = nil, record: Bool? = nil) {
        self.match = match
        self.target = target
        self.presets = presets
        self.confirm = confirm
        if let record { self.record = record } else if case .http = target { self.record = false } else { self.record = true }
    }

    /// Why sending `target` with `plan` asks first, or nil when it goes at once. `confirm = false` is the
    /// only way round it (and `--yes` on the command line); `confirm = true` asks for everything.
    public func confirmationReason(for target: InvokeTarget, plan: InvokePlan) -> String? {
        if confirm == false { return nil }
        if let r = target.confirmationReason { return r }
        if plan != .once { return "it adds load" }
        return confirm == true ? "the target says confirm = true" : nil
    }

    public static func == (a: TargetSpec, b: TargetSpec) -> Bool {
        a.match == b.match && a.target == b.target && a.presets.map(\.name) == b.presets.map(\.name)
            && a.presets.map(\.body) == b.presets.map(\.body) && a.confirm == b.confirm && a.record == b.record
    }

    /// The target with a preset's body in place of its own.
    public func target(preset: String?) -> InvokeTarget {
        guard let preset, let body = presets.first(where: { $0.name == preset })?.body else { return target }
        switch target {
        case .http(var r):
            r.body = Array(body.utf8)
            return .http(r)
        case .lambda(var l):
            l.payload = Array(body.utf8)
            return .lambda(l)
        case .control: return target
        }
    }
}

/// Limits and defaults for test traffic (`[invoke]` in the config).
public struct InvokeSettings: Sendable, Equatable {
    public var burst = 20
    /// Hard cap on a burst's size and on requests in flight at once.
    public var maxBurst = 200
    public var maxInFlight = 100
    public var rampRate = 5.0
    public var rampSeconds = 10.0
    /// Hard cap on a ramp's rate (per second) and length.
    public var maxRate = 100.0
    public var maxRampSeconds = 300.0
    /// Keep bfftop's own test traffic out of the endpoint figures (the invocations pane still lists it).
    public var hideTestTraffic = false
    public init() {}
}

public enum TargetResolver {
    /// The last matching spec wins (later, more specific entries override earlier ones).
    public static func spec(for endpoint: String, in specs: [TargetSpec]) -> TargetSpec? {
        specs.last { Glob.matches($0.match, endpoint) }
    }
}

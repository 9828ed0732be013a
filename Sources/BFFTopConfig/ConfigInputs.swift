#if canImport(Glibc)
import Glibc
#endif
import BFFTopInvoke
import BFFTopStats
import BFFTopWire

/// The config sections about inputs and test traffic: `[dogstatsd]`, `[invoke]`, `[[target]]`.
extension Reader {
    mutating func readOTLP(_ t: TOMLTable, into c: inout Config) {
        let s = "otlp"
        for e in t.entries {
            switch e.key {
            case "http", "grpc":
                guard let v = string(e, section: s) else { continue }
                guard let a = ListenAddress(v) else {
                    fail(e, "expected HOST:PORT on loopback, like \"127.0.0.1:\(e.key == "http" ? 4318 : 4317)\", or unix:PATH", section: s)
                    continue
                }
                if a.isLoopbackOrLocal || c.listenBeyondLoopback {
                    if e.key == "http" { c.otlpHTTP = v } else { c.otlpGRPC = v }
                } else {
                    fail(e, "\(a) is reachable from other machines; use a loopback address or unix:PATH, or set listen_beyond_loopback = true at the top of the file", section: s)
                }
            default: unknown(e, section: s, known: ["http", "grpc"])
            }
        }
    }

    mutating func readPrometheus(_ e: TOMLTable.Entry, into c: inout Config) {
        guard let v = string(e) else { return }
        guard case .tcp(let host, _)? = ListenAddress(v) else {
            fail(e, "expected HOST:PORT, like \"127.0.0.1:9464\" (Prometheus cannot scrape a Unix socket)")
            return
        }
        if NetworkExposure.isLoopback(host) || c.listenBeyondLoopback {
            c.prometheus = v
        } else {
            fail(e, "\(host) is reachable from other machines; use a loopback address like \"127.0.0.1:9464\", or set listen_beyond_loopback = true at the top of the file")
        }
    }

    mutating func readDogStatsD(_ t: TOMLTable, into c: inout Config) {
        let s = "dogstatsd"
        func list(_ e: TOMLTable.Entry) -> [String]? {
            if case .array(let items) = e.value {
                let strs = items.compactMap { v -> String? in if case .string(let x) = v { return x }; return nil }
                if strs.count == items.count { return strs }
            }
            fail(e, "expected a list of tag names, like [\"endpoint\", \"route\"]", section: s)
            return nil
        }
        for e in t.entries {
            switch e.key {
            case "socket": c.dogstatsdSocket = string(e, section: s)
            case "stream_socket": c.dogstatsdStream = string(e, section: s)
            case "udp":
                if let v = string(e, section: s) {
                    if let a = UDPAddress(v) {
                        if NetworkExposure.isLoopback(a.host) || c.listenBeyondLoopback {
                            c.dogstatsdUDP = v
                        } else {
                            fail(e, "\(a.host) is reachable from other machines; use a loopback address like \"127.0.0.1:8125\", or set listen_beyond_loopback = true at the top of the file", section: s)
                        }
                    } else {
                        fail(e, "expected HOST:PORT on loopback, like \"127.0.0.1:8125\"", section: s)
                    }
                }
            case "endpoint_tags": if let l = list(e) { c.dogstatsdMapping.endpointTags = l }
            case "function_tags": if let l = list(e) { c.dogstatsdMapping.functionTags = l }
            case "status_tags": if let l = list(e) { c.dogstatsdMapping.statusTags = l }
            case "cold_start_tags": if let l = list(e) { c.dogstatsdMapping.coldStartTags = l }
            case "prefix": c.dogstatsdMapping.prefix = string(e, section: s) ?? ""
            default: unknown(e, section: s, known: ["socket", "stream_socket", "udp", "endpoint_tags", "function_tags", "status_tags", "cold_start_tags", "prefix"])
            }
        }
    }

    mutating func readInvoke(_ t: TOMLTable, into c: inout Config) {
        let s = "invoke"
        for e in t.entries {
            switch e.key {
            // Requests in one burst or in flight are threads and sockets: tens of thousands at most.
            case "burst": c.invoke.burst = integer(e, section: s, min: 1, max: 100_000) ?? 20
            case "max_burst": c.invoke.maxBurst = integer(e, section: s, min: 1, max: 100_000) ?? 200
            case "max_in_flight": c.invoke.maxInFlight = integer(e, section: s, min: 1, max: 10_000) ?? 100
            case "ramp_rate": c.invoke.rampRate = number(e, section: s, max: 100_000) ?? c.invoke.rampRate
            case "ramp_for": c.invoke.rampSeconds = duration(e, section: s) ?? c.invoke.rampSeconds
            case "max_rate": c.invoke.maxRate = number(e, section: s, max: 100_000) ?? c.invoke.maxRate
            case "max_ramp": c.invoke.maxRampSeconds = duration(e, section: s) ?? c.invoke.maxRampSeconds
            case "hide_test_traffic": c.invoke.hideTestTraffic = bool(e, section: s) ?? false
            default: unknown(e, section: s, known: ["burst", "max_burst", "max_in_flight", "ramp_rate", "ramp_for", "max_rate", "max_ramp", "hide_test_traffic"])
            }
        }
        if c.invoke.burst > c.invoke.maxBurst, let e = t["burst"] { fail(e, "is over max_burst (\(c.invoke.maxBurst))", section: s) }
    }

    static let httpMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

    /// `http://host[:port][/…]` or `https://…`: what libcurl will be asked to fetch. No spaces,
    /// a host of letters, digits, dots, dashes or a bracketed IPv6 address, a port of 1…65535.
    static func isHTTPURL(_ u: String) -> Bool {
        let lower = u.lowercased()
        guard let rest = lower.hasPrefix("http://") ? lower.dropFirst(7) : lower.hasPrefix("https://") ? lower.dropFirst(8) : nil,
              !u.contains(where: { $0 == " " || $0.isNewline }) else { return false }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let hostPort = authority.split(separator: "@").last ?? authority
        var host = Substring(hostPort)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let after = host[host.index(after: close)...]
            guard after.isEmpty || (after.hasPrefix(":") && Int(after.dropFirst()).map { (1...65535).contains($0) } == true) else { return false }
            return close > host.index(after: host.startIndex)
        }
        if let colon = host.lastIndex(of: ":") {
            guard let port = Int(host[host.index(after: colon)...]), (1...65535).contains(port) else { return false }
            host = host[..<colon]
        }
        return !host.isEmpty && host.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" }
    }

    mutating func readTarget(_ t: TOMLTable) -> TargetSpec? {
        let s = "target"
        let keys = ["match", "type", "method", "url", "headers", "body", "body_file", "timeout", "endpoint", "function", "payload",
                    "payload_file", "log_tail", "confirm", "record", "payloads"]
        guard let m = t["match"], let match = string(m, section: s) else {
            if t["match"] == nil {
                errors.append(ConfigError(file: file, line: t.line, key: "target.match", message: "missing; the endpoint name or a glob"))
            }
            return nil
        }
        var type = "http"
        var method = "GET", url: String?, headers: [String] = [], body: String?, timeout = 10.0
        var base: String?, function: String?, logTail = true
        var confirm: Bool?, record: Bool?
        var presets: [(String, String)] = []
        for e in t.entries {
            switch e.key {
            case "match": break
            case "type": type = oneOf(e, [("http", "http"), ("lambda", "lambda"), ("emitter", "emitter")], section: s) ?? type
            case "method":
                method = (string(e, section: s) ?? method).uppercased()
                if !Self.httpMethods.contains(method) { fail(e, "unknown HTTP method \"\(method)\"; one of \(Self.httpMethods.joined(separator: ", "))", section: s) }
            case "url":
                url = string(e, section: s)
                if let u = url, !Self.isHTTPURL(u) { fail(e, "expected an http:// or https:// URL with a host, e.g. \"http://localhost:3000/api/slots\"", section: s) }
            case "endpoint":
                base = string(e, section: s)
                if let u = base, !Self.isHTTPURL(u) { fail(e, "expected an http:// or https:// URL with a host, e.g. \"http://localhost:9000\"", section: s) }
            case "function": function = string(e, section: s)
            case "headers":
                if case .array(let items) = e.value {
                    for item in items {
                        if case .string(let h) = item, h.contains(":") { headers.append(h) } else { fail(e, "expected \"Name: value\" strings", section: s) }
                    }
                } else { fail(e, "expected a list like [\"Authorization: Bearer …\"]", section: s) }
            case "body", "payload": body = string(e, section: s)
            case "body_file", "payload_file":
                if let path = string(e, section: s) {
                    switch readFile(path) {
                    case .success(let text): body = text
                    case .failure(let f): fail(e, "cannot read \(path): \(f.reason)", section: s)
                    }
                }
            case "timeout": timeout = duration(e, section: s) ?? timeout
            case "log_tail": logTail = bool(e, section: s) ?? true
            case "confirm": confirm = bool(e, section: s)
            case "record": record = bool(e, section: s)
            case "payloads":
                guard let p = table(e) else { continue }
                for pe in p.entries {
                    if let b = string(pe, section: "target.payloads") { presets.append((pe.key, b)) }
                }
            default: unknown(e, section: s, known: keys)
            }
        }
        let target: InvokeTarget
        switch type {
        case "lambda":
            guard let base else {
                errors.append(ConfigError(file: file, line: t.line, key: "target.endpoint", message: "missing; the Invoke API base URL, e.g. \"http://localhost:9000\" (RIE) or \"http://localhost:3001\" (sam local start-lambda)"))
                return nil
            }
            target = .lambda(LambdaTarget(baseURL: base, function: function, payload: Array((body ?? "{}").utf8), timeout: timeout, logTail: logTail))
        case "emitter":
            target = .control
        default:
            guard let url else {
                errors.append(ConfigError(file: file, line: t.line, key: "target.url", message: "missing; e.g. \"http://localhost:3000/api/slots\""))
                return nil
            }
            target = .http(HTTPRequest(method: method, url: url, headers: headers, body: body.map { Array($0.utf8) }, timeout: timeout))
        }
        return TargetSpec(match: match, target: target, presets: presets, confirm: confirm, record: record)
    }
}

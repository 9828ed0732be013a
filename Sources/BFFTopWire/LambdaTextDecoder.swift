/// CloudWatch plain-text platform lines from AWS Lambda, as exported or tailed by the usual tools.
///
/// `REPORT RequestId: … \tDuration: 128.83 ms\tBilled Duration: 200 ms\tMemory Size: 128 MB\t
/// Max Memory Used: 74 MB\tInit Duration: 166.62 ms\tStatus: timeout\tXRAY TraceId: …`
/// is parsed by `key: value` pairs (tab separated), never by position; unknown keys are ignored.
/// `Init Duration` or `Restore Duration` marks a cold start. Prefixes added by `aws logs tail`
/// (detailed and short) and `sam logs` are stripped, and their timestamp places the event in time.
public enum LambdaTextDecoder {
    public enum Line: Equatable, Sendable {
        /// A REPORT line, as an invocation (its time known from the prefix, else `ts` is 0).
        case report(Invocation, hasTime: Bool)
        /// START, END, INIT_START, … and application log lines: nothing to aggregate.
        case other
    }

    /// Out-of-memory signatures of the runtimes (Node, Java, Python, Lambda itself).
    public static let outOfMemoryMarkers = [
        "JavaScript heap out of memory", "java.lang.OutOfMemoryError", "MemoryError", "Runtime.OutOfMemory",
    ]

    public static func decode(_ raw: Substring, function: String) -> Line {
        let prefix = stripPrefix(raw)
        guard prefix.message.hasPrefix("REPORT ") else { return .other }
        let fields = keyValues(prefix.message.dropFirst(7))
        guard var inv = report(fields, function: function) else { return .other }
        if let time = prefix.time { inv.ts = time - inv.durationMs / 1000 }
        return .report(inv, hasTime: prefix.time != nil)
    }

    /// `key: value` pairs separated by tabs or newlines (serverless logs splits a REPORT over two lines).
    static func keyValues(_ text: Substring, into fields: inout [Substring: Substring]) {
        for part in text.split(whereSeparator: { $0 == "\t" || $0 == "\n" }) {
            guard let colon = part.firstIndex(of: ":") else { continue }
            fields[part[..<colon].trimmingSpaces] = part[part.index(after: colon)...].trimmingSpaces
        }
    }

    static func keyValues(_ text: Substring) -> [Substring: Substring] {
        var fields: [Substring: Substring] = [:]
        keyValues(text, into: &fields)
        return fields
    }

    /// The invocation a REPORT's fields describe (time 0: the caller places it), or nil without a Duration.
    static func report(_ fields: [Substring: Substring], function: String) -> Invocation? {
        guard let duration = number(fields["Duration"]) else { return nil }
        let initMs = number(fields["Init Duration"])
        let restoreMs = number(fields["Restore Duration"])
        let timeout = fields["Status"] == "timeout"
        let failed = fields["Status"].map { $0 == "error" || $0 == "failure" } ?? false
        var inv = Invocation(
            ts: 0, endpoint: function, kind: .function, durationMs: duration,
            billedMs: number(fields["Billed Duration"]).map { $0 + (number(fields["Billed Restore Duration"]) ?? 0) },
            memoryMB: number(fields["Memory Size"]), maxMemoryMB: number(fields["Max Memory Used"]),
            coldStart: initMs != nil || restoreMs != nil, initMs: initMs ?? restoreMs,
            outcome: timeout ? .timeout : (failed ? .error : .ok),
            error: timeout ? "Status: timeout" : (failed ? fields["Error Type"].map(String.init) ?? "Status: \(fields["Status"] ?? "")" : nil),
            traceID: fields["XRAY TraceId"].map(String.init), id: fields["RequestId"].map(String.init))
        if let used = inv.maxMemoryMB, let size = inv.memoryMB, used >= size, inv.outcome == .ok {
            inv.outcome = .error
            inv.error = "Runtime.OutOfMemory (max memory used = memory size)"
        }
        return inv
    }

    /// What a log tool printed before the Lambda message.
    public struct Prefix: Equatable, Sendable {
        public var time: Double?
        public var stream: Substring?
        /// The function, from a `/aws/lambda/NAME` log group (`awslogs get`).
        public var function: Substring?
        public var message: Substring
    }

    /// Removes the prefixes that log tools print: `aws logs tail` (detailed: `ISO stream message`,
    /// short: `ISO message`), `sam logs` (`stream ISO message`), `awslogs get` (`group stream [ISO [ISO]]
    /// message`, padded with spaces) and the time `serverless logs` prints (`YYYY-MM-DD HH:mm:ss.SSS`).
    public static func stripPrefix(_ line: Substring) -> Prefix {
        var out = Prefix(message: line)
        var rest = line
        for _ in 0..<5 {
            guard let space = rest.firstIndex(of: " ") else { break }
            let token = rest[..<space]
            var after = rest[rest.index(after: space)...]
            if let t = parseISO8601(token) {
                if out.time == nil { out.time = t }  // awslogs --ingestion-time prints a second one
            } else if token.count == 10, let clock = after.split(separator: " ", maxSplits: 1).first,
                      let t = parseISO8601(Substring(String(token) + "T" + String(clock))) {
                out.time = t  // serverless logs: local time, read as UTC
                after = after.dropFirst(clock.count)
            } else if isLogStream(token) {
                out.stream = token
            } else if token.hasPrefix("/"), token.count > 1, out.stream == nil, out.time == nil {
                let name = token.split(separator: "/").last ?? token
                out.function = token.hasPrefix("/aws/lambda/") ? name : out.function
            } else {
                break
            }
            while after.first == " " { after = after.dropFirst() }
            rest = after
        }
        out.message = rest
        return out
    }

    /// `2023/07/05/[$LATEST]e6f4…` or `2023/07/05/[56]374c…`
    static func isLogStream(_ s: Substring) -> Bool {
        s.count > 12 && s.contains("/[") && s.contains("]") && s.first?.isNumber == true
    }

    static func number(_ s: Substring?) -> Double? {
        guard let s else { return nil }
        let digits = s.prefix { $0.isNumber || $0 == "." }
        return Double(digits)
    }

    /// `2023-04-05T02:44:42.023000+00:00`, `…Z`, `2023-07-05T10:16:34.686000` (UTC assumed), or
    /// `2023-04-05T02:44:42`. Unix seconds, or nil.
    public static func parseISO8601(_ s: Substring) -> Double? {
        let b = Array(s.utf8)
        guard b.count >= 19, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A else { return nil }
        func int(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard let y = int(0..<4), let mo = int(5..<7), let d = int(8..<10), let h = int(11..<13), let mi = int(14..<16),
              let se = int(17..<19), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61 else { return nil }
        var i = 19
        var frac = 0.0
        if i < b.count, b[i] == 0x2E {
            var scale = 0.1
            i += 1
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                frac += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
        }
        var offset = 0
        if i < b.count {
            if b[i] == 0x5A {
                i += 1
            } else if b[i] == 0x2B || b[i] == 0x2D, i + 6 <= b.count, let oh = int((i + 1)..<(i + 3)), let om = int((i + 4)..<(i + 6)) {
                offset = (b[i] == 0x2D ? -1 : 1) * (oh * 3600 + om * 60)
                i += 6
            }
        }
        guard i == b.count else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400 + h * 3600 + mi * 60 + se - offset) + frac
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}

/// A located problem in a TOML file: every message names the file, the line and the key.
public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int
    public var key: String?
    public var message: String

    public init(file: String, line: Int, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// `file:line: key: message`; a problem with the file as a whole (line 0) has no line.
    public var description: String { "\(file)\(line > 0 ? ":\(line)" : ""): " + (key.map { "\($0): " } ?? "") + message }
}

/// The subset of TOML bfftop's files use: `[table]`, `[a."b"]`, `[[array of tables]]`, `key = value`
/// with strings (basic and literal), integers, floats, booleans and one-line arrays. Every value
/// keeps its line so later validation can point at it.
public struct TOMLTable: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: TOMLValue
        public var line: Int
    }

    public var entries: [Entry] = []
    /// Line of the header that opened the table (0 for the root).
    public var line = 0

    public subscript(_ key: String) -> Entry? { entries.first { $0.key == key } }

    mutating func set(_ key: String, _ value: TOMLValue, line: Int, file: String) throws(ConfigError) {
        guard self[key] == nil else { throw ConfigError(file: file, line: line, key: key, message: "duplicate key") }
        entries.append(Entry(key: key, value: value, line: line))
    }
}

public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    case array([TOMLValue])
    case table(TOMLTable)
    case tables([TOMLTable])

    public var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a number"
        case .bool: "true or false"
        case .array: "an array"
        case .table: "a table"
        case .tables: "an array of tables"
        }
    }

    public var number: Double? {
        switch self {
        case .integer(let i): Double(i)
        case .float(let d): d
        default: nil
        }
    }
}

public enum TOMLParser {
    public static func parse(_ text: String, file: String) throws(ConfigError) -> TOMLTable {
        var root = TOMLTable()
        var path: [String] = []
        var isArray = false
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = i + 1
            var line = Substring(raw)
            if line.last == "\r" { line = line.dropLast() }
            line = stripComment(line).trimmed
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                isArray = line.hasPrefix("[[")
                let close = isArray ? "]]" : "]"
                guard line.hasSuffix(close), line.count > close.count * 2 else {
                    throw ConfigError(file: file, line: lineNo, message: "unterminated table header \(line)")
                }
                let inner = line.dropFirst(close.count).dropLast(close.count)
                path = try splitKey(inner, file: file, line: lineNo)
                try open(&root, path: path[...], array: isArray, line: lineNo, file: file)
                continue
            }
            guard let eq = firstUnquoted("=", in: line) else {
                throw ConfigError(file: file, line: lineNo, message: "expected key = value, got \(line)")
            }
            let keyPath = try splitKey(line[..<eq], file: file, line: lineNo)
            guard keyPath.count == 1, let key = keyPath.first else {
                throw ConfigError(file: file, line: lineNo, key: keyPath.joined(separator: "."), message: "dotted keys are not supported; use a [table]")
            }
            var rest = line[line.index(after: eq)...].trimmed
            let value = try parseValue(&rest, file: file, line: lineNo, key: key)
            guard rest.trimmed.isEmpty else {
                throw ConfigError(file: file, line: lineNo, key: key, message: "unexpected text after the value: \(rest.trimmed)")
            }
            try insert(&root, path: path[...], key: key, value: value, line: lineNo, file: file)
        }
        return root
    }

    private static func open(_ t: inout TOMLTable, path: ArraySlice<String>, array: Bool, line: Int, file: String) throws(ConfigError) {
        guard let head = path.first else { return }
        let rest = path.dropFirst()
        let idx = t.entries.firstIndex { $0.key == head }
        if rest.isEmpty {
            if array {
                if let idx {
                    guard case .tables(var list) = t.entries[idx].value else {
                        throw ConfigError(file: file, line: line, key: head, message: "already defined as \(t.entries[idx].value.typeName) on line \(t.entries[idx].line)")
                    }
                    var fresh = TOMLTable()
                    fresh.line = line
                    list.append(fresh)
                    t.entries[idx].value = .tables(list)
                } else {
                    var fresh = TOMLTable()
                    fresh.line = line
                    t.entries.append(.init(key: head, value: .tables([fresh]), line: line))
                }
            } else {
                if let idx {
                    throw ConfigError(file: file, line: line, key: head, message: "table defined twice (first on line \(t.entries[idx].line))")
                }
                var fresh = TOMLTable()
                fresh.line = line
                t.entries.append(.init(key: head, value: .table(fresh), line: line))
            }
            return
        }
        try descend(&t, head: head, line: line, file: file) { (sub: inout TOMLTable) throws(ConfigError) in
            try open(&sub, path: rest, array: array, line: line, file: file)
        }
    }

    private static func insert(_ t: inout TOMLTable, path: ArraySlice<String>, key: String, value: TOMLValue, line: Int, file: String) throws(ConfigError) {
        guard let head = path.first else {
            try t.set(key, value, line: line, file: file)
            return
        }
        let rest = path.dropFirst()
        try descend(&t, head: head, line: line, file: file) { (sub: inout TOMLTable) throws(ConfigError) in
            try insert(&sub, path: rest, key: key, value: value, line: line, file: file)
        }
    }

    /// Into table `head` (created if missing), or the last table of array `head`.
    private static func descend(_ t: inout TOMLTable, head: String, line: Int, file: String,
                                _ body: (inout TOMLTable) throws(ConfigError) -> Void) throws(ConfigError) {
        if let idx = t.entries.firstIndex(where: { $0.key == head }) {
            switch t.entries[idx].value {
            case .table(var sub):
                try body(&sub)
                t.entries[idx].value = .table(sub)
            case .tables(var list):
                guard var last = list.popLast() else { return }
                try body(&last)
                list.append(last)
                t.entries[idx].value = .tables(list)
            default:
                throw ConfigError(file: file, line: line, key: head, message: "is \(t.entries[idx].value.typeName) (line \(t.entries[idx].line)), not a table")
            }
        } else {
            var sub = TOMLTable()
            sub.line = line
            try body(&sub)
            t.entries.append(.init(key: head, value: .table(sub), line: line))
        }
    }

    static func splitKey(_ s: Substring, file: String, line: Int) throws(ConfigError) -> [String] {
        var parts: [String] = []
        var rest = s.trimmed
        while !rest.isEmpty {
            if rest.first == "\"" || rest.first == "'" {
                var r = rest
                guard case .string(let k) = try parseValue(&r, file: file, line: line, key: nil) else { break }
                parts.append(k)
                rest = r.trimmed
            } else {
                let end = rest.firstIndex(of: ".") ?? rest.endIndex
                let k = rest[..<end].trimmed
                guard !k.isEmpty, k.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw ConfigError(file: file, line: line, message: "bad key \"\(k)\" (letters, digits, _ and -, or quoted)")
                }
                parts.append(String(k))
                rest = rest[end...]
            }
            if rest.first == "." { rest = rest.dropFirst().trimmed } else if !rest.isEmpty {
                throw ConfigError(file: file, line: line, message: "bad key near \(rest)")
            }
        }
        guard !parts.isEmpty else { throw ConfigError(file: file, line: line, message: "empty key") }
        return parts
    }

    /// Arrays nest at most this deep (the parser recurses per level; 50,000 levels overflowed the stack).
    static let maxDepth = 32

    static func parseValue(_ s: inout Substring, file: String, line: Int, key: String?, depth: Int = 0) throws(ConfigError) -> TOMLValue {
        guard depth <= maxDepth else { throw ConfigError(file: file, line: line, key: key, message: "arrays nested more than \(maxDepth) deep") }
        s = s.trimmed
        guard let first = s.first else { throw ConfigError(file: file, line: line, key: key, message: "missing value") }
        switch first {
        case "\"":
            var out = ""
            var i = s.index(after: s.startIndex)
            while i < s.endIndex {
                let c = s[i]
                if c == "\"" {
                    s = s[s.index(after: i)...]
                    return .string(out)
                }
                if c == "\\" {
                    i = s.index(after: i)
                    guard i < s.endIndex else { break }
                    switch s[i] {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\\": out.append("\\")
                    case "\"": out.append("\"")
                    default: throw ConfigError(file: file, line: line, key: key, message: "unknown escape \\\(s[i])")
                    }
                } else {
                    out.append(c)
                }
                i = s.index(after: i)
            }
            throw ConfigError(file: file, line: line, key: key, message: "unterminated string")
        case "'":
            let body = s.dropFirst()
            guard let end = body.firstIndex(of: "'") else { throw ConfigError(file: file, line: line, key: key, message: "unterminated string") }
            s = body[body.index(after: end)...]
            return .string(String(body[..<end]))
        case "[":
            s = s.dropFirst().trimmed
            var items: [TOMLValue] = []
            while true {
                s = s.trimmed
                if s.first == "]" {
                    s = s.dropFirst()
                    return .array(items)
                }
                guard !s.isEmpty else { throw ConfigError(file: file, line: line, key: key, message: "unterminated array (arrays must fit on one line)") }
                items.append(try parseValue(&s, file: file, line: line, key: key, depth: depth + 1))
                s = s.trimmed
                if s.first == "," { s = s.dropFirst() } else if s.first != "]" {
                    throw ConfigError(file: file, line: line, key: key, message: "expected , or ] in array")
                }
            }
        default:
            let end = s.firstIndex { $0 == "," || $0 == "]" || $0 == " " || $0 == "\t" } ?? s.endIndex
            let token = String(s[..<end])
            s = s[end...]
            if token == "true" { return .bool(true) }
            if token == "false" { return .bool(false) }
            let digits = token.filter { $0 != "_" }
            if let i = Int(digits) { return .integer(i) }
            if let d = Double(digits), d.isFinite { return .float(d) }
            throw ConfigError(file: file, line: line, key: key, message: "not a value: \(token) (strings need quotes)")
        }
    }

    static func firstUnquoted(_ ch: Character, in s: Substring) -> Substring.Index? {
        var quote: Character?
        var escaped = false
        for i in s.indices {
            let c = s[i]
            if let q = quote {
                if escaped {
                    escaped = false
                } else if c == "\\", q == "\"" {
                    escaped = true
                } else if c == q {
                    quote = nil
                }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == ch {
                return i
            }
        }
        return nil
    }

    static func stripComment(_ s: Substring) -> Substring {
        firstUnquoted("#", in: s).map { s[..<$0] } ?? s
    }
}

extension Substring {
    var trimmed: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}

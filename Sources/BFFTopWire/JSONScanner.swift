#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON value as the scanner saw it: scalars are decoded lazily from the raw bytes so that
/// unknown fields cost only a skip.
public enum JSONToken: Equatable {
    /// A string's raw bytes (without quotes) and whether it contains backslash escapes.
    case string(start: Int, end: Int, escaped: Bool)
    case number(Double)
    case bool(Bool)
    case null
    case object(start: Int, end: Int)
    case array(start: Int, end: Int)

    public var typeName: String {
        switch self {
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .null: "null"
        case .object: "object"
        case .array: "array"
        }
    }
}

/// Why a line is not valid protocol JSON. `offset` is the byte position in the line.
public struct DecodeError: Error, Equatable, CustomStringConvertible, Sendable {
    public var reason: String
    public var offset: Int?

    public init(_ reason: String, at offset: Int? = nil) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(reason) (byte \(offset))" }
        return reason
    }
}

/// A minimal, allocation-free JSON scanner over one line's bytes.
/// It validates structure and string UTF-8 where values are materialised; nesting depth is capped.
public struct JSONScanner {
    public let bytes: UnsafeRawBufferPointer
    public var pos: Int = 0
    static let maxDepth = 64

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    @inline(always) var atEnd: Bool { pos >= bytes.count }
    @inline(always) func byte(_ i: Int) -> UInt8 { bytes[i] }

    @inline(always) public mutating func skipWhitespace() {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { pos += 1 } else { break }
        }
    }

    public mutating func expect(_ c: UInt8, _ what: @autoclosure () -> String) throws(DecodeError) {
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == c else {
            throw DecodeError("expected \(what())", at: pos)
        }
        pos += 1
    }

    /// Iterates the members of the object starting at `pos`, calling `body(keyStart, keyEnd, value)`.
    public mutating func forEachMember(
        _ body: (Int, Int, JSONToken) throws(DecodeError) -> Void
    ) throws(DecodeError) {
        try expect(UInt8(ascii: "{"), "'{' at the start of a JSON object")
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            return
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                throw DecodeError("expected a quoted field name", at: pos)
            }
            let key = try scanString()
            guard case .string(let ks, let ke, _) = key else { throw DecodeError("bad key", at: pos) }
            try expect(UInt8(ascii: ":"), "':' after a field name")
            let value = try scanValue(depth: 1)
            try body(ks, ke, value)
            skipWhitespace()
            guard pos < bytes.count else { throw DecodeError("unterminated object (line cut short?)", at: pos) }
            let c = bytes[pos]
            pos += 1
            if c == UInt8(ascii: ",") { continue }
            if c == UInt8(ascii: "}") { return }
            throw DecodeError("expected ',' or '}' in object", at: pos - 1)
        }
    }

    /// Verifies only whitespace follows.
    public mutating func expectEnd() throws(DecodeError) {
        skipWhitespace()
        if pos < bytes.count { throw DecodeError("unexpected data after the JSON value", at: pos) }
    }

    public mutating func scanValue(depth: Int) throws(DecodeError) -> JSONToken {
        skipWhitespace()
        guard pos < bytes.count else { throw DecodeError("expected a value (line cut short?)", at: pos) }
        let c = bytes[pos]
        switch c {
        case UInt8(ascii: "\""):
            return try scanString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let start = pos
            try skipContainer(depth: depth)
            return c == UInt8(ascii: "{") ? .object(start: start, end: pos) : .array(start: start, end: pos)
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try scanNumber())
        default:
            throw DecodeError("unexpected character '\(printable(c))'", at: pos)
        }
    }

    mutating func literal(_ word: StaticString) throws(DecodeError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count else { throw DecodeError("invalid literal", at: pos) }
        let p = word.utf8Start
        for i in 0..<n where bytes[pos + i] != p[i] {
            throw DecodeError("invalid literal", at: pos)
        }
        pos += n
    }

    /// Scans a string starting at the opening quote. Control characters are rejected as JSON requires.
    public mutating func scanString() throws(DecodeError) -> JSONToken {
        let open = pos
        pos += 1
        let start = pos
        var escaped = false
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                let end = pos
                pos += 1
                return .string(start: start, end: end, escaped: escaped)
            }
            if b == UInt8(ascii: "\\") {
                escaped = true
                pos += 2
                continue
            }
            if b < 0x20 { throw DecodeError("control character in string", at: pos) }
            pos += 1
        }
        throw DecodeError("unterminated string (line cut short?)", at: open)
    }

    mutating func skipContainer(depth: Int) throws(DecodeError) {
        guard depth < JSONScanner.maxDepth else { throw DecodeError("nesting deeper than \(JSONScanner.maxDepth)", at: pos) }
        let open = bytes[pos]
        let close: UInt8 = open == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
        pos += 1
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == close {
            pos += 1
            return
        }
        while true {
            if open == UInt8(ascii: "{") {
                skipWhitespace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                    throw DecodeError("expected a quoted field name", at: pos)
                }
                _ = try scanString()
                try expect(UInt8(ascii: ":"), "':' after a field name")
            }
            _ = try scanValue(depth: depth + 1)
            skipWhitespace()
            guard pos < bytes.count else { throw DecodeError("unterminated \(open == UInt8(ascii: "{") ? "object" : "array") (line cut short?)", at: pos) }
            let c = bytes[pos]
            pos += 1
            if c == UInt8(ascii: ",") { continue }
            if c == close { return }
            throw DecodeError("expected ',' or '\(printable(close))'", at: pos - 1)
        }
    }

    /// Parses a JSON number. Exact (correctly rounded) for the common case of ≤ 19 significant digits
    /// and small exponents; falls back to strtod otherwise.
    public mutating func scanNumber() throws(DecodeError) -> Double {
        let start = pos
        var negative = false
        if bytes[pos] == UInt8(ascii: "-") {
            negative = true
            pos += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var exp10 = 0
        var sawDigit = false
        var overflow = false
        while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 {
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(bytes[pos] - 0x30)
                if mantissa != 0 { digits += 1 }
            } else {
                exp10 += 1
                overflow = true
            }
            sawDigit = true
            pos += 1
        }
        guard sawDigit else { throw DecodeError("invalid number", at: start) }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            var fracDigit = false
            while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[pos] - 0x30)
                    if mantissa != 0 { digits += 1 }
                    exp10 -= 1
                } else {
                    overflow = true
                }
                fracDigit = true
                pos += 1
            }
            guard fracDigit else { throw DecodeError("invalid number", at: start) }
        }
        var hasExponent = false
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            hasExponent = true
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            var expDigit = false
            while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 {
                expDigit = true
                pos += 1
            }
            guard expDigit else { throw DecodeError("invalid number", at: start) }
        }
        if !overflow, !hasExponent, mantissa < (1 << 53), exp10 >= -22 {
            // Clinger's fast path: both operands exact, one correctly rounded operation.
            let m = Double(mantissa)
            let v = exp10 == 0 ? m : m / JSONScanner.powersOf10[-exp10]
            return negative ? -v : v
        }
        return slowNumber(start, pos)
    }

    static let powersOf10: [Double] = (0...22).map { p in
        var v = 1.0
        for _ in 0..<p { v *= 10 }
        return v
    }

    func slowNumber(_ start: Int, _ end: Int) -> Double {
        var buf = [CChar](repeating: 0, count: end - start + 1)
        for i in start..<end { buf[i - start] = CChar(bitPattern: bytes[i]) }
        return strtod(buf, nil)
    }

    /// Materialises a string token, unescaping and validating UTF-8.
    public func string(start: Int, end: Int, escaped: Bool) throws(DecodeError) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        if !escaped {
            var ascii = true
            for b in slice where b >= 0x80 {
                ascii = false
                break
            }
            if ascii { return String(decoding: slice, as: UTF8.self) }
            guard let s = String(validating: slice, as: UTF8.self) else {
                throw DecodeError("invalid UTF-8 in string", at: start)
            }
            return s
        }
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        while i < end {
            let b = bytes[i]
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < end else { throw DecodeError("bad escape", at: i) }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(at: i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 6 <= end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw DecodeError("unpaired surrogate in \\u escape", at: i)
                    }
                    let low = try hex4(at: i + 2)
                    guard (0xDC00...0xDFFF).contains(low) else { throw DecodeError("unpaired surrogate in \\u escape", at: i) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                guard let u = Unicode.Scalar(scalar) else { throw DecodeError("invalid \\u escape", at: i) }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw DecodeError("bad escape '\\\(printable(e))'", at: i - 2)
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw DecodeError("invalid UTF-8 in string", at: start)
        }
        return s
    }

    func hex4(at i: Int) throws(DecodeError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw DecodeError("short \\u escape", at: i) }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = bytes[i + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw DecodeError("bad hex digit in \\u escape", at: i + k)
            }
            v = v << 4 | d
        }
        return v
    }

    /// Compares the raw bytes [start, end) with a static key.
    @inline(always) public func equals(_ start: Int, _ end: Int, _ key: StaticString) -> Bool {
        let n = key.utf8CodeUnitCount
        guard end - start == n, let base = bytes.baseAddress else { return false }
        return memcmp(base + start, key.utf8Start, n) == 0
    }
}

@inline(always) func printable(_ b: UInt8) -> String {
    (0x20..<0x7F).contains(b) ? String(UnicodeScalar(b)) : "0x" + String(b, radix: 16)
}

extension JSONScanner {
    /// Calls `body` with the byte range (in `bytes`) of each element of the array spanning [a, b).
    public static func forEachElement(_ bytes: UnsafeRawBufferPointer, _ a: Int, _ b: Int,
                                      _ body: (Int, Int) throws(DecodeError) -> Void) throws(DecodeError) {
        var s = JSONScanner(UnsafeRawBufferPointer(rebasing: bytes[a..<b]))
        s.pos = 1
        while true {
            s.skipWhitespace()
            guard s.pos < b - a, s.bytes[s.pos] != UInt8(ascii: "]") else { return }
            let start = s.pos
            _ = try s.scanValue(depth: 1)
            try body(a + start, a + s.pos)
            s.skipWhitespace()
            if s.pos < b - a, s.bytes[s.pos] == UInt8(ascii: ",") { s.pos += 1 }
        }
    }
}

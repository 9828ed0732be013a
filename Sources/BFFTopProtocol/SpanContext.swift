/// Where an invocation sits in a distributed trace: the trace, its own span, and the span of the
/// nearest endpoint above it (a function's route, a GraphQL operation's route). bfftop keeps a few
/// traces per endpoint (the slowest and the most recent) to draw as request waterfalls.
///
/// Ids are kept as integers (W3C/OpenTelemetry ids are 16 and 8 bytes): 32 and 16 hex digits are
/// read as the numbers they spell, so an id reads back as it was sent; any other text (an X-Ray
/// trace id, a request id) is hashed to a number instead, stable for the same text.
public struct SpanContext: Sendable, Hashable {
    public var trace: TraceKey
    /// Never 0.
    public var span: UInt64
    /// The span of the endpoint above this one in the trace; 0 when none is known (a root).
    public var parent: UInt64

    public init(trace: TraceKey, span: UInt64, parent: UInt64 = 0) {
        self.trace = trace
        self.span = span
        self.parent = parent
    }

    /// From the native protocol's `trace_id`, `span_id` and `parent_span_id`; nil when the span id
    /// or the trace id is empty.
    public init?(traceID: String, spanID: String, parentSpanID: String?) {
        guard let trace = TraceKey(traceID), let span = SpanIDText.id(spanID) else { return nil }
        self.trace = trace
        self.span = span
        parent = parentSpanID.flatMap(SpanIDText.id) ?? 0
    }

    /// 16 lowercase hex digits.
    public var spanHex: String { SpanIDText.hex(span) }
    public var parentHex: String? { parent == 0 ? nil : SpanIDText.hex(parent) }
}

/// A trace id as two 64-bit halves (big-endian, as its hex reads). Never all zero.
public struct TraceKey: Sendable, Hashable, Comparable {
    public var high: UInt64
    public var low: UInt64

    public init?(high: UInt64, low: UInt64) {
        guard high != 0 || low != 0 else { return nil }
        self.high = high
        self.low = low
    }

    /// 32 hex digits as their value; other non-empty text hashed.
    public init?(_ text: String) {
        let u = text.utf8
        guard !u.isEmpty else { return nil }
        if u.count == 32, let h = SpanIDText.parseHex(u.prefix(16)), let l = SpanIDText.parseHex(u.suffix(16)), h != 0 || l != 0 {
            (high, low) = (h, l)
        } else {
            (high, low) = (SpanIDText.hash(u, seed: 0xcbf2_9ce4_8422_2325), SpanIDText.hash(u, seed: 0x8422_2325_cbf2_9ce4) | 1)
        }
    }

    /// 32 lowercase hex digits.
    public var hex: String { SpanIDText.hex(high) + SpanIDText.hex(low) }

    public static func < (a: Self, b: Self) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

/// Span ids as text: hex both ways, and a hash for text that is not hex.
public enum SpanIDText {
    /// Up to 16 hex digits as their value (not 0); other non-empty text hashed (never 0).
    public static func id(_ text: String) -> UInt64? {
        let u = text.utf8
        guard !u.isEmpty else { return nil }
        if u.count <= 16, let v = parseHex(u[...]), v != 0 { return v }
        return hash(u, seed: 0xcbf2_9ce4_8422_2325) | 1
    }

    /// Up to 16 hex digits as a number; nil for anything else (also OTLP JSON's ids).
    package static func parseHex(_ s: Substring.UTF8View) -> UInt64? {
        guard !s.isEmpty, s.count <= 16 else { return nil }
        var v: UInt64 = 0
        for c in s {
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            v = v << 4 | UInt64(d)
        }
        return v
    }

    /// FNV-1a, 64-bit.
    static func hash(_ u: String.UTF8View, seed: UInt64) -> UInt64 {
        var h = seed
        for b in u {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01B3
        }
        return h
    }

    /// 16 lowercase hex digits.
    public static func hex(_ v: UInt64) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 16) { out in
            for i in 0..<16 { out[i] = digits[Int((v >> UInt64(60 - 4 * i)) & 15)] }
            return 16
        }
    }
}

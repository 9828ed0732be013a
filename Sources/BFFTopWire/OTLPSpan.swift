#if canImport(Glibc)
import Glibc
#endif

/// One export of spans as bfftop reads it, whichever encoding it came in (OTLP protobuf or JSON):
/// only what the mapping to invocations needs. The decoders keep the attributes bfftop knows
/// (`OTLPKey`) and skip the rest without building strings for them.
public struct OTLPExport: Sendable {
    public var resources: [OTLPResourceSpans] = []
    public init() {}
    public var spanCount: Int { resources.reduce(0) { $0 + $1.spans.count } }
}

public struct OTLPResourceSpans: Sendable {
    public var resource = OTLPAttributes()
    public var spans: [OTLPSpan] = []
    public init() {}
}

public struct OTLPSpan: Sendable {
    /// The trace id's two halves (big-endian, as its hex reads); zero when absent.
    public var traceHigh: UInt64 = 0
    public var traceLow: UInt64 = 0
    /// 32 lowercase hex digits, as OTLP JSON writes it; nil when absent or all zero. Made only
    /// when asked (failures show it): most spans never need the string.
    public var traceID: String? {
        guard traceHigh != 0 || traceLow != 0 else { return nil }
        return withUnsafeBytes(of: (traceHigh.bigEndian, traceLow.bigEndian)) { Hex.string($0) }
    }
    public var spanID: UInt64?
    public var parentID: UInt64?
    public var name = ""
    /// `Span.SpanKind`: 2 is SERVER, 3 CLIENT.
    public var kind = 0
    /// Unix nanoseconds; 0 when absent.
    public var startNs: UInt64 = 0
    public var endNs: UInt64 = 0
    /// `Status.StatusCode`: 2 is ERROR.
    public var statusCode = 0
    public var statusMessage: String?
    public var attributes = OTLPAttributes()
    public init() {}
    public var isServer: Bool { kind == 2 }
}

/// An attribute value of the kinds bfftop reads (arrays, maps and bytes are skipped).
public enum OTLPValue: Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
}

/// The attribute keys bfftop reads, from the OpenTelemetry semantic conventions (old HTTP names too).
public enum OTLPKey: Int, CaseIterable, Sendable {
    case httpRoute, httpRequestMethod, httpMethod, httpResponseStatusCode, httpStatusCode
    case graphqlOperationName, graphqlOperationType
    case faasName, faasColdstart, faasMaxMemory, faasInvocationID, faasInvokedName
    case serviceName, errorType

    public var name: String { staticName.description }

    /// The key these bytes spell, if bfftop reads it: by length first (only the two GraphQL keys
    /// share one), then one comparison of bytes; no strings are made.
    public static func match(_ bytes: UnsafeRawBufferPointer) -> OTLPKey? {
        let candidate: OTLPKey
        switch bytes.count {
        case 9: candidate = .faasName
        case 10: candidate = bytes[0] == UInt8(ascii: "h") ? .httpRoute : .errorType
        case 11: candidate = .httpMethod
        case 12: candidate = .serviceName
        case 14: candidate = .faasColdstart
        case 15: candidate = .faasMaxMemory
        case 16: candidate = .httpStatusCode
        case 17: candidate = .faasInvokedName
        case 18: candidate = .faasInvocationID
        case 19: candidate = .httpRequestMethod
        case 22: candidate = bytes[18] == UInt8(ascii: "n") ? .graphqlOperationName : .graphqlOperationType
        case 25: candidate = .httpResponseStatusCode
        default: return nil
        }
        let name = candidate.staticName
        guard let base = bytes.baseAddress, memcmp(base, name.utf8Start, bytes.count) == 0 else { return nil }
        return candidate
    }

    var staticName: StaticString {
        switch self {
        case .httpRoute: "http.route"
        case .httpRequestMethod: "http.request.method"
        case .httpMethod: "http.method"
        case .httpResponseStatusCode: "http.response.status_code"
        case .httpStatusCode: "http.status_code"
        case .graphqlOperationName: "graphql.operation.name"
        case .graphqlOperationType: "graphql.operation.type"
        case .faasName: "faas.name"
        case .faasColdstart: "faas.coldstart"
        case .faasMaxMemory: "faas.max_memory"
        case .faasInvocationID: "faas.invocation_id"
        case .faasInvokedName: "faas.invoked_name"
        case .serviceName: "service.name"
        case .errorType: "error.type"
        }
    }
}

/// The known attributes of a span or resource, one stored slot per key: no dictionary and no
/// array allocated per span.
public struct OTLPAttributes: Sendable {
    private var httpRoute, requestMethod, method, responseStatus, status, operationName, operationType: OTLPValue?
    private var faasName, coldstart, maxMemory, invocationID, invokedName, service, errorType: OTLPValue?
    public init() {}

    public subscript(key: OTLPKey) -> OTLPValue? {
        get {
            switch key {
            case .httpRoute: httpRoute
            case .httpRequestMethod: requestMethod
            case .httpMethod: method
            case .httpResponseStatusCode: responseStatus
            case .httpStatusCode: status
            case .graphqlOperationName: operationName
            case .graphqlOperationType: operationType
            case .faasName: faasName
            case .faasColdstart: coldstart
            case .faasMaxMemory: maxMemory
            case .faasInvocationID: invocationID
            case .faasInvokedName: invokedName
            case .serviceName: service
            case .errorType: errorType
            }
        }
        set {
            switch key {
            case .httpRoute: httpRoute = newValue
            case .httpRequestMethod: requestMethod = newValue
            case .httpMethod: method = newValue
            case .httpResponseStatusCode: responseStatus = newValue
            case .httpStatusCode: status = newValue
            case .graphqlOperationName: operationName = newValue
            case .graphqlOperationType: operationType = newValue
            case .faasName: faasName = newValue
            case .faasColdstart: coldstart = newValue
            case .faasMaxMemory: maxMemory = newValue
            case .faasInvocationID: invocationID = newValue
            case .faasInvokedName: invokedName = newValue
            case .serviceName: service = newValue
            case .errorType: errorType = newValue
            }
        }
    }

    /// Whether any attribute bfftop reads is present.
    public var isEmpty: Bool {
        httpRoute == nil && requestMethod == nil && method == nil && responseStatus == nil && status == nil && operationName == nil
            && operationType == nil && faasName == nil && coldstart == nil && maxMemory == nil && invocationID == nil && invokedName == nil
            && service == nil && errorType == nil
    }

    public func string(_ k: OTLPKey) -> String? {
        if case .string(let s)? = self[k] { return s }
        return nil
    }

    /// A whole number, whether the exporter wrote it as an integer, an integral double or a string.
    public func int(_ k: OTLPKey) -> Int? {
        switch self[k] {
        case .int(let i)?: return abs(i) < 1 << 53 ? Int(i) : nil
        case .double(let d)?: return d.isFinite && abs(d) < 9e15 && d == d.rounded() ? Int(d) : nil
        case .string(let s)?: return Int(s)
        default: return nil
        }
    }

    public func bool(_ k: OTLPKey) -> Bool? {
        switch self[k] {
        case .bool(let b)?: return b
        case .string(let s)?: return s == "true" ? true : s == "false" ? false : nil
        default: return nil
        }
    }

    /// `METHOD /route` from `http.route` and the request method (`http.request.method`, or the old `http.method`).
    public var route: String? {
        guard let r = string(.httpRoute), !r.isEmpty else { return nil }
        let m = string(.httpRequestMethod) ?? string(.httpMethod)
        return m.map { "\($0) \(r)" } ?? r
    }

    public var httpStatus: Int? {
        (int(.httpResponseStatusCode) ?? int(.httpStatusCode)).flatMap { (100...999).contains($0) ? $0 : nil }
    }
}

enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of `bytes`, or nil when they are all zero (OTLP's "no id").
    static func string(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.contains(where: { $0 != 0 }) else { return nil }
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, b) in bytes.enumerated() {
                out[2 * i] = digits[Int(b >> 4)]
                out[2 * i + 1] = digits[Int(b & 15)]
            }
            return bytes.count * 2
        }
    }

    /// Up to 16 hex digits as a number; nil for anything else.
    static func parse(_ s: Substring.UTF8View) -> UInt64? { SpanIDText.parseHex(s) }

    /// A span id: up to 16 hex digits, not zero (OTLP's "no id").
    static func uint64(_ s: Substring.UTF8View) -> UInt64? { parse(s).flatMap { $0 == 0 ? nil : $0 } }

    /// A trace id as OTLP JSON writes it (32 hex digits) as its two halves; (0, 0) for anything else.
    static func traceID(_ s: String) -> (UInt64, UInt64) {
        guard s.utf8.count == 32, let hi = parse(s.prefix(16).utf8), let lo = parse(s.suffix(16).utf8) else { return (0, 0) }
        return (hi, lo)
    }
}

import BFFTopWire
import CCurl

/// Why a test invocation did not get a response, in words a person can act on.
public enum InvokeFailure: Error, Equatable, Sendable, CustomStringConvertible {
    case dns(host: String)
    case refused(url: String)
    case timeout(seconds: Double)
    case tls(String)
    case badURL(String)
    case noTarget(endpoint: String)
    case noEmitter(endpoint: String)
    case other(String)

    public var description: String {
        switch self {
        case .dns(let h): "DNS lookup failed for \(h)"
        case .refused(let u): "connection refused: nothing listening at \(u)"
        case .timeout(let s): "timed out after \(s < 10 ? String(s) : String(Int(s))) s"
        case .tls(let m): "TLS failure: \(m)"
        case .badURL(let u): "not a valid URL: \(u)"
        case .noTarget(let e): "no invocation target for \(e) (add a [[target]] to the config, see `bfftop config --print-default`)"
        case .noEmitter(let e): "no connected emitter can run \(e) any more"
        case .other(let m): m
        }
    }
}

extension InvokeFailure {
    /// The control channel's failures, as invocation failures.
    public init(_ f: ControlFailure) {
        switch f {
        case .noEmitter(let e): self = .noEmitter(endpoint: e)
        case .timeout(let s): self = .timeout(seconds: s)
        case .disconnected, .noReply: self = .other(f.description)
        }
    }
}

public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    /// "Name: value" lines.
    public var headers: [String]
    public var body: [UInt8]?
    public var timeout: Double

    public init(method: String = "GET", url: String, headers: [String] = [], body: [UInt8]? = nil, timeout: Double = 10) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// POST, PUT, PATCH and DELETE change things: they ask before firing.
    public var isIdempotent: Bool { !["POST", "PUT", "PATCH", "DELETE"].contains(method.uppercased()) }
}

public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    /// The first 64 KiB of the body.
    public var body: [UInt8]
    /// Bytes received in the body in all.
    public var bytes: Int
    public var latencyMs: Double
    public var timeToFirstByteMs: Double

    public static func == (a: HTTPResponse, b: HTTPResponse) -> Bool {
        a.status == b.status && a.body == b.body && a.bytes == b.bytes && a.headers.map(\.name) == b.headers.map(\.name)
    }

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.last { $0.name.lowercased() == n }?.value
    }
}

/// Blocking HTTP/1.1 and HTTPS through libcurl; one call per request, safe from any thread.
public enum HTTPClient {
    /// Loads libcurl once, from one thread (it is opened on first use, not linked).
    private static let initialised: Bool = bt_curl_available() != 0

    public static func perform(_ r: HTTPRequest) -> Result<HTTPResponse, InvokeFailure> {
        guard initialised else { return .failure(.other("libcurl is not installed (apt-get install libcurl4)")) }
        guard r.url.hasPrefix("http://") || r.url.hasPrefix("https://") else { return .failure(.badURL(r.url)) }
        var out = bt_buf(data: nil, len: 0, cap: 0, limit: 64 << 10, total: 0)
        var hdr = bt_buf(data: nil, len: 0, cap: 0, limit: 64 << 10, total: 0)
        defer {
            bt_buf_free(&out)
            bt_buf_free(&hdr)
        }
        var status = 0
        var ttfb = 0.0, total = 0.0
        var err = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let headers = r.headers.isEmpty ? nil : r.headers.joined(separator: "\n")
        let timeoutMs = Int(max(0.001, r.timeout) * 1000)
        let code: Int32 = err.withUnsafeMutableBufferPointer { e in
            // The body as C chars; libcurl copies nothing, so it must outlive the call (it does).
            let body = (r.body ?? []).map { CChar(bitPattern: $0) } + [0]
            return body.withUnsafeBufferPointer { b in
                bt_http_request(
                    r.method.uppercased(), r.url, headers, r.body == nil ? nil : b.baseAddress, body.count - 1, timeoutMs, min(timeoutMs, 5000),
                    &out, &hdr, &status, &ttfb, &total, e.baseAddress)
            }
        }
        let message = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch code {
        case CURLE_OK: break
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .failure(.dns(host: host(r.url)))
        case CURLE_COULDNT_CONNECT: return .failure(.refused(url: r.url))
        case CURLE_OPERATION_TIMEDOUT: return .failure(.timeout(seconds: r.timeout))
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE:
            return .failure(.tls(message.isEmpty ? "handshake failed" : message))
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .failure(.badURL(r.url))
        default: return .failure(.other(message.isEmpty ? "request failed (curl error \(code))" : message))
        }
        let bodyBytes = out.data.map { Array(UnsafeRawBufferPointer(start: $0, count: out.len)) } ?? []
        let headerText = hdr.data.map { String(cString: $0) } ?? ""
        return .success(HTTPResponse(
            status: status, headers: parseHeaders(headerText), body: bodyBytes, bytes: Int(out.total),
            latencyMs: total * 1000, timeToFirstByteMs: ttfb * 1000))
    }

    /// Header lines of the last response (redirects and 100-continue leave earlier blocks).
    static func parseHeaders(_ text: String) -> [(name: String, value: String)] {
        var out: [(String, String)] = []
        for line in text.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) {
            if line.hasPrefix("HTTP/") {
                out.removeAll()
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            out.append((String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " })))
        }
        return out
    }

    static func host(_ url: String) -> String {
        let rest = url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? Substring(url)
        return String(rest.split(separator: ":").first ?? rest)
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Which listen addresses stay on this machine. Anything else (0.0.0.0, a LAN address) needs the
/// explicit `--listen-beyond-loopback` opt-in: metrics name internal routes and functions, and
/// whoever can send to a listener can fill the dashboard.
public enum NetworkExposure {
    /// 127.0.0.0/8, ::1 and `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        var a = in_addr()
        guard inet_pton(AF_INET, host, &a) == 1 else { return false }
        return UInt32(bigEndian: a.s_addr) >> 24 == 127
    }
}

/// Where a receiver listens: `HOST:PORT` (an IPv4 address; loopback unless opted in) or
/// `unix:PATH` (a socket file private to its owner, like the main socket).
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    public init?(_ s: String) {
        if s.hasPrefix("unix:") {
            var path = String(s.dropFirst(5))
            // unix:///path, as the Collector writes it, is unix:/path.
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty, path.utf8.count <= 107, !path.utf8.contains(0) else { return nil }
            self = .unix(path: path)
            return
        }
        guard let colon = s.lastIndex(of: ":"), let p = UInt16(s[s.index(after: colon)...]), p > 0 else { return nil }
        let host = String(s[..<colon])
        var a = in_addr()
        guard host == "localhost" || inet_pton(AF_INET, host, &a) == 1 else { return nil }
        self = .tcp(host: host, port: Int(p))
    }

    public var isLoopbackOrLocal: Bool {
        switch self {
        case .tcp(let host, _): NetworkExposure.isLoopback(host)
        case .unix: true
        }
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): "\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }
}

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

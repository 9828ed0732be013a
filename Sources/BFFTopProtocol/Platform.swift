#if canImport(Glibc)
import CBFFTopSys
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small platform helpers that keep the binary off full Foundation (which brings ICU and about
/// 9 MB of resident memory): a detached named thread, fixed-point formatting, trimming, padding.

private final class ThreadStart {
    let name: String
    let body: @Sendable () -> Void
    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

/// Runs `body` on a new detached OS thread (for loops that block: the UI, the engine, the demo fleet).
public func startThread(name: String, stackSize: Int = 8 << 20, _ body: @escaping @Sendable () -> Void) {
    let box = Unmanaged.passRetained(ThreadStart(name: name, body: body)).toOpaque()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    pthread_attr_setstacksize(&attr, stackSize)
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    #if canImport(Glibc)
    var tid: pthread_t = 0
    #else
    var tid: pthread_t?
    #endif
    let rc = pthread_create(&tid, &attr, { arg in
        guard let arg else { return nil }
        let start = Unmanaged<ThreadStart>.fromOpaque(arg).takeRetainedValue()
        #if canImport(Glibc)
        bt_name_current_thread(start.name)  // shown by htop -H, top -H, perf
        #endif
        start.body()
        return nil
    }, box)
    precondition(rc == 0, "cannot start thread \(name): error \(rc)")
}

/// ⌊t⌋ as an index (the whole second a time falls in), without a libm call: it is on the
/// per-event path. Values beyond ±9e18 (which decoders refuse) clamp instead of trapping; NaN is 0.
@inline(always) public func wholeSecond(_ t: Double) -> Int64 {
    guard t > -9.0e18, t < 9.0e18 else { return t < 0 ? -9_000_000_000_000_000_000 : t > 0 ? 9_000_000_000_000_000_000 : 0 }
    let i = Int64(t)  // truncates toward zero
    return Double(i) > t ? i - 1 : i
}

/// ⌈x⌉, equal to `x.rounded(.up)` for every double (signed zeros included), without a libm call:
/// billing rounds every invocation's duration up, and `rounded(.up)` is a call to `ceil` on the
/// baseline x86-64 target.
@inline(always) public func roundedUp(_ x: Double) -> Double {
    guard abs(x) < 4.0e15 else { return x.rounded(.up) }  // whole already (and NaN)
    let t = Double(Int64(x))  // toward zero: ⌈x⌉ for negatives
    return t < x ? t + 1 : (t == 0 ? 0 * x : t)  // 0 * x: ⌈-0.5⌉ is -0
}

/// `v` rounded to `decimals` places (half away from zero), like printf's %.Nf.
public func formatFixed(_ v: Double, _ decimals: Int) -> String {
    guard v.isFinite else { return v.isNaN ? "nan" : (v < 0 ? "-inf" : "inf") }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    guard abs(v) * scale < 9e15 else {
        // Fewer decimals rather than none: 17000000000.5 with 6 would otherwise print as 17000000001.
        if decimals > 0 { return formatFixed(v, decimals - 1) }
        return abs(v) < 9e18 ? String(Int64(v.rounded())) : String(v)
    }
    let n = Int64((abs(v) * scale).rounded())
    let sign = v < 0 && n != 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(n) }
    let s = Int64(scale)
    var frac = String(n % s)
    if frac.count < decimals { frac = String(repeating: "0", count: decimals - frac.count) + frac }
    return sign + String(n / s) + "." + frac
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    public var trimmedWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }

    /// Padded with spaces (or cut) to exactly `width` terminal columns (wide characters take two;
    /// one that would straddle the edge is left out and its column padded).
    public func padded(to width: Int) -> String {
        let s = String(self)
        let c = s.displayWidth
        if c == width { return s }
        let cut = c > width ? DisplayWidth.prefix(s, width) : s
        return cut + String(repeating: " ", count: Swift.max(0, width - cut.displayWidth))
    }
}

/// The address of the Unix socket at `path`; nil when the path does not fit `sun_path`.
public func unixSocketAddress(_ path: String) -> sockaddr_un? {
    var addr = sockaddr_un()
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { return nil }
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        for (i, b) in bytes.enumerated() { raw[i] = b }
        raw[bytes.count] = 0
    }
    return addr
}

/// Connects a blocking, close-on-exec Unix stream socket to `path`; nil if that fails
/// (nothing listening, path too long, permissions).
public func connectUnixSocket(_ path: String) -> Int32? {
    guard var addr = unixSocketAddress(path) else {
        errno = ENAMETOOLONG
        return nil
    }
    #if canImport(Glibc)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    #else
    let fd = socket(AF_UNIX, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { return nil }
    let r = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard r == 0 else {
        let e = errno  // the caller reports why
        close(fd)
        errno = e
        return nil
    }
    return fd
}

/// Whether the other end of a connected stream socket has closed it, without waiting or consuming
/// anything: readable with nothing to peek (EOF), or hung up. A write into such a connection can still
/// succeed and vanish; emitters ask this before sending a batch.
public func peerHasClosed(_ fd: Int32) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    guard poll(&p, 1, 0) > 0 else { return false }
    if p.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return true }
    var byte: UInt8 = 0
    let n = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
}

/// Seconds on a clock that never jumps (for intervals, not timestamps).
@inline(always) public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Wall-clock seconds since the Unix epoch.
@inline(always) public func wallClock() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Whether `needle` occurs in `hay` (a cheap pre-check before parsing a line as some format).
public func bytesContain(_ hay: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
    let n = needle.utf8CodeUnitCount
    guard n > 0, hay.count >= n, let h = hay.baseAddress else { return false }
    return needle.withUTF8Buffer { nb in
        guard let nbase = nb.baseAddress else { return false }
        var i = 0
        while i <= hay.count - n {
            if hay[i] == nb[0], memcmp(h + i, nbase, n) == 0 { return true }
            i += 1
        }
        return false
    }
}

/// The civil date (proleptic Gregorian year, month, day) of a day count since 1970-01-01 (Howard
/// Hinnant's civil-from-days): the one conversion the alarm log's timestamps and the panes' dates use.
public func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
}

/// Whole days since 1970-01-01 of a second count, rounding towards the past.
@inline(__always) public func daysSinceEpoch(_ secs: Int) -> Int { secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400 }

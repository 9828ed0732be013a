#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether the terminal's background is light or dark, so that the default theme is readable on
/// it (the dark theme on a white terminal is about 1.5:1). Asked before the dashboard starts:
/// `COLORFGBG` when the terminal sets it (rxvt, Konsole), else the terminal itself through the
/// OSC 11 background-colour query, followed by a Device Attributes query that every terminal
/// answers, so one that does not know OSC 11 costs no timeout. Nil when neither says.
public enum TerminalBackground: Sendable, Equatable {
    case light, dark

    public static func detect(environment env: [String: String]) -> TerminalBackground? {
        if let v = env["COLORFGBG"], let b = fromCOLORFGBG(v) { return b }
        guard isatty(0) == 1, isatty(1) == 1 else { return nil }
        return query()
    }

    /// `fg;bg` or `fg;default;bg`: the last field is the background's ANSI number.
    static func fromCOLORFGBG(_ v: String) -> TerminalBackground? {
        guard let last = v.split(separator: ";").last, let n = Int(last), (0...15).contains(n) else { return nil }
        return n == 7 || n >= 9 ? .light : .dark
    }

    /// `rgb:RRRR/GGGG/BBBB` (1 to 4 hex digits a component) as light or dark, by relative luminance.
    static func fromOSC11(_ reply: String) -> TerminalBackground? {
        let bytes = Array(reply.utf8)
        guard let at = find(Array("rgb:".utf8), in: bytes) else { return nil }
        let tail = String(decoding: bytes[(at + 4)...], as: UTF8.self)
        let parts = tail.prefix { $0.isHexDigit || $0 == "/" }.split(separator: "/")
        guard parts.count == 3 else { return nil }
        var c: [Double] = []
        for p in parts {
            guard (1...4).contains(p.count), let v = UInt32(p, radix: 16) else { return nil }
            c.append(Double(v) / Double((1 << (4 * p.count)) - 1))
        }
        func linear(_ x: Double) -> Double { x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4) }
        let luminance = 0.2126 * linear(c[0]) + 0.7152 * linear(c[1]) + 0.0722 * linear(c[2])
        return luminance > 0.25 ? .light : .dark  // 0.25 linear ≈ mid-grey as the eye sees it
    }

    /// Asks the terminal on /dev/tty: OSC 11 then DA1, raw and silent, for at most 250 ms.
    static func query() -> TerminalBackground? {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else { return nil }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(fd, TCSANOW, &raw) == 0 else { return nil }
        defer { tcsetattr(fd, TCSANOW, &saved) }
        let ask = Array("\u{1B}]11;?\u{1B}\\\u{1B}[c".utf8)
        guard ask.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == ask.count else { return nil }
        var reply: [UInt8] = []
        let deadline = monotonicNow() + 0.25
        var buf = [UInt8](repeating: 0, count: 256)
        while monotonicNow() < deadline, reply.count < 4096 {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(1, (deadline - monotonicNow()) * 1000))
            guard poll(&p, 1, left) > 0 else { break }
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            reply += buf[0..<n]
            // The DA1 answer (ESC [ ? … c) comes after any OSC 11 answer: nothing more will.
            if let da = find([0x1B, 0x5B, 0x3F], in: reply), reply[(da + 3)...].contains(0x63) { break }  // ESC [ ? … c
        }
        // Whatever else came (a reply cut by the deadline) must not reach the dashboard as keys.
        tcflush(fd, TCIFLUSH)
        return fromOSC11(String(decoding: reply, as: UTF8.self))
    }

    /// Where `needle` first starts in `hay`.
    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }

    private static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Text from the outside (endpoint names, error messages, excerpts of bad lines) as it may be
/// shown on a terminal or written to a report: every control character made visible and inert.
/// C0 controls (ESC starts screen clears, title changes, OSC 52 clipboard writes), DEL, C1 controls
/// (U+0080…U+009F, where 0x9B is a one-byte CSI) and the bidirectional overrides and isolates (which
/// reorder what follows them: "Trojan Source") become `·`; everything else is kept.
public enum TerminalSafe {
    @inline(__always) public static func isUnsafe(_ v: UInt32) -> Bool {
        v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
            || v == 0x200E || v == 0x200F || v == 0x061C
    }

    /// Whether `s` can be printed as it is.
    public static func isClean(_ s: String) -> Bool { !s.unicodeScalars.contains { isUnsafe($0.value) } }

    /// `s` with each unsafe scalar replaced by `·` (the string itself when it has none: no copy).
    public static func clean(_ s: String) -> String {
        guard !isClean(s) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars { out.append(isUnsafe(u.value) ? "·" : u) }
        return String(out)
    }

    /// Like `clean`, but newlines and tabs stay: for messages of several lines (stderr, logs).
    public static func cleanKeepingLines(_ s: String) -> String {
        let unsafe: (UInt32) -> Bool = { $0 != 0x0A && $0 != 0x09 && isUnsafe($0) }
        guard s.unicodeScalars.contains(where: { unsafe($0.value) }) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars { out.append(unsafe(u.value) ? "·" : u) }
        return String(out)
    }

    /// The first `limit` bytes of a line as printable text, `…` when cut: for "bad line" excerpts.
    public static func excerpt(_ bytes: UnsafeRawBufferPointer, limit: Int = 80) -> String {
        let head = String(decoding: bytes.prefix(limit), as: UTF8.self)
        var out = String.UnicodeScalarView()
        for u in head.unicodeScalars { out.append(isUnsafe(u.value) || u == "\u{FFFD}" ? "·" : u) }
        return bytes.count > limit ? String(out) + "…" : String(out)
    }
}

import BFFTopWire

/// Number formatting shared by every view: short, fixed-width-friendly, honest about missing data.
public enum Format {
    public static let missing = "—"

    /// 0.42ms, 4.2ms, 42ms, 812ms, 1.23s, 12.3s, 2.5m
    public static func ms(_ v: Double?) -> String {
        guard let v else { return missing }
        switch v {
        // Band edges sit where rounding would carry into the next band (999.6 ms is "1.00s", not "1000ms").
        case ..<0.995: return fixed(v, 2) + "ms"
        case ..<9.95: return fixed(v, 1) + "ms"
        case ..<999.5: return fixed(v, 0) + "ms"
        case ..<9995: return fixed(v / 1000, 2) + "s"
        case ..<59_950: return fixed(v / 1000, 1) + "s"
        default: return fixed(v / 60_000, 1) + "m"
        }
    }

    /// 0, 0.4, 12, 1.2k, 12k, 1.2M
    public static func count(_ v: Double) -> String {
        switch abs(v) {
        case 0: return "0"
        case ..<1000 where v == v.rounded(): return String(Int(v))  // counts: 4, not 4.0
        case ..<1: return fixed(v, 2)
        case ..<10: return fixed(v, 1)
        case ..<1000: return fixed(v, 0)
        case ..<10_000: return fixed(v / 1000, 1) + "k"
        case ..<1_000_000: return fixed(v / 1000, 0) + "k"
        default: return fixed(v / 1_000_000, 1) + "M"
        }
    }

    /// A ratio 0...1 as a percentage: 0, 0.4%, 12%, 100%
    public static func percent(_ r: Double) -> String {
        let p = r * 100
        switch p {
        case 0: return "0"
        case ..<0.1: return "<0.1%"
        case ..<10: return fixed(p, 1) + "%"
        default: return fixed(p, 0) + "%"
        }
    }

    /// $0, $.0042, $0.42, $12.3, $123, $1.2k
    public static func dollars(_ v: Double) -> String {
        switch v {
        case 0: return "$0"
        // The leading zero stays: "$.0087" reads like a typo in a table of "$1.20".
        case ..<0.0001: return "<$0.0001"
        case ..<0.01: return "$" + fixed(v, 4)
        case ..<10: return "$" + fixed(v, 2)
        case ..<100: return "$" + fixed(v, 1)
        case ..<1000: return "$" + fixed(v, 0)
        default: return "$" + fixed(v / 1000, 1) + "k"
        }
    }

    /// One request's cost, two significant digits however small: $0.0000021, $0.00042, $0.12.
    /// (`dollars` says "<$0.0001" below a hundredth of a cent, right for rates and not for one request.)
    public static func exactDollars(_ v: Double) -> String {
        guard v >= 0.01 || v <= 0 else {
            var decimals = 2
            while decimals < 12, v * pow10(decimals) < 10 { decimals += 1 }
            return "$" + fixed(v, decimals)
        }
        return dollars(v)
    }

    private static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * 10 } }

    /// 512 B, 12 KB, 3.4 MB, 1.2 GB
    public static func bytes(_ n: Int) -> String {
        let v = Double(n)
        switch v {
        case ..<1000: return "\(n) B"
        case ..<1_000_000: return fixed(v / 1000, 0) + " KB"
        case ..<1_000_000_000: return fixed(v / 1_000_000, 1) + " MB"
        default: return fixed(v / 1_000_000_000, 1) + " GB"
        }
    }

    /// HH:MM:SS of a Unix time at a fixed offset from UTC.
    public static func clock(_ t: Double, utcOffset: Int) -> String {
        let s = (Int(t.rounded(.down)) + utcOffset) % 86_400
        let d = s < 0 ? s + 86_400 : s
        return two(d / 3600) + ":" + two(d / 60 % 60) + ":" + two(d % 60)
    }

    /// YYYY-MM-DD of a Unix time at a fixed offset from UTC (proleptic Gregorian, from the day number).
    public static func date(_ t: Double, utcOffset: Int) -> String {
        let (y, m, d) = civil(t, utcOffset: utcOffset)
        return String(y) + "-" + two(m) + "-" + two(d)
    }

    /// HH:MM:SS when `t` falls on the same day as `now`, else MM-DD HH:MM (an old forwarded line
    /// must not read as one from a minute ago).
    public static func stamp(_ t: Double, now: Double, utcOffset: Int) -> String {
        let day = civil(t, utcOffset: utcOffset), today = civil(now, utcOffset: utcOffset)
        guard day != today else { return clock(t, utcOffset: utcOffset) }
        return two(day.1) + "-" + two(day.2) + " " + String(clock(t, utcOffset: utcOffset).prefix(5))
    }

    /// Year, month and day at a fixed offset from UTC (the conversion is clamped, so any double is safe).
    static func civil(_ t: Double, utcOffset: Int) -> (Int, Int, Int) {
        let secs = t.isFinite ? Int(max(-1e12, min(1e12, t)).rounded(.down)) + utcOffset : 0
        let c = civilDate(daysSinceEpoch: daysSinceEpoch(secs))
        return (c.year, c.month, c.day)
    }

    @inline(__always) public static func two(_ n: Int) -> String { n < 10 ? "0" + String(n) : String(n) }

    @inline(__always) public static func fixed(_ v: Double, _ decimals: Int) -> String { formatFixed(v, decimals) }

    static let sparkBlocks: [Unicode.Scalar] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// One block per value, scaled to the largest; zero stays blank-ish (lowest block) only if > 0.
    public static func sparkline(_ values: [Double], width: Int) -> String {
        guard width > 0 else { return "" }
        let tail = Array(values.suffix(width))
        let top = tail.max() ?? 0
        var out = String.UnicodeScalarView()
        for _ in 0..<(width - tail.count) { out.append(" ") }
        for v in tail {
            if v <= 0 || top <= 0 {
                out.append(" ")
            } else {
                let i = Int(cells: v / top * 7, limit: 7)
                out.append(sparkBlocks[i])
            }
        }
        return String(out)
    }

    /// Folds `values` into `width` buckets by summing (for series longer than the space).
    /// `values` spread over exactly `width` points: folded (averaged) when there are more, each
    /// repeated when there are fewer, so a sparkline fills its column at any terminal width.
    public static func fit(_ values: [Double], to width: Int) -> [Double] {
        guard width > 0, !values.isEmpty else { return values }
        if values.count >= width { return fold(values, into: width, average: true) }
        return (0..<width).map { values[$0 * values.count / width] }
    }

    public static func fold(_ values: [Double], into width: Int, average: Bool = false) -> [Double] {
        guard width > 0, values.count > width else { return values }
        var out = [Double](repeating: 0, count: width)
        var n = [Int](repeating: 0, count: width)
        for (i, v) in values.enumerated() {
            let b = i * width / values.count
            out[b] += v
            n[b] += 1
        }
        return average ? zip(out, n).map { $1 > 0 ? $0 / Double($1) : 0 } : out
    }
}

import Foundation

/// Number formatting shared by every view: short, fixed-width-friendly, honest about missing data.
public enum Format {
    public static let missing = "—"

    /// 0.42ms, 4.2ms, 42ms, 812ms, 1.23s, 12.3s, 2.5m
    public static func ms(_ v: Double?) -> String {
        guard let v else { return missing }
        switch v {
        case ..<1: return String(format: "%.2fms", v)
        case ..<10: return String(format: "%.1fms", v)
        case ..<1000: return String(format: "%.0fms", v)
        case ..<10_000: return String(format: "%.2fs", v / 1000)
        case ..<60_000: return String(format: "%.1fs", v / 1000)
        default: return String(format: "%.1fm", v / 60_000)
        }
    }

    /// 0, 0.4, 12, 1.2k, 12k, 1.2M
    public static func count(_ v: Double) -> String {
        switch abs(v) {
        case 0: return "0"
        case ..<1: return String(format: "%.2f", v)
        case ..<10: return String(format: "%.1f", v)
        case ..<1000: return String(format: "%.0f", v)
        case ..<10_000: return String(format: "%.1fk", v / 1000)
        case ..<1_000_000: return String(format: "%.0fk", v / 1000)
        default: return String(format: "%.1fM", v / 1_000_000)
        }
    }

    /// A ratio 0...1 as a percentage: 0, 0.4%, 12%, 100%
    public static func percent(_ r: Double) -> String {
        let p = r * 100
        switch p {
        case 0: return "0"
        case ..<0.1: return "<0.1%"
        case ..<10: return String(format: "%.1f%%", p)
        default: return String(format: "%.0f%%", p)
        }
    }

    /// $0, $.0042, $0.42, $12.3, $123, $1.2k
    public static func dollars(_ v: Double) -> String {
        switch v {
        case 0: return "$0"
        case ..<0.01: return "$" + String(format: "%.4f", v).dropFirst()
        case ..<10: return String(format: "$%.2f", v)
        case ..<100: return String(format: "$%.1f", v)
        case ..<1000: return String(format: "$%.0f", v)
        default: return String(format: "$%.1fk", v / 1000)
        }
    }

    /// HH:MM:SS of a Unix time at a fixed offset from UTC.
    public static func clock(_ t: Double, utcOffset: Int) -> String {
        let s = (Int(t.rounded(.down)) + utcOffset) % 86_400
        let d = s < 0 ? s + 86_400 : s
        return String(format: "%02d:%02d:%02d", d / 3600, d / 60 % 60, d % 60)
    }

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
                let i = min(7, max(0, Int((v / top * 7).rounded())))
                out.append(sparkBlocks[i])
            }
        }
        return String(out)
    }

    /// Folds `values` into `width` buckets by summing (for series longer than the space).
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

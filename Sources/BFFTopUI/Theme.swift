/// Semantic colour roles. Views ask for a role, never for a colour; themes map roles to colours.
/// The raw values are the keys of a theme file's `[colors]` table.
public enum Role: String, CaseIterable, Sendable {
    case text, muted, border, borderFocus = "border_focus", title, header
    case selectedFg = "selected_fg", selectedBg = "selected_bg"
    case key, badgeFg = "badge_fg", badgeBg = "badge_bg"
    case good, warn, bad
    case latencyP50 = "latency_p50", latencyP95 = "latency_p95", latencyP99 = "latency_p99"
    case concurrency, coldStart = "cold_start", errors, timeouts, throttles, cost, invocations
    case alarm, alarmWarning = "alarm_warning", paused, recording, replay
    case chartAxis = "chart_axis", sparkline, histogram
}

extension Role {
    /// The role's place in `allCases`, for tables of styles (`Painter`): a `[Role: …]` lookup hashes
    /// the raw value's string. A case without payload is stored as its number in declaration order
    /// (the Swift ABI's enum layout), which is `allCases`' order; a test holds the two equal.
    var ordinal: Int { Int(unsafeBitCast(self, to: UInt8.self)) }

    /// Roles added after themes were written take a related role's colour when a theme lacks them.
    static let fallback: [Role: Role] = [.alarmWarning: .warn]
}

public enum ColorDepth: Int, Sendable, Comparable {
    /// `ansi8`: the eight colours of `TERM=xterm` or `linux`, where a "bright" colour is only bold
    /// and grey is black: emphasis and selection come from attributes there, not from colours.
    case mono, ansi8, ansi16, indexed256, truecolor
    public static func < (a: ColorDepth, b: ColorDepth) -> Bool { a.rawValue < b.rawValue }
}

public struct Theme: Sendable, Equatable {
    public var name: String
    public var variant: String
    public var background: Color
    public var colors: [Role: Color]

    public init(name: String, variant: String, background: Color = .terminalDefault, colors: [Role: Color]) {
        self.name = name
        self.variant = variant
        self.background = background
        self.colors = colors
    }

    /// The style for a role at a colour depth. Monochrome keeps emphasis through attributes only.
    public func style(_ role: Role, depth: ColorDepth) -> Style {
        if depth == .mono { return Theme.monoStyle(role) }
        if depth == .ansi8 { return eightColourStyle(role) }
        let fg = (colors[role] ?? Role.fallback[role].flatMap { colors[$0] } ?? colors[.text] ?? .terminalDefault).resolved(for: depth)
        var s = Style(fg: fg, bg: .terminalDefault)
        switch role {
        case .title, .header, .key, .bad, .alarm: s.attrs = .bold
        case .selectedFg:
            s.bg = (colors[.selectedBg] ?? .terminalDefault).resolved(for: depth)
            s.attrs = .bold
        case .badgeFg:
            s.bg = (colors[.badgeBg] ?? .terminalDefault).resolved(for: depth)
            s.attrs = .bold
        default: break
        }
        return s
    }

    /// Eight colours: the terminal's own foreground for text, dim for what is muted, reverse video
    /// for the selection and badges (a grey background is black there, so colours would vanish),
    /// and the six chromatic colours for what has meaning; a colour without hue takes the
    /// terminal's foreground.
    func eightColourStyle(_ role: Role) -> Style {
        switch role {
        case .text: return Style()
        case .title, .header, .key: return Style(attrs: .bold)
        case .muted, .border, .chartAxis: return Style(attrs: .dim)
        case .borderFocus: return Style(attrs: .bold)
        case .selectedFg, .selectedBg, .badgeFg, .badgeBg: return Style(attrs: [.reverse, .bold])
        default:
            let c = colors[role] ?? Role.fallback[role].flatMap { colors[$0] } ?? colors[.text] ?? .terminalDefault
            var s = Style(fg: c.resolved(for: .ansi8))
            if role == .bad || role == .alarm { s.attrs = .bold }
            return s
        }
    }

    static func monoStyle(_ role: Role) -> Style {
        switch role {
        case .title, .header, .key, .bad, .errors, .timeouts, .alarm, .latencyP99: Style(attrs: .bold)
        case .selectedFg, .selectedBg, .badgeFg, .badgeBg, .paused, .recording, .replay: Style(attrs: [.reverse, .bold])
        case .alarmWarning: Style(attrs: .underline)
        case .muted, .border, .chartAxis: Style(attrs: .dim)
        case .borderFocus: Style(attrs: .bold)
        default: Style()
        }
    }

    /// The monochrome theme `NO_COLOR` and `--theme mono` select.
    public static let mono = Theme(name: "mono", variant: "mono", colors: [:])
}

extension Color {
    /// The nearest colour a terminal of this depth can show.
    public func resolved(for depth: ColorDepth) -> Color {
        switch (self, depth) {
        case (.terminalDefault, _), (_, .mono): return .terminalDefault
        case (_, .ansi8): return Color.nearestChromatic(rgb)
        case (.ansi, _): return self
        case (.indexed(let i), .ansi16): return .ansi(Color.nearestANSI(Color.rgbOfIndex(i)))
        case (.indexed, _): return self
        case (.rgb, .truecolor): return self
        case (.rgb(let r, let g, let b), .indexed256): return .indexed(Color.nearestIndex(r, g, b))
        case (.rgb(let r, let g, let b), .ansi16): return .ansi(Color.nearestANSI((r, g, b)))
        }
    }

    /// The RGB value (xterm's for ANSI and indexed colours); black for the terminal default.
    public var rgb: (UInt8, UInt8, UInt8) {
        switch self {
        case .terminalDefault: (0, 0, 0)
        case .ansi(let n): Color.ansiRGB[Int(n) & 15]
        case .indexed(let n): Color.rgbOfIndex(n)
        case .rgb(let r, let g, let b): (r, g, b)
        }
    }

    /// xterm's default RGB values for the 16 ANSI colours.
    static let ansiRGB: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// One of the six chromatic ANSI colours (red … cyan) by hue, or the terminal's foreground
    /// for greys, black and white (which an eight-colour terminal may show in its background's colour).
    static func nearestChromatic(_ c: (UInt8, UInt8, UInt8)) -> Color {
        let (r, g, b) = (Double(c.0), Double(c.1), Double(c.2))
        let hi = max(r, g, b), lo = min(r, g, b)
        guard hi > 0, (hi - lo) / hi >= 0.25 else { return .terminalDefault }
        var best = 1
        var bestD = Double.infinity
        for i in 1...6 {
            let a = ansiRGB[i]
            // Compare hues: scale both colours to the same brightness first.
            let k = 255 / hi
            let d = pow2(r * k - Double(a.0)) + pow2(g * k - Double(a.1)) + pow2(b * k - Double(a.2))
            if d < bestD {
                bestD = d
                best = i
            }
        }
        return .ansi(UInt8(best))
    }

    static func nearestANSI(_ c: (UInt8, UInt8, UInt8)) -> UInt8 {
        var best = 0
        var bestD = Int.max
        for (i, a) in ansiRGB.enumerated() {
            let d = sq(Int(c.0) - Int(a.0)) + sq(Int(c.1) - Int(a.1)) + sq(Int(c.2) - Int(a.2))
            if d < bestD {
                bestD = d
                best = i
            }
        }
        return UInt8(best)
    }

    /// Nearest of the 6×6×6 cube and the 24-step grey ramp.
    static func nearestIndex(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let levels = [0, 95, 135, 175, 215, 255]
        func nearestLevel(_ v: UInt8) -> Int {
            var bi = 0
            for i in 1..<levels.count where abs(levels[i] - Int(v)) < abs(levels[bi] - Int(v)) { bi = i }
            return bi
        }
        let (ri, gi, bi) = (nearestLevel(r), nearestLevel(g), nearestLevel(b))
        let cube = (levels[ri], levels[gi], levels[bi])
        let cubeD = sq(cube.0 - Int(r)) + sq(cube.1 - Int(g)) + sq(cube.2 - Int(b))
        let avg = (Int(r) + Int(g) + Int(b)) / 3
        let greyIndex = min(23, max(0, (avg - 8 + 5) / 10))
        let grey = 8 + greyIndex * 10
        let greyD = sq(grey - Int(r)) + sq(grey - Int(g)) + sq(grey - Int(b))
        return greyD < cubeD ? UInt8(232 + greyIndex) : UInt8(16 + 36 * ri + 6 * gi + bi)
    }

    static func rgbOfIndex(_ i: UInt8) -> (UInt8, UInt8, UInt8) {
        if i < 16 { return ansiRGB[Int(i)] }
        if i >= 232 {
            let v = UInt8(8 + Int(i - 232) * 10)
            return (v, v, v)
        }
        let levels: [UInt8] = [0, 95, 135, 175, 215, 255]
        let n = Int(i) - 16
        return (levels[n / 36], levels[(n / 6) % 6], levels[n % 6])
    }
}

@inline(__always) private func sq(_ x: Int) -> Int { x * x }
@inline(__always) private func pow2(_ x: Double) -> Double { x * x }

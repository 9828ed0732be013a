import BFFTopInvoke
import BFFTopStats

/// The sort menu (`o`), the go-to prompt's times (`g`) and a config reload (`R`).
extension AppState {

    /// "12:00:30" / "12:00" (clock time on the recording's first day), "+90s" / "-2m" (from the
    /// current position), "5m" / "300" (offset from the start), or Unix seconds.
    public static func parseTime(_ text: String, start: Double, position: Double, utcOffset: Int) -> Double? {
        let t = text.trimmedWhitespace
        guard !t.isEmpty else { return nil }
        if t.contains(":") {
            let parts = t.split(separator: ":").map { Int($0) }
            guard parts.count >= 2, parts.count <= 3, parts.allSatisfy({ $0 != nil }) else { return nil }
            let secs = (parts[0] ?? 0) * 3600 + (parts[1] ?? 0) * 60 + (parts.count == 3 ? parts[2] ?? 0 : 0)
            let localStart = Int(start) + utcOffset
            let dayStart = Double(localStart - ((localStart % 86_400) + 86_400) % 86_400 - utcOffset)
            return dayStart + Double(secs)
        }
        var body = Substring(t)
        var sign = 1.0
        var base = start
        if body.hasPrefix("+") {
            body = body.dropFirst()
            base = position
        } else if body.hasPrefix("-") {
            sign = -1
            body = body.dropFirst()
            base = position
        }
        var unit = 1.0
        if let last = body.last, let u = ["s": 1.0, "m": 60, "h": 3600][String(last)] {
            unit = u
            body = body.dropLast()
        }
        guard let n = Double(body) else { return nil }
        if n > 1_000_000_000, sign > 0, unit == 1 { return n }  // absolute Unix time
        return base + sign * n * unit
    }
    /// The sort menu's columns with the key that picks each: 1…9, then 0 and the letters after.
    public static let sortChoices: [(key: Character, column: Column)] = {
        let keys = Array("1234567890abcdef")
        return Column.allCases.filter { $0 != .trend }.enumerated().map { (keys[$0.offset], $0.element) }
    }()

    /// A key in the sort menu: a column's key sorts by it (again: the other way round); anything
    /// else closes the menu.
    mutating func pickSort(_ key: Key) -> Bool {
        choosingSort = false
        guard case .char(let c) = key, let pick = AppState.sortChoices.first(where: { $0.key == c }) else { return true }
        if sortColumn == pick.column {
            sortDescending.toggle()
        } else {
            sortColumn = pick.column
            sortDescending = pick.column.naturalDescending
        }
        refreshRows()
        ensureSelection()
        message = "sorted by \(pick.column == .rpsWindow ? "RPS \(window)" : pick.column.title) \(sortDescending ? "▼" : "▲")"
        return true
    }

    /// A reloaded config's UI settings; the engine takes its own part through the frame source.
    public mutating func apply(_ r: ConfigReload) {
        keymap = r.keymap
        if let themes = r.themes, !themes.isEmpty {
            self.themes = themes
            themeIndex = 0
        }
        targets = r.targets
        invokeSettings = r.invokeSettings
        bellOnAlarm = r.bell
        flashOnAlarm = r.flash
        message = r.summary
    }

}

/// What a config reload (`R`) changes on the screen's side.
public struct ConfigReload: Sendable {
    public var keymap: Keymap
    /// nil: keep the themes (the theme came from the command line, or the config names none).
    public var themes: [Theme]?
    public var targets: [TargetSpec]
    public var invokeSettings: InvokeSettings
    public var bell: Bool
    public var flash: Bool
    /// What the header says afterwards.
    public var summary: String

    public init(keymap: Keymap, themes: [Theme]?, targets: [TargetSpec], invokeSettings: InvokeSettings, bell: Bool, flash: Bool, summary: String) {
        self.keymap = keymap
        self.themes = themes
        self.targets = targets
        self.invokeSettings = invokeSettings
        self.bell = bell
        self.flash = flash
        self.summary = summary
    }
}

/// A key as the terminal backend reports it.
public enum Key: Hashable, Sendable {
    case char(Character)
    case ctrl(Character)
    case up, down, left, right, shiftLeft, shiftRight, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace
    case resize
    case mouseScrollUp, mouseScrollDown

    /// How the help overlay writes the key.
    public var label: String {
        switch self {
        case .char(" "): "space"
        case .char(let c): String(c)
        case .ctrl(let c): "^" + String(c).uppercased()
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .shiftLeft: "S-←"
        case .shiftRight: "S-→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "S-Tab"
        case .backspace: "Bksp"
        case .resize: "resize"
        case .mouseScrollUp: "wheel↑"
        case .mouseScrollDown: "wheel↓"
        }
    }
}

/// Everything a key can do. Views and the help overlay read descriptions from here.
public enum Action: String, CaseIterable, Sendable {
    case quit, help, up, down, pageUp = "page_up", pageDown = "page_down", top, bottom
    case detail, back, nextPane = "next_pane", previousPane = "previous_pane"
    case sortNext = "sort", sortReverse = "sort_reverse", sortMenu = "sort_menu", filter, pause, cycleWindow = "window", cycleTheme = "theme"
    case playPause = "play_pause", seekBack = "seek_back", seekForward = "seek_forward"
    case seekBackLong = "seek_back_long", seekForwardLong = "seek_forward_long", slower, faster
    case jumpStart = "jump_start", jumpEnd = "jump_end", goToTime = "go_to_time"
    case acknowledge, muteRule = "mute", toggleAlarms = "alarms", reloadConfig = "reload_config"
    case invoke, invokePreset = "invoke_preset", burst, ramp, cancelInvocations = "cancel", toggleTestTraffic = "test_traffic"
    case waterfall, nextTrace = "next_trace", previousTrace = "previous_trace"

    public var help: String {
        switch self {
        case .quit: "quit"
        case .help: "show or hide this help"
        case .up: "select previous row"
        case .down: "select next row"
        case .pageUp: "page up"
        case .pageDown: "page down"
        case .top: "first row"
        case .bottom: "last row"
        case .detail: "zoom / open the line"
        case .back: "close zoom / filter"
        case .nextPane: "focus next pane"
        case .previousPane: "focus previous pane"
        case .sortNext: "sort by next column"
        case .sortReverse: "reverse sort direction"
        case .sortMenu: "sort by a column (menu)"
        case .reloadConfig: "reload the config file"
        case .muteRule: "mute the alarm's rule"
        case .filter: "filter by name/service"
        case .pause: "freeze the display"
        case .cycleWindow: "cycle window 1m/5m/15m/1h"
        case .cycleTheme: "cycle theme"
        case .playPause: "replay: pause / resume"
        case .seekBack: "replay: back 10 s"
        case .seekForward: "replay: forward 10 s"
        case .seekBackLong: "replay: back 1 min"
        case .seekForwardLong: "replay: forward 1 min"
        case .slower: "replay: slower"
        case .faster: "replay: faster"
        case .jumpStart: "replay: go to the start"
        case .jumpEnd: "replay: go to the end"
        case .goToTime: "replay: go to a time (12:00:30, +90s, -2m)"
        case .acknowledge: "acknowledge alarms"
        case .toggleAlarms: "cycle the lower pane"
        case .invoke: "invoke the selected endpoint"
        case .invokePreset: "invoke with a payload preset"
        case .burst: "burst of concurrent invokes"
        case .ramp: "ramp: N per second for T"
        case .cancelInvocations: "cancel bursts and ramps"
        case .toggleTestTraffic: "hide/show test traffic"
        case .waterfall: "request waterfall (traces)"
        case .nextTrace: "waterfall: next trace"
        case .previousTrace: "waterfall: previous trace"
        }
    }
}

/// The one source of truth for key bindings. The help overlay and footer are generated from it.
public struct Keymap: Sendable, Equatable {
    public internal(set) var bindings: [(key: Key, action: Action)]

    public static func == (a: Keymap, b: Keymap) -> Bool {
        a.bindings.map(\.key) == b.bindings.map(\.key) && a.bindings.map(\.action) == b.bindings.map(\.action)
    }

    public static let standard = Keymap(bindings: [
        (.char("q"), .quit), (.ctrl("c"), .quit), (.char("?"), .help), (.char("h"), .help),
        (.up, .up), (.char("k"), .up), (.down, .down), (.char("j"), .down),
        (.pageUp, .pageUp), (.pageDown, .pageDown), (.home, .top), (.char("g"), .top), (.end, .bottom), (.char("G"), .bottom),
        (.enter, .detail), (.escape, .back), (.tab, .nextPane), (.backTab, .previousPane),
        (.char("s"), .sortNext), (.char("S"), .sortReverse), (.char("o"), .sortMenu), (.char("/"), .filter), (.char("p"), .pause),
        (.char("w"), .cycleWindow), (.char("t"), .cycleTheme), (.char("a"), .acknowledge), (.char("A"), .toggleAlarms),
        (.char("i"), .invoke), (.char("I"), .invokePreset), (.char("b"), .burst), (.char("B"), .ramp), (.char("x"), .cancelInvocations),
        (.char("T"), .toggleTestTraffic), (.char("R"), .reloadConfig), (.char("m"), .muteRule),
        (.char("W"), .waterfall), (.char("n"), .nextTrace), (.char("N"), .previousTrace),
        (.mouseScrollUp, .up), (.mouseScrollDown, .down),
        (.char(" "), .playPause), (.left, .seekBack), (.right, .seekForward), (.shiftLeft, .seekBackLong),
        (.shiftRight, .seekForwardLong), (.char("["), .slower), (.char("]"), .faster),
    ])

    /// Replay adds Home/End (start/end of the recording) and `g` (go to a time); g/G keep the table.
    public static let replay: Keymap = {
        var k = Keymap.standard
        k.bind(.home, to: .jumpStart)
        k.bind(.end, to: .jumpEnd)
        k.bind(.char("g"), to: .goToTime)
        return k
    }()

    public func action(for key: Key) -> Action? {
        bindings.first { $0.key == key }?.action
    }

    public func keys(for action: Action) -> [Key] {
        bindings.filter { $0.action == action }.map(\.key)
    }

    /// Binds `key` to `action`, replacing whatever the key did before.
    public mutating func bind(_ key: Key, to action: Action) {
        bindings.removeAll { $0.key == key }
        bindings.append((key, action))
    }

    /// Actions that only do something in replay.
    public static let replayActions: Set<Action> = [
        .playPause, .seekBack, .seekForward, .seekBackLong, .seekForwardLong, .slower, .faster, .jumpStart, .jumpEnd, .goToTime,
    ]

    /// Rows for the help overlay: keys joined, then the action's description, in Action order.
    public func helpRows(replay: Bool) -> [(keys: String, help: String)] {
        Action.allCases.filter { replay || !Keymap.replayActions.contains($0) }.compactMap { a in
            let ks = keys(for: a).filter { $0 != .mouseScrollUp && $0 != .mouseScrollDown }
            guard !ks.isEmpty else { return nil }
            return (ks.map(\.label).joined(separator: " "), a.help)
        }
    }
}

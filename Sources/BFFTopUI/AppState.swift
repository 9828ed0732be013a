import BFFTopEngine
import BFFTopInvoke
import BFFTopStats
import BFFTopWire

/// What the header says about where data comes from.
public struct SourceInfo: Sendable, Equatable {
    public var mode: String
    public var detail: String

    public init(mode: String, detail: String) {
        self.mode = mode
        self.detail = detail
    }
}

/// The single owner of everything the screen shows. Mutated only by the UI loop, through
/// `handle(_:)` (keys) and `receive(_:)` (engine frames); views read it and nothing else.
public struct AppState: Sendable {
    public var frame: EngineFrame
    /// What is drawn: the latest frame, or the one frozen by pause.
    public private(set) var displayed: EngineFrame
    public var source: SourceInfo
    public var keymap: Keymap
    public var themes: [Theme]
    public var themeIndex = 0
    public var colorDepth: ColorDepth
    public var width: Int
    public var height: Int
    /// Seconds east of UTC for clock display (fixed in tests).
    public var utcOffset: Int

    public var window: Window = .oneMinute
    public var selected: String?
    public var sortColumn: Column = .rps
    public var sortDescending = true
    public var filter = ""
    public var filterEditing = false
    private var filterBeforeEdit = ""
    public var focus: Pane = .endpoints
    public var zoomed = false
    /// The request waterfall (`W`), open on one exemplar trace of an endpoint.
    public var waterfall: WaterfallCursor?
    public var showHelp = false
    public var paused = false
    public var tableOffset = 0
    public var errorsOffset = 0
    public var message: String?
    public var shouldQuit = false
    /// The `g` prompt in replay.
    public var gotoEditing = false
    public var gotoText = ""
    /// Playback commands for the frame source, taken by the UI loop after each key.
    public private(set) var pendingCommands: [PlaybackCommand] = []
    /// What the lower-right slot shows: errors, alarms or test invocations (`A` cycles).
    public var lowerPane: Pane = .errors
    public var alarmsOffset = 0
    public var metricsOffset = 0
    public var malformedOffset = 0
    /// The sort menu (`o`) is open.
    public var choosingSort = false
    /// `R` asked for the config file to be read again (the runner does it and calls `apply`).
    public private(set) var reloadRequested = false
    /// A record opened with Enter in the Errors or Malformed pane (any key closes it).
    public var inspecting: Inspected?
    /// Test invocations: where each endpoint can be invoked, and what has been fired.
    public var targets: [TargetSpec] = []
    public var invokeSettings = InvokeSettings()
    /// Endpoints a connected emitter can run (the control channel).
    public var invokable: Set<String> = []
    public var invocations = InvocationLogSnapshot()
    public var hideTestTraffic = false
    /// Waiting for y/n before firing.
    public internal(set) var confirming: InvokeRequest?
    /// Why `confirming` asks (a POST, a host off this machine, a Lambda invoke, a burst).
    public internal(set) var confirmingReason: String?
    /// The `I` picker: presets of this endpoint's target.
    public internal(set) var choosingPreset: (endpoint: String, spec: TargetSpec)?
    public internal(set) var pendingInvokes: [InvokeRequest] = []
    public internal(set) var cancelRequested = false
    /// From the config: ring the bell / flash when an alarm fires.
    public var bellOnAlarm = false
    public var flashOnAlarm = false
    /// A new alarm fired since the UI loop last asked (see `takeAlert`).
    public private(set) var alertPending = false
    private var lastFiringSeen: Double?
    public private(set) var acknowledgeRequested: AlarmAcknowledgement?

    public init(
        frame: EngineFrame, source: SourceInfo, themes: [Theme] = [ThemeLoader.builtin("dark") ?? .mono],
        colorDepth: ColorDepth = .indexed256, keymap: Keymap = .standard, width: Int = 80, height: Int = 24, utcOffset: Int = 0
    ) {
        self.frame = frame
        self.displayed = frame
        self.source = source
        self.themes = themes.isEmpty ? [.mono] : themes
        self.colorDepth = colorDepth
        self.keymap = keymap
        self.width = width
        self.height = height
        self.utcOffset = utcOffset
        refreshRows()
    }

    public var theme: Theme { themes[themeIndex % themes.count] }

    /// What the engine should compute next, derived from the view's choices.
    public var snapshotRequest: SnapshotRequest {
        var r = SnapshotRequest(window: window, detailFor: selected)
        r.hideTestTraffic = hideTestTraffic
        return r
    }

    // MARK: - Data

    public mutating func receive(_ f: EngineFrame) {
        frame = f
        let newest = f.alarms.history.first { $0.phase == .firing }?.time
        if let newest, newest > lastFiringSeen ?? -.infinity {
            // Live: every new firing rings. Replay: not for what had fired before the first frame.
            if lastFiringSeen != nil || frame.playback == nil, f.alarms.unacknowledged > 0 { alertPending = true }
            lastFiringSeen = newest
        }
        if !paused {
            displayed = f
            refreshRows()
            refreshWaterfall()
        }
        ensureSelection()
    }

    /// Endpoints after the filter, in sort order; ties break by name so rows never jitter.
    /// Stored, not computed: every view and key reads it, and 1,000 endpoints sort once per change.
    public private(set) var rows: [EndpointFigures] = []
    /// The widest of `rows`' names in columns (the table sizes its name column by it), worked out
    /// with the rows: measuring 1,000 names every frame was a tenth of the table's drawing.
    private(set) var widestRowName = 0

    mutating func refreshRows() {
        var list = displayed.snapshot.endpoints
        if !filter.isEmpty { list = list.filter { matchesFilter($0) } }
        let key = sortColumn
        let desc = sortDescending
        list.sort { a, b in
            let o = AppState.compare(a, b, key)
            if o != 0 { return desc ? o > 0 : o < 0 }
            return a.name < b.name
        }
        rows = list
        widestRowName = list.reduce(0) { max($0, $1.name.displayWidth) }
    }

    static func compare(_ a: EndpointFigures, _ b: EndpointFigures, _ c: Column) -> Int {
        func cmp<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : x > y ? 1 : 0 }
        switch c {
        case .endpoint: return cmp(a.name, b.name)
        case .kind: return cmp(a.kind.rawValue, b.kind.rawValue)
        case .rps: return cmp(a.rpsNow, b.rpsNow)
        case .rpsWindow, .trend: return cmp(a.rps, b.rps)
        case .p50: return cmp(a.p50 ?? -1, b.p50 ?? -1)
        case .p95: return cmp(a.p95 ?? -1, b.p95 ?? -1)
        case .p99: return cmp(a.p99 ?? -1, b.p99 ?? -1)
        case .errorRate: return cmp(a.errorRate, b.errorRate)
        case .concurrency:
            let o = cmp(a.concurrencyNow, b.concurrencyNow)
            return o != 0 ? o : cmp(a.concurrencyPeak, b.concurrencyPeak)
        case .cold: return cmp(a.coldRate, b.coldRate)
        case .costPerHour: return cmp(a.costPerHour, b.costPerHour)
        }
    }

    mutating func ensureSelection() {
        let r = rows
        if let s = selected, r.contains(where: { $0.name == s }) { return }
        selected = r.first?.name
        tableOffset = 0
    }

    // MARK: - Input

    public mutating func resize(width w: Int, height h: Int) {
        width = w
        height = h
        clampOffsets()
    }

    /// Handles one key. Returns false if the key did nothing (so the caller need not redraw).
    @discardableResult
    public mutating func handle(_ key: Key) -> Bool {
        message = nil
        if key == .resize { return true }
        if filterEditing { return editFilter(key) }
        if confirming != nil { return answerConfirmation(key) }
        if choosingPreset != nil { return pickPreset(key) }
        if choosingSort { return pickSort(key) }
        if gotoEditing { return editGoto(key) }
        if let open = inspecting, key != .ctrl("c") {
            inspecting = nil
            let action = keymap.action(for: key)
            if action == .quit { shouldQuit = true }
            if case .alarm(let x) = open {
                // From an alarm: to its endpoint, or acknowledge just this one.
                if action == .detail { goToEndpoint(x.endpoint) }
                if action == .muteRule { toggleMute(x) }
                if action == .acknowledge, x.phase == .firing {
                    acknowledgeRequested = .one(rule: x.rule, endpoint: x.endpoint)
                    message = "acknowledged \(x.rule) on \(x.endpoint)"
                }
            }
            return true
        }
        if showHelp, key != .ctrl("c") {
            // Any key closes help; the quit key still quits.
            showHelp = false
            if keymap.action(for: key) == .quit { shouldQuit = true }
            return true
        }
        guard let action = keymap.action(for: key) else { return false }
        if waterfallKey(action) { return true }
        perform(action)
        return true
    }

    public mutating func perform(_ action: Action) {
        switch action {
        case .quit: shouldQuit = true
        case .help: showHelp.toggle()
        case .up: move(-1)
        case .down: move(1)
        case .pageUp: move(-max(1, DashboardLayout.tableRows(self) - 1))
        case .pageDown: move(max(1, DashboardLayout.tableRows(self) - 1))
        case .top: move(-Int.max / 2)
        case .bottom: move(Int.max / 2)
        case .detail:
            switch focus {
            case .errors: inspecting = ErrorsView.record(at: errorsOffset, in: self)
            case .malformed: inspecting = MalformedView.lines(self).dropFirst(malformedOffset).first.map { .malformed($0) }
            case .alarms: inspecting = AlarmsView.alarm(at: alarmsOffset, in: AlarmsView.filtered(self)).map { .alarm($0) }
            default: zoomed.toggle()
            }
        case .back:
            if zoomed { zoomed = false } else if !filter.isEmpty {
                filter = ""
                refreshRows()
                ensureSelection()
            } else if focus != .endpoints { focus = .endpoints }
        case .nextPane: cycleFocus(1)
        case .previousPane: cycleFocus(-1)
        case .sortNext:
            let all = Column.allCases.filter { $0 != .trend }
            let i = all.firstIndex(of: sortColumn) ?? 0
            sortColumn = all[(i + 1) % all.count]
            sortDescending = sortColumn.naturalDescending
            refreshRows()
            message = "sorted by \(sortColumn.title) \(sortDescending ? "▼" : "▲")"
        case .sortReverse:
            sortDescending.toggle()
            refreshRows()
            message = "sorted by \(sortColumn.title) \(sortDescending ? "▼" : "▲")"
        case .sortMenu: choosingSort = true
        case .reloadConfig: reloadRequested = true
        case .muteRule:
            guard focus == .alarms, let x = AlarmsView.alarm(at: alarmsOffset, in: AlarmsView.filtered(self)) else {
                message = "m mutes the rule of the alarm on the Alarms pane's top line (A shows the pane, Tab focuses it)"
                return
            }
            toggleMute(x)
        case .filter:
            filterEditing = true
            filterBeforeEdit = filter
        case .pause where frame.playback != nil:
            // Replay: pausing the display while playback runs on would only confuse; `p` pauses playback.
            playback(.togglePause)
        case .pause:
            paused.toggle()
            if !paused {
                displayed = frame
                refreshRows()
            }
            ensureSelection()
        case .cycleWindow:
            window = window.next
            message = "window \(window)"
        case .cycleTheme:
            themeIndex = (themeIndex + 1) % themes.count
            message = "theme \(theme.name)"
        case .playPause: playback(.togglePause)
        case .seekBack: playback(.seekBy(-10))
        case .seekForward: playback(.seekBy(10))
        case .seekBackLong: playback(.seekBy(-60))
        case .seekForwardLong: playback(.seekBy(60))
        case .slower: playback(.slower)
        case .faster: playback(.faster)
        case .jumpStart: playback(.jumpToStart)
        case .jumpEnd: playback(.jumpToEnd)
        case .acknowledge:
            // In the Alarms pane, the selected alarm; elsewhere every firing one.
            if focus == .alarms, let x = AlarmsView.alarm(at: alarmsOffset, in: AlarmsView.filtered(self)), x.phase == .firing {
                acknowledgeRequested = .one(rule: x.rule, endpoint: x.endpoint)
                message = "acknowledged \(x.rule) on \(x.endpoint)"
                return
            }
            let n = frame.alarms.unacknowledged
            acknowledgeRequested = n > 0 ? .all : nil
            message = n > 0 ? "acknowledged \(n) firing alarm\(n == 1 ? "" : "s")" : "no unacknowledged alarms"
        case .toggleAlarms:
            // Raw metrics only when a DogStatsD listener runs.
            let order: [Pane] = [.errors, .alarms, .invocations] + (frame.ingest.dogstatsd != nil ? [.metrics] : []) + [.malformed]
            let next = order[((order.firstIndex(of: lowerPane) ?? 0) + 1) % order.count]
            if focus == lowerPane { focus = next }
            lowerPane = next
        case .invoke: invoke(plan: .once, preset: nil)
        case .invokePreset: choosePreset()
        case .burst: invoke(plan: .burst(invokeSettings.burst), preset: nil)
        case .ramp: invoke(plan: .ramp(perSecond: invokeSettings.rampRate, seconds: invokeSettings.rampSeconds), preset: nil)
        case .cancelInvocations:
            cancelRequested = true
            let n = invocations.running.count
            message = n > 0 ? "cancelling \(n) burst\(n == 1 ? "" : "s")/ramp\(n == 1 ? "" : "s"); requests in flight finish" : "nothing running to cancel"
        case .toggleTestTraffic:
            hideTestTraffic.toggle()
            message = hideTestTraffic ? "test traffic hidden from the figures (from now on)" : "test traffic counted in the figures"
        case .waterfall: toggleWaterfall()
        case .nextTrace: stepTrace(by: 1)
        case .previousTrace: stepTrace(by: -1)
        case .goToTime:
            if frame.playback != nil {
                gotoEditing = true
                gotoText = ""
            } else {
                playback(.jumpToStart)
            }
        }
        clampOffsets()
    }

    /// Mutes the alarm's rule everywhere, or unmutes it.
    private mutating func toggleMute(_ x: ActiveAlarm) {
        acknowledgeRequested = .toggleMute(rule: x.rule)
        message = x.muted ? "unmuted \"\(x.rule)\"" : "muted \"\(x.rule)\" on every endpoint: judged and logged, no badge or bell (m again unmutes)"
    }

    private mutating func cycleFocus(_ d: Int) {
        let panes = zoomed ? [Pane.detail] : DashboardLayout.visiblePanes(width: width, height: height, lower: lowerPane)
        guard !panes.isEmpty else { return }
        let i = panes.firstIndex(of: focus) ?? 0
        focus = panes[(i + d + panes.count) % panes.count]
    }

    private mutating func move(_ delta: Int) {
        if focus == .errors {
            errorsOffset = max(0, errorsOffset + max(-1000, min(1000, delta)))
            clampOffsets()
            return
        }
        if focus == .metrics {
            metricsOffset = max(0, metricsOffset + max(-1000, min(1000, delta)))
            clampOffsets()
            return
        }
        if focus == .malformed {
            malformedOffset = max(0, malformedOffset + max(-1000, min(1000, delta)))
            clampOffsets()
            return
        }
        if focus == .alarms {
            alarmsOffset = max(0, alarmsOffset + max(-1000, min(1000, delta)))
            clampOffsets()
            return
        }
        let r = rows
        guard !r.isEmpty else { return }
        let cur = r.firstIndex { $0.name == selected } ?? 0
        let next = max(0, min(r.count - 1, cur + max(-r.count, min(r.count, delta))))
        selected = r[next].name
    }

    private mutating func playback(_ c: PlaybackCommand) {
        guard frame.playback != nil else {
            message = "that key works in replay: bfftop replay FILE"
            return
        }
        pendingCommands.append(c)
    }

    /// True once per newly fired alarm (for the bell / flash).
    public mutating func takeAlert() -> Bool {
        defer { alertPending = false }
        return alertPending
    }

    public mutating func takeReload() -> Bool {
        defer { reloadRequested = false }
        return reloadRequested
    }

    public mutating func takeAcknowledge() -> AlarmAcknowledgement? {
        defer { acknowledgeRequested = nil }
        return acknowledgeRequested
    }

    public mutating func takeCommands() -> [PlaybackCommand] {
        defer { pendingCommands = [] }
        return pendingCommands
    }

    private mutating func editGoto(_ key: Key) -> Bool {
        switch key {
        case .enter:
            gotoEditing = false
            if let p = frame.playback, let t = AppState.parseTime(gotoText, start: p.start, position: p.position, utcOffset: utcOffset) {
                pendingCommands.append(.seekTo(t))
            } else {
                message = "not a time: \(gotoText) (try 12:00:30, +90s, -2m, 5m)"
            }
        case .escape: gotoEditing = false
        case .backspace: if !gotoText.isEmpty { gotoText.removeLast() }
        case .char(let c): gotoText.append(c)
        case .ctrl("c"): shouldQuit = true
        default: return false
        }
        return true
    }

    private mutating func editFilter(_ key: Key) -> Bool {
        switch key {
        case .enter:
            filterEditing = false
        case .escape:
            filterEditing = false
            filter = filterBeforeEdit
        case .backspace:
            if !filter.isEmpty { filter.removeLast() }
        case .char(let c):
            filter.append(c)
        case .ctrl("c"):
            shouldQuit = true
        case .ctrl("u"):
            filter = ""
        default:
            return false
        }
        refreshRows()
        ensureSelection()
        clampOffsets()
        return true
    }

    /// Keeps the selected row on screen and scroll positions in range.
    public mutating func clampOffsets() {
        let r = rows
        let visible = max(1, DashboardLayout.tableRows(self))
        if let i = r.firstIndex(where: { $0.name == selected }) {
            if i < tableOffset { tableOffset = i }
            if i >= tableOffset + visible { tableOffset = i - visible + 1 }
        }
        tableOffset = max(0, min(tableOffset, max(0, r.count - visible)))
        errorsOffset = max(0, min(errorsOffset, max(0, ErrorsView.lineCount(self) - 1)))
        alarmsOffset = max(0, min(alarmsOffset, max(0, AlarmsView.lineCount(AlarmsView.filtered(self)) - 1)))
        // End in the raw-metrics pane stops at its last metric, never past it.
        metricsOffset = max(0, min(metricsOffset, max(0, (displayed.ingest.dogstatsd?.rawList.count ?? 0) - 1)))
        malformedOffset = max(0, min(malformedOffset, max(0, displayed.ingest.recentMalformed.count - 1)))
    }
}


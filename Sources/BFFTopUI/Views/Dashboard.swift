/// A grid plus the theme to paint with. Views receive one and draw into its grid.
public struct Painter {
    public var grid: CellGrid
    public let theme: Theme
    public let depth: ColorDepth

    /// Every role's style for this theme and depth, worked out once a frame: `Theme.style` looks
    /// colours up by role and finds the nearest palette entry, and views ask for a style for
    /// almost every string they put (a tenth of a frame with 1,000 endpoints).
    private let styles: [Style]

    public init(width: Int, height: Int, theme: Theme, depth: ColorDepth) {
        self.grid = CellGrid(width: width, height: height)
        self.theme = theme
        self.depth = depth
        self.styles = Role.allCases.map { theme.style($0, depth: depth) }
    }

    @inline(__always) public func style(_ r: Role) -> Style { styles[r.ordinal] }

    /// Marks a line as the selection: the selection's background and attributes over what is
    /// drawn; with `recolourText`, plain text (and everything in mono) takes the selection's
    /// foreground too. Never text in its own background's colour (a muted grey on a grey selection).
    mutating func selectRow(_ r: Rect, recolourText: Bool = false) {
        let sel = style(.selectedFg)
        let textFg = style(.text).fg
        let mono = depth == .mono
        grid.restyle(r) { st in
            var n = st
            n.bg = sel.bg
            n.attrs.formUnion(sel.attrs)
            if recolourText, mono || st.fg == textFg { n.fg = sel.fg }
            if n.fg == n.bg, n.bg != .terminalDefault { n.fg = sel.fg }
            return n
        }
    }

    mutating func pane(_ r: Rect, title: String, focused: Bool) {
        grid.box(r, title: title, style(focused ? .borderFocus : .border), style(.title), focused: focused)
    }
}

/// The whole screen as a pure function of the app state.
public enum Dashboard {
    public static func render(_ s: AppState) -> CellGrid {
        var p = Painter(width: s.width, height: s.height, theme: s.theme, depth: s.colorDepth)
        guard s.width >= 20, s.height >= 6 else {
            p.grid.put(0, 0, CellGrid.truncate("bfftop: terminal too small (\(s.width)×\(s.height)); need 80×24", s.width), p.style(.warn))
            return p.grid
        }
        let l = DashboardLayout.compute(width: s.width, height: s.height, zoomed: s.zoomed || s.waterfall != nil, rows: s.rows.count)
        HeaderView.draw(s, l.header, &p)
        if !l.table.isEmpty { EndpointTableView.draw(s, l.table, &p) }
        if let w = s.waterfall {
            WaterfallView.draw(s, w, l.detail, &p)
        } else if !l.detail.isEmpty {
            DetailView.draw(s, l.detail, &p)
        }
        if !l.concurrency.isEmpty { ConcurrencyView.draw(s, l.concurrency, &p) }
        if !l.errors.isEmpty {
            switch s.lowerPane {
            case .alarms: AlarmsView.draw(s, l.errors, &p)
            case .invocations: InvocationsView.draw(s, l.errors, &p)
            case .metrics: RawMetricsView.draw(s, l.errors, &p)
            case .malformed: MalformedView.draw(s, l.errors, &p)
            default: ErrorsView.draw(s, l.errors, &p)
            }
        }
        FooterView.draw(s, l.footer, &p)
        if s.showHelp { HelpOverlay.draw(s, &p) }
        if let record = s.inspecting { RecordOverlay.draw(s, record, &p) }
        if s.choosingSort { SortMenuOverlay.draw(s, &p) }
        return p.grid
    }
}

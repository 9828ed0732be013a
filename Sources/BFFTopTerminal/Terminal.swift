import BFFTopUI
import CNCursesW
#if canImport(Glibc)
import Glibc
#endif

public enum TerminalError: Error, CustomStringConvertible {
    case notATerminal
    case initFailed
    case unknownTerm(String)
    case noTerminfo
    case cannotAddressCursor(String)

    public var description: String {
        switch self {
        case .notATerminal:
            "stdout is not a terminal: bfftop's dashboard needs one. Use `bfftop report` for text output, or run it in tmux/a terminal."
        case .initFailed: "could not initialise the terminal (is TERM set?)"
        case .unknownTerm(let t):
            "TERM=\(t) is not in the terminfo database; use one it knows (TERM=xterm-256color, or install ncurses-term), or `bfftop report` for text"
        case .noTerminfo: "no terminfo database found (install ncurses-base), or use `bfftop report` for text"
        case .cannotAddressCursor(let t):
            "TERM=\(t) cannot move the cursor, which a dashboard needs; use a full terminal (TERM=xterm-256color) or `bfftop report` for text"
        }
    }
}

/// The only code that talks to ncurses. Not thread-safe: create, use and close it on one thread.
/// Draws a `CellGrid` by writing only the cells that changed since the previous frame.
public final class Terminal {
    public let depth: ColorDepth
    private var previous: CellGrid?
    private var pairs: [Int64: Int32] = [:]
    private var nextPair: Int32 = 1
    private var closed = false

    /// Why this process cannot draw a dashboard, checked before anything is started: stdout is not a
    /// terminal, or $TERM is unknown or cannot address the cursor. nil when it can.
    public static func problem(environment: [String: String]) -> TerminalError? {
        guard isatty(STDOUT_FILENO) == 1 else { return .notATerminal }
        let term = environment["TERM"] ?? ""
        switch bt_terminal_check() {
        case 0: return nil
        case 1: return .unknownTerm(term)
        case 2: return .noTerminfo
        default: return .cannotAddressCursor(term)
        }
    }

    public init(environment: [String: String]) throws {
        if let p = Self.problem(environment: environment) { throw p }
        setlocale(LC_ALL, "")
        bt_install_crash_handlers()
        guard initscr() != nil else { throw TerminalError.initFailed }
        cbreak()
        noecho()
        nonl()
        keypad(bt_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        bt_enable_wheel()
        var d = ColorDepth.mono
        if environment["NO_COLOR"].map({ !$0.isEmpty }) != true, has_colors() {
            start_color()
            use_default_colors()
            // Truecolor needs a direct-colour terminfo (xterm-direct: COLORS = 2^24); COLORTERM alone
            // cannot make ncurses emit 24-bit sequences, so such terminals get the nearest of 256.
            let n = bt_colors()
            d = n >= 0x100_0000 ? .truecolor : n >= 256 ? .indexed256 : n >= 16 ? .ansi16 : .ansi8
        }
        depth = d
    }

    public var size: (width: Int, height: Int) { (Int(bt_cols()), Int(bt_lines())) }

    /// Waits up to `timeoutMs` for a key; nil on timeout. A negative timeout polls.
    public func readKey(timeoutMs: Int32) -> Key? {
        wtimeout(bt_stdscr(), max(0, timeoutMs))
        var ch: wint_t = 0
        let r = wget_wch(bt_stdscr(), &ch)
        if r == bt_key_code_yes() { return functionKey(Int32(ch)) }
        guard r == OK else { return nil }
        return Terminal.key(forCharacter: UInt32(ch))
    }

    static func key(forCharacter c: UInt32) -> Key? {
        switch c {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .ctrl(Character(Unicode.Scalar(UInt8(c + 96))))
        default:
            guard let s = UnicodeScalar(c) else { return nil }
            return .char(Character(s))
        }
    }

    private func functionKey(_ k: Int32) -> Key? {
        switch k {
        case bt_key_up(): return .up
        case bt_key_down(): return .down
        case bt_key_left(): return .left
        case bt_key_right(): return .right
        case bt_key_sleft(): return .shiftLeft
        case bt_key_sright(): return .shiftRight
        case bt_key_home(): return .home
        case bt_key_end(): return .end
        case bt_key_npage(): return .pageDown
        case bt_key_ppage(): return .pageUp
        case bt_key_enter(): return .enter
        case bt_key_backspace(): return .backspace
        case bt_key_btab(): return .backTab
        case bt_key_resize(): return .resize
        case bt_key_mouse():
            switch bt_wheel() {
            case 1: return .mouseScrollUp
            case 2: return .mouseScrollDown
            default: return nil
            }
        default: return nil
        }
    }

    /// Writes the cells that differ from the last frame, in runs of equal style, then one refresh.
    public func draw(_ grid: CellGrid) {
        if let p = previous, p.width != grid.width || p.height != grid.height { previous = nil }
        if previous == nil { wclear(bt_stdscr()) }
        for y in 0..<grid.height {
            var x = 0
            while x < grid.width {
                if let p = previous, p[x, y] == grid[x, y] {
                    x += 1
                    continue
                }
                let style = grid[x, y].style
                var run: [wchar_t] = []
                var end = x
                while end < grid.width, grid[end, y].style == style, previous.map({ $0[end, y] != grid[end, y] }) ?? true {
                    // The right half of a wide character: the terminal fills it when it draws the left.
                    let c = grid[end, y].scalar
                    if c == CellGrid.presentationContinuation {
                        run.append(0xFE0F)  // after the symbol: emoji presentation, two columns
                    } else if c != CellGrid.continuation {
                        run.append(wchar_t(bitPattern: c.value))
                    }
                    end += 1
                }
                // A run that starts on the right half of a wide character redraws the whole character.
                if x > 0, CellGrid.isContinuation(grid[x, y].scalar) {
                    x -= 1
                    run.insert(wchar_t(bitPattern: grid[x, y].scalar.value), at: 0)
                }
                // ncurses scrolls if the bottom-right cell is written with waddnwstr; skip it.
                if y == grid.height - 1, end == grid.width, run.count > 1 { run.removeLast() }
                let (attrs, pair) = attributes(style)
                _ = bt_put_run(Int32(y), Int32(x), run, Int32(run.count), attrs, pair)
                x = end
            }
        }
        previous = grid
        wnoutrefresh(bt_stdscr())
        doupdate()
    }

    /// Forces the next draw to repaint everything (after resize or Ctrl-L).
    public func invalidate() { previous = nil }

    private func attributes(_ s: Style) -> (attr_t, Int32) {
        var a = bt_a_normal()
        if s.attrs.contains(.bold) { a |= bt_a_bold() }
        if s.attrs.contains(.dim) { a |= bt_a_dim() }
        if s.attrs.contains(.reverse) { a |= bt_a_reverse() }
        if s.attrs.contains(.underline) { a |= bt_a_underline() }
        guard depth != .mono else { return (a, 0) }
        var fg = colorNumber(s.fg)
        var bg = colorNumber(s.bg)
        // 8-colour terminals: show bright ANSI colours as bold normal ones.
        if bt_colors() < 16 {
            if fg >= 8 {
                fg -= 8
                a |= bt_a_bold()
            }
            if bg >= 8 { bg -= 8 }
        }
        // Never text in its own background's colour.
        if fg >= 0, fg == bg { fg = -1 }
        return (a, pair(fg, bg))
    }

    private func colorNumber(_ c: Color) -> Int32 {
        if depth == .truecolor {
            // Direct colour: numbers are 0xRRGGBB, except 0-7, which stay the terminal's ANSI colours.
            switch c {
            case .terminalDefault: return -1
            case .ansi(let n) where n < 8: return Int32(n)
            default:
                let (r, g, b) = c.rgb
                return Int32(r) << 16 | Int32(g) << 8 | Int32(b)
            }
        }
        switch c.resolved(for: depth) {
        case .terminalDefault: return -1
        case .ansi(let n): return Int32(n)
        case .indexed(let n): return Int32(n) < bt_colors() ? Int32(n) : -1
        case .rgb: return -1
        }
    }

    private func pair(_ fg: Int32, _ bg: Int32) -> Int32 {
        if fg == -1 && bg == -1 { return 0 }
        let key = Int64(fg) << 32 | Int64(UInt32(bitPattern: bg))
        if let p = pairs[key] { return p }
        guard nextPair < bt_color_pairs() else { return 0 }
        let p = nextPair
        nextPair += 1
        _ = bt_init_pair(p, fg, bg)
        pairs[key] = p
        return p
    }

    /// A firing alarm: the terminal bell and/or a visual flash, as configured.
    public func alert(bell: Bool, flash doFlash: Bool) {
        if bell { beep() }
        if doFlash { flash() }
    }

    /// Puts the terminal back as it was. Safe to call more than once.
    public func close() {
        guard !closed else { return }
        closed = true
        endwin()
    }

    deinit { close() }
}

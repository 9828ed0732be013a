import BFFTopProtocol

/// A colour as a theme names it. The terminal backend resolves it to what the terminal can show.
public enum Color: Hashable, Sendable {
    /// The terminal's own foreground or background.
    case terminalDefault
    /// One of the 16 ANSI colours (0-7 normal, 8-15 bright).
    case ansi(UInt8)
    /// An index into the 256-colour palette.
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)
}

public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let dim = TextAttributes(rawValue: 2)
    public static let reverse = TextAttributes(rawValue: 4)
    public static let underline = TextAttributes(rawValue: 8)
    public static let italic = TextAttributes(rawValue: 16)
}

public struct Style: Hashable, Sendable {
    public var fg: Color
    public var bg: Color
    public var attrs: TextAttributes

    public init(fg: Color = .terminalDefault, bg: Color = .terminalDefault, attrs: TextAttributes = []) {
        self.fg = fg
        self.bg = bg
        self.attrs = attrs
    }

    public static let plain = Style()

    public func with(_ a: TextAttributes) -> Style {
        var s = self
        s.attrs.formUnion(a)
        return s
    }

    public func on(_ background: Color) -> Style {
        var s = self
        s.bg = background
        return s
    }
}

public struct Cell: Hashable, Sendable {
    public var scalar: Unicode.Scalar
    public var style: Style

    public init(_ scalar: Unicode.Scalar = " ", _ style: Style = .plain) {
        self.scalar = scalar
        self.style = style
    }
}

public struct Rect: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public func inset(_ d: Int) -> Rect { Rect(x: x + d, y: y + d, width: width - 2 * d, height: height - 2 * d) }

    /// Splits off `n` rows from the top: (top, rest).
    public func splitTop(_ n: Int) -> (Rect, Rect) {
        let h = min(max(0, n), height)
        return (Rect(x: x, y: y, width: width, height: h), Rect(x: x, y: y + h, width: width, height: height - h))
    }

    public func splitLeft(_ n: Int) -> (Rect, Rect) {
        let w = min(max(0, n), width)
        return (Rect(x: x, y: y, width: w, height: height), Rect(x: x + w, y: y, width: width - w, height: height))
    }
}

/// The in-memory screen every view draws into. One cell per column: a wide character (CJK, emoji)
/// takes its cell and the next, which holds `CellGrid.continuation`; combining marks and joiners
/// take none (they are left out); control characters show as `?`. Writing over half of a wide
/// character blanks the other half, so no row ever holds a broken one.
public struct CellGrid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int, fill: Cell = Cell()) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.cells = [Cell](repeating: fill, count: self.width * self.height)
    }

    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            cells[y * width + x] = newValue
        }
    }

    /// Marks the right half of a wide character.
    public static let continuation: Unicode.Scalar = "\u{FFFF}"
    /// The right half of a text-default symbol shown as emoji (☀️): its presentation selector
    /// (U+FE0F) goes out after the symbol, so the terminal draws it two columns wide.
    public static let presentationContinuation: Unicode.Scalar = "\u{FFFE}"

    public static func isContinuation(_ s: Unicode.Scalar) -> Bool { s == continuation || s == presentationContinuation }

    public mutating func set(_ x: Int, _ y: Int, _ scalar: Unicode.Scalar, _ style: Style) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let s = CellGrid.printable(scalar)
        let w = DisplayWidth.of(s)
        if w == 2 {
            guard x + 1 < width else { return }
            place(x, y, Cell(s, style), wide: .some(false))
        } else if w == 1 {
            place(x, y, Cell(s, style), wide: nil)
        }
    }

    /// Puts a cell at (x, y) (and its continuation at x + 1 when wide), blanking the other half of
    /// any wide character it covers part of.
    /// `wide`: nil for a narrow character; false for a wide one; true for a text-default symbol
    /// in emoji presentation.
    @inline(__always) private mutating func place(_ x: Int, _ y: Int, _ cell: Cell, wide: Bool?) {
        let row = y * width
        let last = wide != nil ? x + 1 : x
        if CellGrid.isContinuation(cells[row + x].scalar), x > 0 { cells[row + x - 1].scalar = " " }
        if last + 1 < width, CellGrid.isContinuation(cells[row + last + 1].scalar) { cells[row + last + 1].scalar = " " }
        cells[row + x] = cell
        if let presentation = wide {
            cells[row + x + 1] = Cell(presentation ? CellGrid.presentationContinuation : CellGrid.continuation, cell.style)
        }
    }

    /// Writes `text` from (x, y), clipped to `maxWidth` columns (and the grid). Returns columns used.
    /// A wide character that would cross the clip is left out.
    @discardableResult
    public mutating func put(_ x: Int, _ y: Int, _ text: String, _ style: Style, maxWidth: Int = .max) -> Int {
        guard y >= 0, y < height else { return 0 }
        var col = x
        let limit = maxWidth >= width ? width : min(width, x + max(0, maxWidth))
        // One scalar of lookahead (an emoji presentation selector widens the one before it),
        // without building an array: views put thousands of strings a frame.
        var scalars = text.unicodeScalars.makeIterator()
        var next = scalars.next()
        while let raw = next {
            next = scalars.next()
            if col >= limit { break }
            // ASCII (nearly every cell): one column, nothing to look up.
            if raw.value >= 0x20, raw.value < 0x7F {
                if col >= 0 { place(col, y, Cell(raw, style), wide: nil) }
                col += 1
                continue
            }
            let s = CellGrid.printable(raw)
            var w = DisplayWidth.of(s)
            if w == 0 { continue }
            let presentation = w == 1 && next?.value == 0xFE0F
            if presentation { w = 2 }
            if w == 2 {
                guard col + 1 < limit else { break }
                if col >= 0 { place(col, y, Cell(s, style), wide: presentation) }
            } else if col >= 0 {
                place(col, y, Cell(s, style), wide: nil)
            }
            col += w
        }
        return max(0, col - x)
    }

    /// Writes `text` right-aligned so it ends at column `x + width`.
    public mutating func putRight(_ x: Int, _ y: Int, width w: Int, _ text: String, _ style: Style) {
        let t = CellGrid.truncate(text, w)
        put(x + w - t.displayWidth, y, t, style, maxWidth: w)
    }

    public mutating func fill(_ r: Rect, _ cell: Cell = Cell()) {
        for yy in max(0, r.y)..<min(height, r.maxY) {
            for xx in max(0, r.x)..<min(width, r.maxX) { cells[yy * width + xx] = cell }
        }
    }

    /// Sets the style (keeping characters) over a rectangle.
    public mutating func restyle(_ r: Rect, _ transform: (Style) -> Style) {
        for yy in max(0, r.y)..<min(height, r.maxY) {
            for xx in max(0, r.x)..<min(width, r.maxX) { cells[yy * width + xx].style = transform(cells[yy * width + xx].style) }
        }
    }

    /// A box outline with a title in the top border.
    public mutating func box(_ r: Rect, title: String?, _ border: Style, _ titleStyle: Style, focused: Bool = false) {
        guard r.width >= 2, r.height >= 2 else { return }
        let (h, v, tl, tr, bl, br): (Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar, Unicode.Scalar) =
            focused ? ("━", "┃", "┏", "┓", "┗", "┛") : ("─", "│", "╭", "╮", "╰", "╯")
        for xx in r.x + 1..<r.maxX - 1 {
            set(xx, r.y, h, border)
            set(xx, r.maxY - 1, h, border)
        }
        for yy in r.y + 1..<r.maxY - 1 {
            set(r.x, yy, v, border)
            set(r.maxX - 1, yy, v, border)
        }
        set(r.x, r.y, tl, border)
        set(r.maxX - 1, r.y, tr, border)
        set(r.x, r.maxY - 1, bl, border)
        set(r.maxX - 1, r.maxY - 1, br, border)
        if let title, r.width > 4 {
            put(r.x + 1, r.y, " " + CellGrid.truncate(title, r.width - 4) + " ", titleStyle, maxWidth: r.width - 2)
        }
    }

    /// Plain text of the grid, one line per row, trailing spaces kept (snapshot tests compare this).
    public var text: String {
        (0..<height).map { row($0) }.joined(separator: "\n")
    }

    /// A row as a terminal shows it: each wide character once (its continuation cell left out).
    public func row(_ y: Int) -> String {
        var s = String.UnicodeScalarView()
        for x in 0..<width {
            let c = cells[y * width + x].scalar
            if c == CellGrid.presentationContinuation { s.append("\u{FE0F}") } else if c != CellGrid.continuation { s.append(c) }
        }
        return String(s)
    }

    /// Truncates to `w` columns with an ellipsis.
    public static func truncate(_ s: String, _ w: Int) -> String {
        guard w > 0 else { return "" }
        guard s.displayWidth > w else { return s }
        return DisplayWidth.prefix(s, w - 1) + "…"
    }

    /// Control characters (and the continuation marker, should text carry it) show as '?'.
    static func printable(_ s: Unicode.Scalar) -> Unicode.Scalar {
        let v = s.value
        return v < 0x20 || (0x7F..<0xA0).contains(v) || isContinuation(s) ? "?" : s
    }
}

extension Int {
    /// `v` rounded to a whole number of cells in 0 … `limit`: bars and chart heights are computed
    /// from figures that arrive from the outside, and `Int(_:)` traps on a non-finite or huge double.
    init(cells v: Double, limit: Int) {
        guard v > 0 else {
            self = 0
            return
        }
        self = v >= Double(limit) ? limit : Swift.min(limit, Int(v.rounded()))
    }
}

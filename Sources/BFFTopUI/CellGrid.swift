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

/// The in-memory screen every view draws into. One cell per column: bfftop draws only
/// single-width characters (text, box drawing, blocks, braille); wide ones are replaced.
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

    public mutating func set(_ x: Int, _ y: Int, _ scalar: Unicode.Scalar, _ style: Style) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        cells[y * width + x] = Cell(CellGrid.singleWidth(scalar), style)
    }

    /// Writes `text` from (x, y), clipped to `maxWidth` columns (and the grid). Returns columns used.
    @discardableResult
    public mutating func put(_ x: Int, _ y: Int, _ text: String, _ style: Style, maxWidth: Int = .max) -> Int {
        guard y >= 0, y < height else { return 0 }
        var col = x
        let limit = maxWidth >= width ? width : min(width, x + max(0, maxWidth))
        for s in text.unicodeScalars {
            if col >= limit { break }
            if s.properties.generalCategory == .nonspacingMark || s.value == 0x200D || (0xFE00...0xFE0F).contains(s.value) { continue }
            if col >= 0 { cells[y * width + col] = Cell(CellGrid.singleWidth(s), style) }
            col += 1
        }
        return max(0, col - x)
    }

    /// Writes `text` right-aligned so it ends at column `x + width`.
    public mutating func putRight(_ x: Int, _ y: Int, width w: Int, _ text: String, _ style: Style) {
        let t = CellGrid.truncate(text, w)
        put(x + w - t.unicodeScalars.count, y, t, style, maxWidth: w)
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

    public func row(_ y: Int) -> String {
        var s = String.UnicodeScalarView()
        for x in 0..<width { s.append(cells[y * width + x].scalar) }
        return String(s)
    }

    /// Truncates to `w` columns with an ellipsis.
    public static func truncate(_ s: String, _ w: Int) -> String {
        guard w > 0 else { return "" }
        let scalars = Array(s.unicodeScalars)
        guard scalars.count > w else { return s }
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars.prefix(w - 1))
        v.append("…")
        return String(v)
    }

    /// Wide (East Asian, emoji) characters would shift every cell after them; show them as '?'.
    static func singleWidth(_ s: Unicode.Scalar) -> Unicode.Scalar {
        let v = s.value
        if v < 0x1100 { return v < 0x20 || (0x7F..<0xA0).contains(v) ? "?" : s }
        let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v)
        return wide ? "?" : s
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

/// A line chart drawn with braille dots: each cell holds 2×4 dots, so a w×h area plots
/// 2w×4h points. Series are drawn in order; a cell takes the colour of the last series through it.
struct BrailleCanvas {
    let cols: Int
    let rows: Int
    private var dots: [UInt8]
    private var roles: [Role?]

    init(cols: Int, rows: Int) {
        self.cols = max(0, cols)
        self.rows = max(0, rows)
        dots = [UInt8](repeating: 0, count: self.cols * self.rows)
        roles = [Role?](repeating: nil, count: self.cols * self.rows)
    }

    // Dot bit for (dx 0-1, dy 0-3) inside a braille cell (Unicode's numbering).
    private static let bits: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]

    mutating func plot(_ px: Int, _ py: Int, _ role: Role) {
        guard px >= 0, py >= 0, px < cols * 2, py < rows * 4 else { return }
        let i = (py / 4) * cols + px / 2
        dots[i] |= Self.bits[px % 2][py % 4]
        roles[i] = role
    }

    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ role: Role) {
        var (x, y) = (x0, y0)
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        while true {
            plot(x, y, role)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy {
                err += dy
                x += sx
            }
            if e2 <= dx {
                err += dx
                y += sy
            }
        }
    }

    /// Plots `values` (nil = gap) scaled into [0, top], spread across the full width.
    mutating func series(_ values: [Double?], top: Double, role: Role) {
        guard values.count > 0, top > 0, cols > 0, rows > 0 else { return }
        let w = cols * 2, h = rows * 4
        var prev: (Int, Int)?
        for (i, v) in values.enumerated() {
            guard let v else {
                prev = nil
                continue
            }
            let x = values.count == 1 ? w - 1 : i * (w - 1) / (values.count - 1)
            let y = h - 1 - Int(cells: min(v, top) / top * Double(h - 1), limit: h - 1)
            if let (px, py) = prev { line(px, py, x, y, role) } else { plot(x, y, role) }
            prev = (x, y)
        }
    }

    func draw(into p: inout Painter, at x0: Int, _ y0: Int) {
        for r in 0..<rows {
            for c in 0..<cols {
                let i = r * cols + c
                guard dots[i] != 0, let role = roles[i], let s = Unicode.Scalar(0x2800 + UInt32(dots[i])) else { continue }
                p.grid.set(x0 + c, y0 + r, s, p.style(role))
            }
        }
    }
}

/// A "nice" axis maximum: 1, 2 or 5 times a power of ten at or above `v`.
func niceCeiling(_ v: Double) -> Double {
    guard v > 0 else { return 1 }
    var m = 1.0
    while m * 10 <= v { m *= 10 }
    while m > v * 10 { m /= 10 }
    for f in [1.0, 2, 5, 10] where m * f >= v { return m * f }
    return m * 10
}

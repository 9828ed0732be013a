/// `?`: every binding of the active keymap, generated from it.
enum HelpOverlay {
    static func draw(_ s: AppState, _ p: inout Painter) {
        let rows = s.keymap.helpRows
        let keyWidth = min(22, rows.map { $0.keys.count }.max() ?? 8)
        let w = min(p.grid.width - 2, max(36, keyWidth + 6 + (rows.map { $0.help.count }.max() ?? 20)))
        let h = min(p.grid.height - 2, rows.count + 4)
        let r = Rect(x: (p.grid.width - w) / 2, y: max(0, (p.grid.height - h) / 2), width: w, height: h)
        p.grid.fill(r, Cell(" ", p.style(.text)))
        p.grid.box(r, title: "Keys", p.style(.borderFocus), p.style(.title), focused: true)
        for (i, row) in rows.prefix(h - 4).enumerated() {
            let y = r.y + 1 + i
            p.grid.put(r.x + 2, y, CellGrid.truncate(row.keys, keyWidth), p.style(.key))
            p.grid.put(r.x + 3 + keyWidth, y, row.help, p.style(.text), maxWidth: w - keyWidth - 5)
        }
        p.grid.put(r.x + 2, r.maxY - 2, "any key closes this help", p.style(.muted), maxWidth: w - 4)
    }
}

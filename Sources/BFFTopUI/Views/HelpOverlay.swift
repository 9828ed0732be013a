/// `?`: every binding of the active keymap, generated from it (replay keys only in replay).
/// Falls back to two columns when one does not fit the terminal's height.
enum HelpOverlay {
    static func draw(_ s: AppState, _ p: inout Painter) {
        let rows = s.keymap.helpRows(replay: s.frame.playback != nil)
        let keyWidth = min(14, rows.map { $0.keys.count }.max() ?? 8)
        let helpWidth = rows.map { $0.help.count }.max() ?? 20
        let fitRows = max(1, p.grid.height - 6)
        let columns = rows.count > fitRows ? 2 : 1
        let perColumn = (rows.count + columns - 1) / columns
        let columnWidth = keyWidth + 2 + helpWidth
        let w = min(p.grid.width - 2, max(36, columns * columnWidth + 3 * columns + 1))
        let h = min(p.grid.height - 2, perColumn + 4)
        let r = Rect(x: (p.grid.width - w) / 2, y: max(0, (p.grid.height - h) / 2), width: w, height: h)
        p.grid.fill(r, Cell(" ", p.style(.text)))
        p.grid.box(r, title: "Keys", p.style(.borderFocus), p.style(.title), focused: true)
        let colWidth = (w - 3) / columns
        for (i, row) in rows.enumerated() {
            let col = i / perColumn, line = i % perColumn
            guard line < h - 4 else { continue }
            let x = r.x + 2 + col * colWidth
            let y = r.y + 1 + line
            p.grid.put(x, y, CellGrid.truncate(row.keys, keyWidth), p.style(.key))
            p.grid.put(x + keyWidth + 1, y, CellGrid.truncate(row.help, colWidth - keyWidth - 2), p.style(.text))
        }
        p.grid.put(r.x + 2, r.maxY - 2, "any key closes this help", p.style(.muted), maxWidth: w - 4)
    }
}

/// `o`: every column the table sorts by, each with the key that picks it (htop's F6 menu).
enum SortMenuOverlay {
    static func draw(_ s: AppState, _ p: inout Painter) {
        let choices = AppState.sortChoices
        let w = min(p.grid.width - 2, 34)
        let h = min(p.grid.height - 2, choices.count + 4)
        let r = Rect(x: max(0, (p.grid.width - w) / 2), y: max(0, (p.grid.height - h) / 2), width: w, height: h)
        p.grid.fill(r, Cell(" ", p.style(.text)))
        p.grid.box(r, title: "Sort by", p.style(.borderFocus), p.style(.title), focused: true)
        for (i, c) in choices.prefix(max(0, h - 4)).enumerated() {
            let y = r.y + 1 + i
            let current = c.column == s.sortColumn
            let title = c.column == .rpsWindow ? "RPS \(s.window) (window average)" : c.column == .rps ? c.column.title + " (now)" : c.column.title
            p.grid.put(r.x + 2, y, String(c.key), p.style(.key))
            p.grid.put(r.x + 4, y, title + (current ? (s.sortDescending ? " ▼" : " ▲") : ""), p.style(current ? .title : .text), maxWidth: w - 6)
        }
        p.grid.put(r.x + 2, r.maxY - 2, "the current one again reverses", p.style(.muted), maxWidth: w - 4)
    }
}

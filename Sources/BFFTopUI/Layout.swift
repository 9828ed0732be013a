/// Where each pane goes for a terminal size. Pure, so keys (paging) and views agree on sizes.
public struct DashboardLayout: Equatable, Sendable {
    public var header: Rect
    public var table: Rect
    public var detail: Rect
    public var concurrency: Rect
    public var errors: Rect
    public var footer: Rect

    public static let headerRows = 2

    /// `rows`: how many endpoints the table has to show. When they do not fit its usual share (46 %
    /// of the body), the table takes up to 58 %, leaving the panes below at least 9 rows: at 80×24
    /// that is 9 endpoints instead of 6.
    public static func compute(width: Int, height: Int, zoomed: Bool, rows: Int = 0) -> DashboardLayout {
        let full = Rect(x: 0, y: 0, width: width, height: height)
        let (header, rest) = full.splitTop(headerRows)
        let body = Rect(x: 0, y: rest.y, width: width, height: max(0, rest.height - 1))
        let footer = Rect(x: 0, y: height - 1, width: width, height: height >= 3 ? 1 : 0)
        let none = Rect(x: 0, y: 0, width: 0, height: 0)
        if zoomed {
            return DashboardLayout(header: header, table: none, detail: body, concurrency: none, errors: none, footer: footer)
        }
        guard showsBottom(width: width, height: height) else {
            return DashboardLayout(header: header, table: body, detail: none, concurrency: none, errors: none, footer: footer)
        }
        var tableHeight = max(6, body.height * 46 / 100)
        if rows + 3 > tableHeight {
            tableHeight = max(tableHeight, min(rows + 3, body.height * 58 / 100, body.height - 9))
        }
        let (table, bottom) = body.splitTop(tableHeight)
        let (detail, right) = bottom.splitLeft(bottom.width * 56 / 100)
        let (conc, errs) = right.splitTop(right.height / 2)
        return DashboardLayout(header: header, table: table, detail: detail, concurrency: conc, errors: errs, footer: footer)
    }

    static func showsBottom(width: Int, height: Int) -> Bool { width >= 60 && height >= 18 }

    /// The lower-right slot holds errors, alarms or invocations (`A` cycles).
    public static func visiblePanes(width: Int, height: Int, lower: Pane = .errors) -> [Pane] {
        showsBottom(width: width, height: height) ? [.endpoints, .detail, .concurrency, lower] : [.endpoints]
    }

    /// Data rows the endpoints table shows (inside its border, below its column header).
    public static func tableRows(_ s: AppState) -> Int {
        max(0, compute(width: s.width, height: s.height, zoomed: s.zoomed, rows: s.rows.count).table.height - 3)
    }
}

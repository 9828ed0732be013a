import BFFTopStats

/// The filter (`/`) every pane applies, and going to an endpoint from elsewhere (an alarm).
extension AppState {
    /// Whether the filter (`/`) keeps this endpoint: its name, service or kind. Every pane applies it.
    public func matchesFilter(_ f: EndpointFigures) -> Bool {
        guard !filter.isEmpty else { return true }
        let needle = filter.lowercased()
        return f.name.lowercased().contains(needle) || (f.service?.lowercased().contains(needle) ?? false) || f.kind.description.hasPrefix(needle)
    }

    /// The filter for panes that know only an endpoint's name (failures, alarms).
    public func matchesFilter(name: String) -> Bool {
        guard !filter.isEmpty else { return true }
        if let f = displayed.snapshot.endpoints.first(where: { $0.name == name }) { return matchesFilter(f) }
        return name.lowercased().contains(filter.lowercased())
    }

    /// Selects `name` in the table (clearing a filter that hides it) and shows the table.
    mutating func goToEndpoint(_ name: String) {
        zoomed = false
        focus = .endpoints
        if !rows.contains(where: { $0.name == name }) {
            filter = ""
            refreshRows()
        }
        if rows.contains(where: { $0.name == name }) {
            selected = name
        } else {
            message = "\(name) is not in the table (the total, or no longer in the window)"
        }
        clampOffsets()
    }

}

import ArgumentParser
import BFFTopEngine
import BFFTopStats
import BFFTopUI
import BFFTopWire
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-endpoint figures of recordings or Lambda logs, without a terminal (table, json, csv, markdown).",
        discussion: "Exit status is non-zero only when an input cannot be read.")

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json, csv, markdown
    }

    @Argument(help: "Recording or log files.")
    var files: [String]

    @Option(help: "table, json, csv or markdown.")
    var format: OutputFormat = .table

    @Option(help: "What to cover: all (every event of the input) or a window ending at the last event: 1m, 5m, 15m, 1h.")
    var window: String = "all"

    @Option(help: "Function name for Lambda log lines.")
    var function: String = "lambda"

    @OptionGroup var config: ConfigOption

    func validate() throws {
        guard window == "all" || Window(name: window) != nil else { throw ValidationError("--window must be one of all, 1m, 5m, 15m, 1h") }
    }

    func run() async throws {
        let summary: RecordingSummary
        var aggregatorConfig = try config.load().aggregatorConfig
        let all = window == "all"
        aggregatorConfig.keepsLifetime = all
        do {
            summary = try RecordingSummary.read(paths: files, function: function, config: aggregatorConfig)
        } catch {
            throw CLIError(error.description)
        }
        let w = Window(name: window) ?? .oneHour
        // A hair past the last event, so it falls inside the window's last bucket.
        let snap = all ? summary.aggregator.lifetimeSnapshot(now: summary.end + 1e-6)
            : summary.aggregator.snapshot(SnapshotRequest(window: w), now: summary.end + 1e-6)
        let covered = all ? "all" : "last \(w)"
        let rows = snap.endpoints.sorted { ($0.count, $1.name) > ($1.count, $0.name) }
        let columns = ReportColumn.all
        switch format {
        case .json: print(json(rows, snap, summary, all ? nil : w))
        case .csv:
            if let note = lossNote(snap) { printError("bfftop report: \(note)") }
            let csv = ReportColumn.csv
            print(csv.map(\.name).joined(separator: ","))
            for r in rows { print(csv.map { csvField($0.raw(r)) }.joined(separator: ",")) }
        case .markdown:
            if let note = lossNote(snap) { print("> \(note)\n") }
            print("| " + columns.map(\.title).joined(separator: " | ") + " |")
            print("|" + columns.map { $0.numeric ? " ---: |" : " --- |" }.joined())
            for r in rows { print("| " + columns.map { $0.value(r).replacingPipes }.joined(separator: " | ") + " |") }
        case .table:
            let shown = columns.filter(\.inTable)
            // Terminal columns, not characters: CJK and emoji names take two each.
            let widths = shown.map { c in max(c.title.displayWidth, rows.map { c.value($0).displayWidth }.max() ?? 0) }
            func line(_ cells: [String]) -> String {
                zip(zip(cells, widths), shown).map { pair, c in
                    let (cell, width) = pair
                    let pad = String(repeating: " ", count: max(0, width - cell.displayWidth))
                    return c.numeric ? pad + cell : cell + pad
                }.joined(separator: "  ")
            }
            var heading = "window: \(covered) of \(TerminalSafe.clean(files.joined(separator: ", "))) — \(summary.events) events"
            if summary.skippedLines > 0 { heading += ", \(summary.skippedLines) malformed lines skipped" }
            if summary.otherLines > 0 { heading += ", \(summary.otherLines) other log lines" }
            if let note = lossNote(snap) { heading += ", " + note }
            print(heading)
            print(line(shown.map(\.title)))
            for r in rows { print(line(shown.map { $0.value(r) })) }
            print("total: \(snap.totals.count) invocations, \(Format.dollars(snap.totals.cost)), projected \(Format.dollars(snap.totals.projectedPerMonth))/month")
        }
    }

    /// Events read but not counted, and names past the endpoint cap (in the overflow rows).
    func lossNote(_ snap: AggregateSnapshot) -> String? {
        var parts: [String] = []
        if snap.losses.total > 0 { parts.append("\(snap.losses.total) events not counted (\(snap.losses.summary))") }
        if snap.endpointsOverCap > 0 { parts.append("\(snap.endpointsOverCap >= 256 ? "about " : "")\(snap.endpointsOverCap) endpoints over the cap, counted in the (other …) rows") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s
    }

    /// `w` nil: all the input.
    func json(_ rows: [EndpointFigures], _ snap: AggregateSnapshot, _ s: RecordingSummary, _ w: Window?) -> String {
        let from = w.map { Double($0.bucketRange(now: snap.now).lowerBound * Int64($0.resolution)) } ?? s.start
        var out = "{\"window\":\"\(w.map(\.description) ?? "all")\",\"from\":\(JSONObjectWriter.fixed(from, decimals: 3)),"
        out += "\"to\":\(JSONObjectWriter.fixed(s.end, decimals: 6)),\"events\":\(s.events),\"malformed_lines\":\(s.skippedLines),\"other_lines\":\(s.otherLines),"
        out += "\"not_counted\":{\"too_old\":\(snap.losses.tooOld),\"future\":\(snap.losses.future),\"expired\":\(snap.losses.expired)},"
        out += "\"endpoints_over_cap\":\(snap.endpointsOverCap),"
        out += "\"total_cost_usd\":\(usd(snap.totals.cost)),\"projected_usd_per_month\":\(usd(snap.totals.projectedPerMonth)),\"endpoints\":["
        out += rows.map(SnapshotJSON.endpoint).joined(separator: ",")
        return out + "]}"
    }
}

/// Dollars in JSON and CSV: plain decimals to a hundredth of a micro-dollar, no float noise.
func usd(_ v: Double) -> String { JSONObjectWriter.fixed(v, decimals: 8) }

/// One column of the report: `title` over cells that carry their units (table, Markdown); `name`
/// (with the unit) over plain numbers (CSV).
struct ReportColumn: Sendable {
    let name: String
    let title: String
    let numeric: Bool
    let inTable: Bool
    let value: @Sendable (EndpointFigures) -> String
    /// Machine-readable value (plain numbers in the unit `name` says) for CSV.
    let raw: @Sendable (EndpointFigures) -> String

    init(name: String, title: String? = nil, numeric: Bool, inTable: Bool, raw: (@Sendable (EndpointFigures) -> String)? = nil,
         _ value: @escaping @Sendable (EndpointFigures) -> String) {
        self.name = name
        self.title = title ?? name
        self.numeric = numeric
        self.inTable = inTable
        self.value = value
        self.raw = raw ?? value
    }

    static let all: [ReportColumn] = [
        // Names come from the outside: control characters (ESC, OSC, bidi overrides) made inert.
        ReportColumn(name: "endpoint", numeric: false, inTable: true) { TerminalSafe.clean($0.name) },
        ReportColumn(name: "kind", numeric: false, inTable: true) { $0.kind.description },
        ReportColumn(name: "service", numeric: false, inTable: false) { TerminalSafe.clean($0.service ?? "") },
        ReportColumn(name: "count", numeric: true, inTable: true) { "\($0.count)" },
        ReportColumn(name: "rps", numeric: true, inTable: true, raw: { JSONObjectWriter.fixed($0.rps, decimals: 3) }) { Format.count($0.rps) },
        ReportColumn(name: "p50_ms", title: "p50", numeric: true, inTable: true, raw: { rawMs($0.p50) }) { Format.ms($0.p50) },
        ReportColumn(name: "p95_ms", title: "p95", numeric: true, inTable: true, raw: { rawMs($0.p95) }) { Format.ms($0.p95) },
        ReportColumn(name: "p99_ms", title: "p99", numeric: true, inTable: true, raw: { rawMs($0.p99) }) { Format.ms($0.p99) },
        ReportColumn(name: "max_ms", title: "max", numeric: true, inTable: true, raw: { rawMs($0.max) }) { Format.ms($0.max) },
        ReportColumn(name: "errors", numeric: true, inTable: true) { "\($0.errors)" },
        ReportColumn(name: "timeouts", numeric: true, inTable: true) { "\($0.timeouts)" },
        ReportColumn(name: "throttles", numeric: true, inTable: true) { "\($0.throttles)" },
        ReportColumn(name: "counted_failures", title: "counted", numeric: true, inTable: true) { "\($0.countedFailures)" },
        ReportColumn(name: "cold", numeric: true, inTable: true) { "\($0.cold)" },
        ReportColumn(name: "init_p99_ms", title: "init p99", numeric: true, inTable: true, raw: { rawMs($0.initP99) }) { Format.ms($0.initP99) },
        ReportColumn(name: "memory", title: "mem used/size", numeric: true, inTable: true) { r in
            r.memoryMB.map { "\(r.maxMemoryUsedMB.map { Format.count($0) } ?? "?")/\(Format.count($0)) MB" } ?? Format.missing
        },
        // Unknown for endpoints fed only by histograms and counters (no start times): —, not 0.
        ReportColumn(name: "conc_peak", title: "conc peak", numeric: true, inTable: true,
                     raw: { $0.concurrencyKnown ? JSONObjectWriter.fixed($0.concurrencyPeak, decimals: 3) : "" }) {
            $0.concurrencyKnown ? Format.count($0.concurrencyPeak) : Format.missing
        },
        ReportColumn(name: "cost_usd", title: "cost", numeric: true, inTable: true, raw: { usd($0.cost) }) { Format.dollars($0.cost) },
        ReportColumn(name: "per_month_usd", title: "per month", numeric: true, inTable: true, raw: { usd($0.costPerHour * CostModel.hoursPerMonth) }) {
            Format.dollars($0.costPerHour * CostModel.hoursPerMonth)
        },
        ReportColumn(name: "fan_out_cost_usd", title: "fan-out cost", numeric: true, inTable: true, raw: { usd($0.fanOutCost) }) {
            $0.fanOutCost > 0 ? Format.dollars($0.fanOutCost) : Format.missing
        },
    ]

    /// CSV's columns: one figure each (memory used and size apart), plain numbers.
    static var csv: [ReportColumn] {
        all.flatMap { c -> [ReportColumn] in
            guard c.name == "memory" else { return [c] }
            return [
                ReportColumn(name: "max_memory_used_mb", numeric: true, inTable: false) { r in r.maxMemoryUsedMB.map { JSONObjectWriter.fixed($0, decimals: 3) } ?? "" },
                ReportColumn(name: "memory_mb", numeric: true, inTable: false) { r in r.memoryMB.map { JSONObjectWriter.fixed($0, decimals: 3) } ?? "" },
            ]
        }
    }
}

func rawMs(_ v: Double?) -> String { v.map { JSONObjectWriter.fixed($0, decimals: 3) } ?? "" }

extension String {
    var replacingPipes: String { split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|") }
}

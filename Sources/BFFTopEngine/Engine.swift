import BFFTopStats
import BFFTopWire
import Synchronization

/// The one engine: the aggregator, the alarm engine and the clock they share. Live (`LiveEngine`),
/// replay (`ReplayEngine`), report (`RecordingSummary`), the engine fuzz target and the bench all
/// feed it the same way — events in, then time passes — so a figure or an alarm is computed one
/// way whatever brought the events. Not thread-safe: one thread owns it (the engine thread).
public final class Engine {
    public let aggregator: Aggregator
    public private(set) var alarms: AlarmEngine
    /// The last whole second the clock was brought to.
    private var second = Int64.min
    /// Each live source's name ids mapped to endpoints (packed events).
    private var names = BatchNameMappings()

    public init(config: AggregatorConfig = AggregatorConfig(), alarms rules: [AlarmRule] = []) {
        aggregator = Aggregator(config: config)
        alarms = AlarmEngine(rules: rules)
    }

    /// Time passes to `t` (event time in replay and report, the receive clock live): at each new whole
    /// second, alarms are judged for every second up to it and the aggregator brings its buckets and
    /// concurrency forward (`Aggregator.passTime`). Within a second it costs one comparison, so it
    /// is called before every event's aggregation in replay's hot loop.
    @inline(__always) public func passTime(to t: Double) {
        let s = wholeSecond(t)
        guard s > second else { return }
        second = s
        alarms.evaluate(aggregator, upTo: t)
        aggregator.passTime(to: t)
    }

    /// A batch of decoded events, stamped with their receive time (time passes separately: live
    /// passes it once all the batches of a round are in, so each second is judged on all of them).
    /// Packed events are aggregated by their source's name ids, as replay's are.
    public func ingest(_ batch: WireEventBatch) {
        names.ingest(batch, into: aggregator)
    }

    /// A reloaded config: new alarm rules (judged afresh from the next second; the alarm log goes
    /// on), and per-endpoint settings and prices for what arrives from now on.
    public func reconfigure(_ r: EngineReconfiguration) {
        let log = alarms.onTransition
        alarms = AlarmEngine(rules: r.alarms)
        alarms.onTransition = log
        aggregator.reconfigure(functions: r.functions, cost: r.cost)
    }

    /// Sources whose name tables the engine keeps (each is forgotten when its batches say it closed).
    public var nameSources: Int { names.sources }

    /// What the UI draws at `now`: figures for `request` and the alarms' state.
    public func frame(_ request: SnapshotRequest, now: Double) -> (snapshot: AggregateSnapshot, alarms: AlarmSnapshot) {
        aggregator.hideTestTraffic = request.hideTestTraffic
        return (aggregator.snapshot(request, now: now), alarms.snapshot)
    }
}

/// What a config reload changes in a running engine.
public struct EngineReconfiguration: Sendable {
    public var alarms: [AlarmRule]
    public var functions: [FunctionSettings]
    public var cost: CostModel

    public init(alarms: [AlarmRule], functions: [FunctionSettings], cost: CostModel) {
        self.alarms = alarms
        self.functions = functions
        self.cost = cost
    }
}

/// What the UI asks of an engine thread besides frames (acknowledgements, config reloads), queued
/// from the UI's thread and applied on the engine's between rounds: one queue for live and replay.
final class EngineRequests: Sendable {
    private struct Pending {
        var acks: [AlarmAcknowledgement] = []
        var reconfigurations: [EngineReconfiguration] = []
        var lifetimeReplies: [@Sendable (LifetimeExport) -> Void] = []
    }

    private let pending = Mutex(Pending())

    func acknowledge(_ which: AlarmAcknowledgement) { pending.withLock { $0.acks.append(which) } }
    func reconfigure(_ r: EngineReconfiguration) { pending.withLock { $0.reconfigurations.append(r) } }
    func lifetime(_ reply: @escaping @Sendable (LifetimeExport) -> Void) { pending.withLock { $0.lifetimeReplies.append(reply) } }

    /// Applies what is queued; true when the alarms changed (a frame should go out at once).
    /// Lifetime requests are answered with one export built for all of them.
    func apply(to engine: Engine, now: Double, frame: @autoclosure () -> EngineFrame) -> Bool {
        let p = pending.withLock { p in defer { p = Pending() }; return p }
        for r in p.reconfigurations { engine.reconfigure(r) }
        for a in p.acks { engine.alarms.acknowledge(a) }
        if !p.lifetimeReplies.isEmpty {
            let export = engine.lifetimeExport(now: now, frame: frame())
            for reply in p.lifetimeReplies { reply(export) }
        }
        return !p.acks.isEmpty || !p.reconfigurations.isEmpty
    }
}

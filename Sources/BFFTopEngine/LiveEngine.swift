#if canImport(Glibc)
import Glibc
#endif
import BFFTopStats
import BFFTopWire
import Dispatch
import Synchronization

/// What the UI draws from: the aggregation snapshot plus the ingest counters at the same moment.
public struct EngineFrame: Sendable, Equatable {
    public var snapshot: AggregateSnapshot
    public var ingest: IngestStatus
    /// Events aggregated per second, over the last refresh interval.
    public var eventsPerSecond: Double
    /// Events dropped because the engine fell behind.
    public var backlogDropped: Int
    public var sequence: Int
    /// Present while `--record` is on.
    public var recording: RecordingStatus?
    /// Present in replay.
    public var playback: PlaybackStatus?
    public var alarms = AlarmSnapshot()

    public init(snapshot: AggregateSnapshot, ingest: IngestStatus, eventsPerSecond: Double = 0, backlogDropped: Int = 0, sequence: Int = 0,
                recording: RecordingStatus? = nil, playback: PlaybackStatus? = nil) {
        self.recording = recording
        self.playback = playback
        self.snapshot = snapshot
        self.ingest = ingest
        self.eventsPerSecond = eventsPerSecond
        self.backlogDropped = backlogDropped
        self.sequence = sequence
    }
}

/// Owns the aggregator on one dedicated thread: drains the mailbox, and every `refreshInterval`
/// (or when the UI asks) publishes an immutable `EngineFrame`. The UI never touches the aggregator.
public final class LiveEngine: Sendable {
    public let mailbox: EventMailbox
    public let stats: IngestStats
    private let refreshInterval: Double
    private let request = RequestSlot()
    private let latest: Mutex<EngineFrame>
    private let running = Atomic<Bool>(true)
    private let aggregatedCount = Atomic<Int>(0)
    private let finished = DispatchSemaphore(value: 0)
    private let clock: @Sendable () -> Double
    private let config: AggregatorConfig
    private let recorder: Recorder?
    private let alarmRules: [AlarmRule]
    private let alarmLog: AlarmLog?
    private let requests = EngineRequests()

    public init(
        mailbox: EventMailbox = EventMailbox(), stats: IngestStats, refreshInterval: Double = 1,
        config: AggregatorConfig = AggregatorConfig(), recorder: Recorder? = nil, alarms: [AlarmRule] = [],
        alarmLog: AlarmLog? = nil, clock: @escaping @Sendable () -> Double = wallClock
    ) {
        self.alarmRules = alarms
        self.alarmLog = alarmLog
        self.recorder = recorder
        self.mailbox = mailbox
        self.stats = stats
        self.refreshInterval = refreshInterval
        self.clock = clock
        var c = config
        if c.startedAt == nil { c.startedAt = clock() }
        self.config = c
        self.latest = Mutex(EngineFrame(snapshot: .empty(now: clock()), ingest: stats.snapshot()))
    }

    public func start() {
        recorder?.start()
        startThread(name: "bfftop-engine") { [self] in self.run() }
    }

    private func run() {
        let engine = Engine(config: config, alarms: alarmRules)
        let aggregator = engine.aggregator
        if let log = alarmLog { engine.alarms.onTransition = { log.write($0) } }
        var lastPublish = 0.0
        var lastCount = 0
        var sequence = 0
        var roundStart = 0.0
        while running.load(ordering: .relaxed) {
            // Rounds at most once a millisecond while events flow: each takes everything queued
            // since, so a steady stream of small batches costs one wake a millisecond, not one each.
            let quiet = roundStart + Self.minimumRound - monotonicSeconds()
            if quiet > 0 { usleep(UInt32(quiet * 1e6)) }
            let batches = mailbox.take(waitingUpTo: min(0.1, refreshInterval))
            roundStart = batches.isEmpty ? 0 : monotonicSeconds()
            // To the recorder first: it writes while the engine aggregates, so a kill -9 loses
            // only what is in flight between the two at that instant.
            for batch in batches { recorder?.record(batch) }
            for batch in batches { engine.ingest(batch) }
            // Time passes on the receive clock, also when nothing arrives: alarms go on being judged.
            let now = clock()
            engine.passTime(to: now)
            aggregatedCount.store(aggregator.eventsAggregated, ordering: .relaxed)
            var (req, urgent) = request.take()
            if requests.apply(to: engine, now: now, frame: latest.withLock { $0 }) { urgent = true }
            guard urgent || now - lastPublish >= refreshInterval else { continue }
            let (snap, alarms) = engine.frame(req, now: now)
            let elapsed = lastPublish > 0 ? now - lastPublish : 0
            let rate = elapsed > 0 ? Double(aggregator.eventsAggregated - lastCount) / elapsed : 0
            sequence += 1
            var frame = EngineFrame(
                snapshot: snap, ingest: stats.snapshot(), eventsPerSecond: rate, backlogDropped: mailbox.dropped,
                sequence: sequence, recording: recorder?.currentStatus)
            frame.alarms = alarms
            latest.withLock { $0 = frame }
            lastPublish = now
            lastCount = aggregator.eventsAggregated
        }
        finished.signal()
    }

    /// The shortest time between two rounds of aggregation while events keep arriving.
    static let minimumRound = 0.001

    /// Events aggregated so far (updated after every drain, not only with frames).
    public var eventsAggregated: Int { aggregatedCount.load(ordering: .relaxed) }

    /// The newest frame.
    public func frame() -> EngineFrame { latest.withLock { $0 } }

    /// Changes what snapshots contain; the next one is built right away.
    public func update(_ r: SnapshotRequest) {
        if request.set(r) { mailbox.poke() }
    }

    public func reconfigure(_ r: EngineReconfiguration) {
        requests.reconfigure(r)
        mailbox.poke()
    }

    public func acknowledgeAlarms(_ which: AlarmAcknowledgement) {
        requests.acknowledge(which)
        mailbox.poke()
    }

    /// Everything taken since the start (the config must keep lifetimes), built on the engine
    /// thread between rounds and handed to `reply` there.
    public func lifetime(_ reply: @escaping @Sendable (LifetimeExport) -> Void) {
        requests.lifetime(reply)
        mailbox.poke()
    }

    public func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        mailbox.poke()
        _ = finished.wait(timeout: .now() + 2)
        recorder?.stop()
    }
}

/// The UI's latest `SnapshotRequest`, handed to an engine thread: `set` reports whether it changed
/// (so the engine can build a frame at once), `take` returns it with that changed-flag and clears it.
final class RequestSlot: Sendable {
    private let state = Mutex((request: SnapshotRequest(), changed: false))

    func set(_ r: SnapshotRequest) -> Bool {
        state.withLock { s in
            guard s.request != r else { return false }
            s = (r, true)
            return true
        }
    }

    func take() -> (request: SnapshotRequest, changed: Bool) {
        state.withLock { s in
            defer { s.changed = false }
            return s
        }
    }
}

/// Anything the dashboard can draw from: the live engine now, a replay driver later.
public protocol FrameSource: Sendable {
    func frame() -> EngineFrame
    func update(_ request: SnapshotRequest)
    /// Playback control; live sources ignore it.
    func control(_ command: PlaybackCommand)
    /// Marks firing alarms as seen: all, or one rule's on one endpoint.
    func acknowledgeAlarms(_ which: AlarmAcknowledgement)
    /// A reloaded config's alarm rules and per-endpoint settings.
    func reconfigure(_ r: EngineReconfiguration)
}

extension LiveEngine: FrameSource {}

import BFFTopStats
import BFFTopWire
import Dispatch
import Synchronization

/// Where a replay is: shown as the header's progress bar.
public struct PlaybackStatus: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var position: Double
    /// Multiplier on real time; `.infinity` for `--speed max`.
    public var speed: Double
    public var paused: Bool
    public var files: [String]
    public var skippedLines: Int
    public var truncatedLastLines: Int
    /// Log lines with nothing to aggregate (START/END, application output).
    public var otherLines: Int = 0
    /// Seconds of event time without events that playback jumped over.
    public var skippedSilence: Double = 0

    public init(start: Double, end: Double, position: Double, speed: Double, paused: Bool, files: [String],
                skippedLines: Int, truncatedLastLines: Int, otherLines: Int = 0, skippedSilence: Double = 0) {
        self.otherLines = otherLines
        self.skippedSilence = skippedSilence
        self.start = start
        self.end = end
        self.position = position
        self.speed = speed
        self.paused = paused
        self.files = files
        self.skippedLines = skippedLines
        self.truncatedLastLines = truncatedLastLines
    }

    public var fraction: Double { end > start ? min(1, max(0, (position - start) / (end - start))) : 1 }
    public var atEnd: Bool { position >= end }
}

/// What the UI asks of a replay.
public enum PlaybackCommand: Sendable, Equatable {
    case togglePause
    case seekBy(Double)
    case seekTo(Double)
    case faster, slower
    case jumpToStart, jumpToEnd
}

extension LiveEngine {
    public func control(_ command: PlaybackCommand) {}
}

/// Drives the same aggregation as live from recorded files on a virtual clock. Seeking backwards
/// rebuilds the aggregation from the first event, so a position always shows exactly what playing
/// to it from the start would have shown.
public final class ReplayEngine: FrameSource {
    public static let speeds: [Double] = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 100, 300, 1000, .infinity]

    private let paths: [String]
    private let refreshInterval: Double
    private let commands = Mutex<[PlaybackCommand]>([])
    private let request = RequestSlot()
    private let latest: Mutex<EngineFrame>
    private let running = Atomic<Bool>(true)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    public let span: (start: Double, end: Double)
    private let window: (from: Double, to: Double)
    private let initialSpeed: Double
    private let function: String
    private let config: AggregatorConfig
    private let alarmRules: [AlarmRule]
    private let decoding: ReplayDecoding
    private let requests = EngineRequests()

    /// `from`/`to` limit playback (absolute Unix times); playback starts paused at `from` when
    /// `startPaused`.
    public init(paths: [String], speed: Double = 1, from: Double? = nil, to: Double? = nil, refreshInterval: Double = 0.25,
                function: String = "lambda", config: AggregatorConfig = AggregatorConfig(), alarms: [AlarmRule] = [],
                decoding: ReplayDecoding = ReplayDecoding()) throws(ReplayError) {
        self.decoding = decoding
        self.config = config
        self.alarmRules = alarms
        self.paths = paths
        self.function = function
        self.refreshInterval = refreshInterval
        let s = try RecordingStream.span(paths: paths, function: function)
        span = s
        let lo = max(s.start, from ?? s.start)
        let hi = min(s.end, to ?? s.end)
        window = (lo, max(lo, hi))
        initialSpeed = speed
        var status = IngestStatus(listenPath: nil)
        status.connections = []
        latest = Mutex(EngineFrame(snapshot: .empty(now: lo), ingest: status))
    }

    /// First and last event times of the files (without reading them whole).
    public static func span(of paths: [String], function: String = "lambda") throws(ReplayError) -> (start: Double, end: Double) {
        try RecordingStream.span(paths: paths, function: function)
    }

    public func frame() -> EngineFrame { latest.withLock { $0 } }

    public func update(_ r: SnapshotRequest) {
        if request.set(r) { wake.signal() }
    }

    public func reconfigure(_ r: EngineReconfiguration) {
        requests.reconfigure(r)
        wake.signal()
    }

    public func acknowledgeAlarms(_ which: AlarmAcknowledgement) {
        requests.acknowledge(which)
        wake.signal()
    }

    public func control(_ command: PlaybackCommand) {
        commands.withLock { $0.append(command) }
        wake.signal()
    }

    public func start() {
        startThread(name: "bfftop-replay") { [self] in self.run() }
    }

    public func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        wake.signal()
        _ = finished.wait(timeout: .now() + 2)
    }

    // MARK: - Engine thread

    /// The aggregator and the alarms, fed together on the virtual clock: alarm seconds are evaluated
    /// between events exactly as live, whatever the speed, so a seek rebuilds them identically.
    private struct Player {
        var engine: Engine
        var stream: PrefetchingStream
        var fed = 0
        /// Nothing is left to read.
        var exhausted = false

        init(paths: [String], startedAt: Double, function: String, config: AggregatorConfig, alarms: [AlarmRule],
             decoding: ReplayDecoding) throws(ReplayError) {
            var c = config
            c.startedAt = startedAt
            engine = Engine(config: c, alarms: alarms)
            stream = try PrefetchingStream(paths: paths, function: function, decoding: decoding)
        }

        /// The time of the next event (waiting for the reader); nil at the end.
        var pendingTime: Double? { stream.peekTime() }

        /// Feeds every event up to and including time `t`, then time passes to `t`; at most `limit`
        /// events. Stops early (between runs of one second's events) once `cancelled` says so:
        /// quitting never waits for a long seek.
        mutating func feed(upTo t: Double, limit: Int = .max, cancelled: () -> Bool = { false }) -> Double? {
            var last: Double?
            var n = 0
            while n < limit, !cancelled() {
                guard let time = stream.peekTime() else {
                    exhausted = true
                    engine.passTime(to: t)
                    return last
                }
                if time > t {
                    engine.passTime(to: t)
                    return last
                }
                // The rest of this second's events up to t (time passes before the run).
                let run = stream.ingestRun(upTo: t, limit: limit - n, into: engine)
                last = run.last ?? last
                n += run.count
                fed += run.count
            }
            return last
        }
    }

    private func run() {
        defer { finished.signal() }
        guard var player = try? Player(paths: paths, startedAt: window.from, function: function, config: config, alarms: alarmRules, decoding: decoding) else { return }
        defer { player.stream.stop() }
        var position = window.from
        let cancelled = { !self.running.load(ordering: .relaxed) }
        _ = player.feed(upTo: position, cancelled: cancelled)
        var speed = initialSpeed
        var paused = false
        var lastWall = monotonicSeconds()
        var lastPublish = 0.0
        var sequence = 0
        var skippedSilence = 0.0
        func seek(_ target: Double) {
            let t = min(max(target, window.from), window.to)
            if t < position, let fresh = try? Player(paths: paths, startedAt: window.from, function: function, config: config, alarms: alarmRules, decoding: decoding) {
                player = fresh  // backwards: rebuild deterministically from the first event
            }
            position = t
            _ = player.feed(upTo: t, cancelled: cancelled)
        }
        while running.load(ordering: .relaxed) {
            var urgent = false
            for c in commands.withLock({ cs -> [PlaybackCommand] in defer { cs = [] }; return cs }) {
                urgent = true
                switch c {
                case .togglePause:
                    if position >= window.to && paused {
                        seek(window.from)
                        paused = false
                    } else {
                        paused.toggle()
                    }
                case .seekBy(let d): seek(position + d)
                case .seekTo(let t): seek(t)
                case .faster: speed = Self.step(speed, up: true)
                case .slower: speed = Self.step(speed, up: false)
                case .jumpToStart: seek(window.from)
                case .jumpToEnd: seek(window.to)
                }
            }
            if position >= window.to { paused = true }
            let now = monotonicSeconds()
            let wallDelta = now - lastWall
            lastWall = now
            if !paused, position < window.to {
                if speed.isInfinite {
                    // As fast as the aggregator goes, publishing frames as we pass through.
                    if let t = player.feed(upTo: window.to, limit: 200_000) { position = t }
                    if player.exhausted || (player.pendingTime ?? -.infinity) > window.to { position = window.to }
                } else {
                    position = min(window.to, position + wallDelta * speed)
                    // Silence is skipped: a gap that would take more than `maxSilence` of wall time
                    // at this speed jumps to a second (of wall time) before the next event.
                    if let next = player.pendingTime, next > position + Self.maxSilence * speed {
                        let target = min(window.to, next - speed)
                        skippedSilence += target - position
                        position = target
                    }
                    _ = player.feed(upTo: position, cancelled: cancelled)
                }
                if position >= window.to {
                    paused = true
                    urgent = true  // the end shows at once, not at the next refresh
                }
            }
            var (req, changed) = request.take()
            if requests.apply(to: player.engine, now: position, frame: latest.withLock { $0 }) { changed = true }
            if urgent || changed || now - lastPublish >= refreshInterval {
                let (snap, alarms) = player.engine.frame(req, now: position)
                sequence += 1
                let status = PlaybackStatus(
                    start: window.from, end: window.to, position: position, speed: speed, paused: paused, files: paths,
                    skippedLines: player.stream.counters.skipped, truncatedLastLines: player.stream.counters.truncatedLastLines,
                    otherLines: player.stream.counters.otherLines, skippedSilence: skippedSilence)
                var ingest = IngestStatus(listenPath: nil)
                ingest.events = player.fed
                ingest.malformed = player.stream.counters.skipped
                var frame = EngineFrame(snapshot: snap, ingest: ingest, eventsPerSecond: 0, sequence: sequence, playback: status)
                frame.alarms = alarms
                latest.withLock { $0 = frame }
                lastPublish = now
            }
            if paused || !speed.isInfinite { _ = wake.wait(timeout: .now() + 0.05) }
        }
    }

    /// The longest stretch without events that plays out, in seconds of wall time; longer ones are skipped.
    static let maxSilence = 3.0

    /// The next speed up or down the ladder 0.1× … 1000×, max.
    public static func step(_ speed: Double, up: Bool) -> Double {
        if up { return speeds.first { $0 > speed } ?? speed }
        return speeds.last { $0 < speed } ?? speed
    }
}

/// Everything in some recordings, aggregated at once (for `bfftop report`).
public struct RecordingSummary {
    public let aggregator: Aggregator
    public let start: Double
    public let end: Double
    public let events: Int
    public let skippedLines: Int
    public let otherLines: Int
    public let truncatedLastLines: Int

    public static func read(paths: [String], function: String = "lambda", config base: AggregatorConfig = AggregatorConfig(),
                            decoding: ReplayDecoding = ReplayDecoding()) throws(ReplayError) -> RecordingSummary {
        guard let first = try RecordingStream(paths: paths, function: function).peekTime else { throw .noEvents(paths: paths) }
        var config = base
        config.startedAt = first
        let stream = try PrefetchingStream(paths: paths, function: function, decoding: decoding)
        defer { stream.stop() }
        let engine = Engine(config: config)
        var last = first
        var n = 0
        while let t = stream.peekTime() {
            let run = stream.ingestRun(upTo: .infinity, limit: .max, into: engine)
            last = max(last, run.last ?? t)
            n += run.count
        }
        let agg = engine.aggregator
        return RecordingSummary(
            aggregator: agg, start: first, end: last, events: n, skippedLines: stream.counters.skipped,
            otherLines: stream.counters.otherLines, truncatedLastLines: stream.counters.truncatedLastLines)
    }
}

import BFFTopEngine
import BFFTopWire

/// What every DogStatsD reader does with a packet, whatever the socket: parse each message, map
/// it to events (or keep it as a raw metric), count everything, and hand a read's events to the
/// engine's mailbox in one batch.
struct DogStatsDBatcher: Sendable {
    let sink: any EventSink
    let stats: IngestStats
    let mapper: DogStatsDMapper

    struct Batch {
        var events: [WireEvent] = []
        var packets = 0, metrics = 0, other = 0, mapped = 0, truncated = 0, clientDropped = 0
        var raw: [DogStatsDMetric] = []
        var malformed: [MalformedLine] = []
    }

    func handle(_ packet: UnsafeRawBufferPointer, into b: inout Batch) {
        b.packets += 1
        let now = wallClock()
        DogStatsDParser.parsePacket(packet) { r in
            switch r {
            case .success(.metric(let m)):
                b.metrics += 1
                switch mapper.map(m, at: now) {
                case .events(let e):
                    b.events += e
                    b.mapped += 1
                case .raw: b.raw.append(m)
                case .clientDropped(let n):
                    b.clientDropped += n
                    b.raw.append(m)
                case .refused(let e):
                    b.malformed.append(MalformedLine(connection: 0, origin: "dogstatsd", reason: e.reason, excerpt: LineDecoder.excerpt(packet)))
                }
            case .success: b.other += 1
            case .failure(let e):
                b.malformed.append(MalformedLine(connection: 0, origin: "dogstatsd", reason: e.reason, excerpt: LineDecoder.excerpt(packet)))
            }
        }
    }

    func flush(_ b: Batch) {
        if !b.events.isEmpty { sink.deliver(WireEventBatch(receivedAt: wallClock(), events: b.events)) }
        let now = wallClock()
        stats.dogstatsd { d in
            d.packets += b.packets
            d.metrics += b.metrics
            d.eventsAndChecks += b.other
            d.mapped += b.mapped
            d.truncated += b.truncated
            d.clientDropped += b.clientDropped
            for m in b.raw { d.noteRaw(m, at: now) }
        }
        for m in b.malformed { stats.dogstatsdMalformed(m) }
    }

    func malformed(_ reason: String) {
        stats.dogstatsdMalformed(MalformedLine(connection: 0, origin: "dogstatsd", reason: reason, excerpt: ""))
    }
}

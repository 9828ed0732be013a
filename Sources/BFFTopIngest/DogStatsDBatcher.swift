import BFFTopEngine
import BFFTopWire

/// What every DogStatsD reader does with a packet, whatever the socket: read each message, map it
/// to events (or keep it as a raw metric), count everything, and hand a read's events to the
/// engine's mailbox in one batch. The hot case (a successful timing of an endpoint) is read from
/// the bytes into packed invocations (`DogStatsDPacker`); the rest is parsed and mapped in general.
struct DogStatsDBatcher: Sendable {
    let sink: any EventSink
    let stats: IngestStats
    let mapper: DogStatsDMapper

    /// One per reader (the datagram thread, a stream connection): its name table and source id.
    struct Reader {
        var packer: DogStatsDPacker
        var namesSent = 0
        let source = BatchSource.next()
    }

    struct Batch {
        var events: WireEventBatch
        var packets = 0, metrics = 0, other = 0, mapped = 0, truncated = 0, clientDropped = 0
        var raw: [DogStatsDMetric] = []
        var malformed: [MalformedLine] = []

        init(_ reader: Reader) {
            events = WireEventBatch(receivedAt: 0, events: [])
            events.source = reader.source
        }

    }

    func reader() -> Reader { Reader(packer: DogStatsDPacker(mapper: mapper)) }

    /// Reads one packet received at `now`.
    func handle(_ packet: UnsafeRawBufferPointer, at now: Double, into b: inout Batch, reader: inout Reader) {
        b.packets += 1
        DogStatsDParser.forEachMessage(packet) { message in
            if reader.packer.pack(message, at: now, into: &b.events.packed) {
                b.metrics += 1
                b.mapped += 1
                return
            }
            switch DogStatsDParser.parse(message) {
            case .success(.metric(let m)):
                b.metrics += 1
                switch mapper.map(m, at: now) {
                case .events(let e):
                    for event in e { b.events.append(general: event) }
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

    func flush(_ b: Batch, reader: inout Reader, closing: Bool = false) {
        var events = b.events
        events.takeNewNames(reader.packer.names.names, sent: &reader.namesSent)
        events.closesSource = closing
        if events.count > 0 || !events.newNames.isEmpty || closing {
            events.receivedAt = wallClock()
            sink.deliver(events)
        }
        guard b.packets > 0 || !b.malformed.isEmpty else { return }
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

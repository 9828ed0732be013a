import BFFTopEngine
import BFFTopProtocol
import BFFTopStats
import BFFTopWire
import Testing

/// Live ingest on the packed path: what a connection's lines become through `LineDecoder` batches
/// and the engine equals the same lines read one by one by the general decoder and aggregated as
/// events; names cross once per connection and are forgotten when it closes.
@Suite struct LivePackedPathTests {
    static let t0 = 1_733_450_000.0

    /// Lines as emitters send them: successes (packed), failures, starts, gauges and counts (general),
    /// over several connections that share names.
    static func lines(connection c: Int, count: Int) -> [String] {
        (0..<count).map { i in
            let t = t0 + Double(i) * 0.01
            let route = "GET /api/r\((i * 7 + c) % 5)"
            switch i % 11 {
            case 3: return #"{"v":1,"type":"invocation","ts":\#(t),"endpoint":"\#(route)","kind":"route","duration_ms":120,"status":503,"error":"upstream"}"#
            case 5: return #"{"v":1,"type":"start","ts":\#(t),"endpoint":"fn-\#(c)","kind":"function","id":"req-\#(i)"}"#
            case 6: return #"{"v":1,"type":"invocation","ts":\#(t),"endpoint":"fn-\#(c)","kind":"function","duration_ms":40,"id":"req-\#(i - 1)","cold_start":true,"init_ms":200,"memory_mb":512}"#
            case 8: return #"{"v":1,"type":"concurrency","ts":\#(t),"endpoint":"fn-\#(c)","kind":"function","value":3,"limit":10}"#
            default:
                return #"{"v":1,"type":"invocation","ts":\#(t),"endpoint":"\#(route)","kind":"route","duration_ms":\#(5 + i % 37),"status":200,"service":"web","parent":null}"#
            }
        }
    }

    static func decode(_ line: String) throws -> WireEvent {
        try Array(line.utf8).withUnsafeBytes { NativeDecoder().decode($0) }.get()
    }

    @Test func connectionsBatchesGiveTheFiguresOfTheGeneralPath() throws {
        let live = Engine()
        let reference = Aggregator()
        var received = Self.t0
        var decoders = (0..<3).map { LineDecoder(connection: $0 + 1, origin: "test") }
        let all = (0..<3).map { Self.lines(connection: $0, count: 600) }
        var packedSeen = 0
        // Interleaved reads of 50 lines per connection, each read one batch.
        for chunk in stride(from: 0, to: 600, by: 50) {
            for c in 0..<3 {
                let text = all[c][chunk..<(chunk + 50)].joined(separator: "\n") + "\n"
                _ = Array(text.utf8).withUnsafeBytes { decoders[c].consume($0) }
                received += 0.5
                let (batch, malformed, _) = decoders[c].takeBatch(receivedAt: received)
                #expect(malformed.isEmpty)
                packedSeen += batch.packed.count
                live.ingest(batch)
                for line in all[c][chunk..<(chunk + 50)] {
                    reference.ingest(try Self.decode(line), receivedAt: received)
                }
            }
        }
        #expect(packedSeen > 1_000, "most successes take the packed path")
        let request = SnapshotRequest(window: .fiveMinutes)
        let now = received + 1
        #expect(live.aggregator.snapshot(request, now: now) == reference.snapshot(request, now: now))
        #expect(live.nameSources == 3)
        for c in 0..<3 { live.ingest(decoders[c].takeBatch(receivedAt: received, closing: true).batch) }
        #expect(live.nameSources == 0, "closed connections' names are forgotten")
    }

    @Test func aFullMailboxDropsEventsButKeepsTheNamesLaterBatchesNeed() throws {
        let mailbox = EventMailbox(capacity: 10)
        var d = LineDecoder(connection: 1, origin: "test")
        let engine = Engine()
        func send(_ lines: [String]) {
            let text = lines.joined(separator: "\n") + "\n"
            _ = Array(text.utf8).withUnsafeBytes { d.consume($0) }
            mailbox.deliver(d.takeBatch(receivedAt: Self.t0 + 1).batch)
        }
        let first = Self.lines(connection: 0, count: 30).filter { $0.contains(#""status":200"#) }
        send(first)  // over the capacity: dropped, its names kept
        #expect(mailbox.dropped == first.count)
        for b in mailbox.take(waitingUpTo: 0) { engine.ingest(b) }
        send(Array(first.prefix(5)))  // names the first batch introduced
        for b in mailbox.take(waitingUpTo: 0) { engine.ingest(b) }
        let snap = engine.aggregator.snapshot(SnapshotRequest(window: .fiveMinutes), now: Self.t0 + 2)
        #expect(snap.totals.count == 5)
        let expected = Set(try first.prefix(5).map { try Self.decode($0).endpoint })
        #expect(Set(snap.endpoints.map(\.name)) == expected)
    }
}

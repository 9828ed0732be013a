import BFFTopEngine
import BFFTopIngest
import BFFTopMetrics
import BFFTopWire
import CoreMetrics
import NIOPosix
import Testing

/// The swift-metrics backend against a real listener: Hummingbird's and Vapor's metric names and
/// labels become routes with latency, status, errors and concurrency; handlers are cached; a dashboard
/// that restarts is reconnected to.
@Suite struct MetricsFactoryTests {
    @Test func hummingbirdAndVaporMetricsBecomeRoutes() async throws {
        let path = tempSocketPath("metrics")
        let sink = CollectingSink()
        let stats = IngestStats()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await Listener.start(path: path, sink: sink, stats: stats, group: group)
        let factory = BFFTopMetricsFactory(socketPath: path, service: "hb-bff")
        // Exactly what Hummingbird 2's MetricsMiddleware records for GET /api/slots/{id} → 200 in 12 ms …
        let hbDims = [("http.route", "/api/slots/{id}"), ("http.request.method", "GET"), ("http.response.status_code", "200")]
        let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", "GET")], factory: factory)
        meter.increment()
        Counter(label: "hb.requests", dimensions: hbDims, factory: factory).increment()
        Timer(label: "http.server.request.duration", dimensions: hbDims, factory: factory).recordNanoseconds(12_000_000)
        meter.decrement()
        // … and for a thrown error (no timer, the error counter).
        Counter(label: "hb.request.errors", dimensions: [("http.route", "/api/book"), ("http.request.method", "POST"), ("error.type", "500")],
                factory: factory).increment()
        // Vapor 4: a new Timer per request, same labels.
        for i in 0..<5 {
            let dims = [("method", "GET"), ("path", "/users/:userID"), ("status", i == 4 ? "503" : "200")]
            Counter(label: "http_requests_total", dimensions: dims, factory: factory).increment()
            Timer(label: "http_request_duration_seconds", dimensions: dims, factory: factory).recordNanoseconds(Int64(i + 1) * 1_000_000)
        }
        Recorder(label: "db.pool.size", factory: factory).record(4)
        factory.flush()
        #expect(await eventually { sink.events.count >= 9 })
        let invs = sink.events.compactMap { e -> Invocation? in if case .invocation(let i) = e { return i }; return nil }
        let hb = invs.first { $0.endpoint == "GET /api/slots/{id}" }
        #expect(hb?.durationMs == 12 && hb?.status == 200 && hb?.service == "hb-bff" && hb?.kind == .route)
        let vapor = invs.filter { $0.endpoint == "GET /users/:userID" }
        #expect(vapor.map(\.durationMs) == [1, 2, 3, 4, 5])
        #expect(vapor.last?.outcome == .error && vapor.last?.status == 503)
        #expect(sink.events.contains(.outcomes(OutcomeCount(ts: 0, endpoint: "POST /api/book", kind: .route, outcome: .error, count: 1, service: "hb-bff"))) == false,
                "(timestamps differ; checked by fields below)")
        let errs = sink.events.compactMap { e -> OutcomeCount? in if case .outcomes(let o) = e { return o }; return nil }
        #expect(errs.map(\.endpoint) == ["POST /api/book"] && errs.first?.count == 1 && errs.first?.outcome == .error)
        let gauges = sink.events.compactMap { e -> Double? in if case .concurrency(let g) = e { return g.value }; return nil }
        #expect(gauges == [1, 0] && sink.events.contains { $0.endpoint == "hb-bff (all routes)" })
        #expect(invs.count == 6, "request counters are not sent: the timers count requests")
        #expect(factory.unmapped == 1, "the unknown recorder is counted")
        #expect(factory.dropped == 0)
        // Handlers are cached (Vapor creates them per request).
        let a = factory.makeTimer(label: "http_request_duration_seconds", dimensions: [("method", "GET"), ("path", "/x"), ("status", "200")])
        let b = factory.makeTimer(label: "http_request_duration_seconds", dimensions: [("method", "GET"), ("path", "/x"), ("status", "200")])
        #expect(a === b)

        // bfftop restarts (its connections close with its event loops): the factory reconnects.
        await listener.stop()
        try await group.shutdownGracefully()
        let group2 = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        Timer(label: "http.server.request.duration", dimensions: hbDims, factory: factory).recordNanoseconds(7_000_000)
        try await Task.sleep(nanoseconds: 300_000_000)
        let sink2 = CollectingSink()
        let again = try await Listener.start(path: path, sink: sink2, stats: IngestStats(), group: group2)
        Timer(label: "http.server.request.duration", dimensions: hbDims, factory: factory).recordNanoseconds(8_000_000)
        #expect(await eventually(15) { sink2.events.count >= 1 }, "a timer recorded after the restart arrives")
        factory.shutdown()
        await again.stop()
        try await group2.shutdownGracefully()
    }

    /// The cause of the restart flake: the factory kept the connection of a dashboard that had gone,
    /// and the first batch after the restart was written into it and dropped. It now notices the
    /// closed connection before writing and keeps what it could not deliver for the next one.
    @Test func whatIsRecordedWhileTheDashboardRestartsArrivesAtTheNewOne() async throws {
        let path = tempSocketPath("restart")
        let dims = [("http.route", "/a"), ("http.request.method", "GET"), ("http.response.status_code", "200")]
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let sink = CollectingSink()
        let first = try await Listener.start(path: path, sink: sink, stats: IngestStats(), group: group)
        let factory = BFFTopMetricsFactory(socketPath: path, service: "svc")
        defer { factory.shutdown() }
        Timer(label: "http.server.request.duration", dimensions: dims, factory: factory).recordNanoseconds(1_000_000)
        #expect(await eventually { sink.events.count == 1 })
        await first.stop()
        try await group.shutdownGracefully()
        // Recorded while no dashboard runs: kept, not written into the dead connection.
        Timer(label: "http.server.request.duration", dimensions: dims, factory: factory).recordNanoseconds(2_000_000)
        try await Task.sleep(nanoseconds: 300_000_000)
        let group2 = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let sink2 = CollectingSink()
        let second = try await Listener.start(path: path, sink: sink2, stats: IngestStats(), group: group2)
        Timer(label: "http.server.request.duration", dimensions: dims, factory: factory).recordNanoseconds(3_000_000)
        #expect(await eventually(15) { sink2.events.count == 2 })
        let ms = sink2.events.compactMap { e -> Double? in if case .invocation(let i) = e { return i.durationMs }; return nil }
        #expect(ms == [2, 3], "both timers after the restart arrive, in order")
        #expect(factory.dropped == 0)
        await second.stop()
        try await group2.shutdownGracefully()
    }

    /// A socket that is not this user's is never written to by the library, and it says why.
    @Test func theFactoryRefusesASocketThatIsNotItsUsers() async throws {
        guard geteuid() == 0 else { return }  // giving a file away needs root (CI runs as root)
        let path = tempSocketPath("foreign")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let sink = CollectingSink()
        let listener = try await Listener.start(path: path, sink: sink, stats: IngestStats(), group: group)
        chown(path, 65534, 65534)
        let factory = BFFTopMetricsFactory(socketPath: path, service: "svc")
        defer { factory.shutdown() }
        Timer(label: "http.server.request.duration", dimensions: [("http.route", "/a"), ("http.request.method", "GET")], factory: factory)
            .recordNanoseconds(1_000_000)
        #expect(await eventually { factory.refusal != nil })
        #expect(factory.refusal?.contains("the socket belongs to uid 65534, not to you") == true, "\(String(describing: factory.refusal))")
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(sink.events.isEmpty && factory.sent == 0)
        chown(path, 0, 0)
        await listener.stop()
        try await group.shutdownGracefully()
    }
}

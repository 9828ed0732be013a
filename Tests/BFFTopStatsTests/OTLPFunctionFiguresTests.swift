import Testing
@testable import BFFTopStats
@testable import BFFTopWire

/// The Collector's `telemetryapi` metrics beyond durations and counters: `faas.init_duration` gives
/// a function's init times and `faas.mem_usage` the most memory it used, checked against truth
/// computed here from the values the histograms were built from; neither adds requests or cold starts.
@Suite struct OTLPFunctionFiguresTests {
    let t0: UInt64 = 1_765_000_000_000_000_000
    let second: UInt64 = 1_000_000_000
    let initBounds = [0.05, 0.1, 0.25, 0.5, 0.75, 1.0]  // seconds
    let memoryBounds = [64.0, 128, 256, 512].map { $0 * 1_048_576 }  // bytes

    func histogram(_ name: OTLPMetricName, _ values: [Double], bounds: [Double], unit: String, function: String) -> OTLPMetric {
        var m = OTLPMetric(name: name)
        (m.kind, m.temporality, m.unit) = (.histogram, 1, unit)
        var p = OTLPMetricPoint()
        p.attributes[.faasName] = .string(function)
        p.startNs = t0
        p.timeNs = t0 + 10 * second
        p.bounds = bounds
        p.bucketCounts = (0...bounds.count).map { i in
            UInt64(values.count { v in (i == 0 || v > bounds[i - 1]) && (i == bounds.count || v <= bounds[i]) })
        }
        p.count = UInt64(values.count)
        (p.min, p.max) = (values.min(), values.max())
        m.points = [p]
        return m
    }

    func counter(_ name: OTLPMetricName, _ value: Double, function: String) -> OTLPMetric {
        var m = OTLPMetric(name: name)
        (m.kind, m.temporality) = (.sum, 1)
        var p = OTLPMetricPoint()
        p.attributes[.faasName] = .string(function)
        (p.startNs, p.timeNs, p.value) = (t0, t0 + 10 * second, value)
        m.points = [p]
        return m
    }

    @Test func initTimesAndMemoryOfAFunctionFromItsHistograms() throws {
        var rng = SplitMix(seed: 7)
        let inits = (0..<37).map { _ in 0.12 + Double(rng.next() % 600) / 1000 }  // 120 … 719 ms
        let used = (0..<400).map { _ in Double(70 + rng.next() % 300) * 1_048_576 }  // 70 … 369 MiB
        var r = OTLPResourceMetrics()
        r.resource[.serviceName] = .string("slots")
        r.metrics = [
            histogram(.faasInitDuration, inits, bounds: initBounds, unit: "s", function: "slots-query"),
            histogram(.faasMemUsage, used, bounds: memoryBounds, unit: "By", function: "slots-query"),
            histogram(.faasInvokeDuration, (0..<400).map { _ in Double(rng.next() % 900) / 1000 }, bounds: initBounds, unit: "s", function: "slots-query"),
            counter(.faasColdstarts, Double(inits.count), function: "slots-query"),
        ]
        var export = OTLPMetricsExport()
        export.resources = [r]
        var streams = OTLPMetricStreams(startedAt: 1_764_999_000)
        let d = OTLPMetrics.map(export, streams: &streams)
        #expect(d.rejected == 0 && d.skipped == 0, "\(d.firstRejection ?? "")")

        let agg = Aggregator()
        for e in d.events { agg.ingest(e, receivedAt: 1_765_000_011) }
        let f = try #require(agg.snapshot(SnapshotRequest(), now: 1_765_000_011).endpoints.first { $0.name == "slots-query" })
        // Requests come from invoke_duration alone, cold starts from the counter alone.
        #expect(f.count == 400)
        #expect(f.cold == inits.count)
        // The init p50 lies in the bucket that holds the true p50 (±1 % for the sketch).
        let sorted = inits.map { $0 * 1000 }.sorted()
        let p50 = sorted[Int((0.5 * Double(sorted.count)).rounded(.up)) - 1]
        let ms = initBounds.map { $0 * 1000 }
        let hi = ms.first { $0 >= p50 } ?? .infinity, lo = ms.last { $0 < p50 } ?? 0
        let shown = try #require(f.initP50)
        #expect(shown >= lo * 0.99 && shown <= hi * 1.01, "init p50 \(shown) outside (\(lo), \(hi)] of the truth's \(p50)")
        // Memory: never below the true most, and no more than its bucket's top.
        let most = try #require(used.max()) / 1_048_576
        let shownMemory = try #require(f.maxMemoryUsedMB)
        let top = (memoryBounds.first { $0 >= most * 1_048_576 } ?? .infinity) / 1_048_576
        #expect(shownMemory >= most && shownMemory <= top, "max memory \(shownMemory) vs the truth's \(most) (bucket top \(top))")

        // Recorded and read back in the native protocol: the same events.
        let figures = d.events.filter { if case .outcomes = $0 { true } else { false } }
        #expect(figures.count >= 3)
        let decoder = NativeDecoder()
        for e in figures {
            let line = NativeEncoder.encode(e)
            #expect(try decoder.decode(line).get() == e, "\(line)")
        }
    }

    @Test func outcomesLinesWithFiguresAreCheckedWithReasons() {
        let decoder = NativeDecoder()
        func reason(_ line: String) -> String? {
            switch decoder.decode(line) {
            case .success: nil
            case .failure(let e): e.reason
            }
        }
        let head = #"{"v":1,"type":"outcomes","ts":1765000000,"endpoint":"fn","kind":"function","outcome":"ok","count":0"#
        #expect(reason(head + #","inits":3,"init_ms":250}"#) == nil)
        #expect(reason(head + #","max_memory_mb":300}"#) == nil)
        #expect(reason(head + "}")?.contains("\"count\"") == true, "an outcomes line with nothing in it")
        #expect(reason(head + #","inits":3}"#)?.contains("init_ms") == true)
        #expect(reason(head + #","init_ms":250}"#)?.contains("inits") == true)
        #expect(reason(head + #","inits":2.5,"init_ms":250}"#)?.contains("whole number") == true)
        #expect(reason(head + #","inits":3,"init_ms":-1}"#)?.contains("init_ms") == true)
        #expect(reason(head + #","max_memory_mb":1e300}"#)?.contains("max_memory_mb") == true)
    }
}

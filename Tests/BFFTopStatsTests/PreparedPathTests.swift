import Testing
import BFFTopWire
@testable import BFFTopStats

/// Replay aggregates most events as `PackedInvocation`s; that must give exactly the figures the
/// general path gives for the same events.
@Suite struct PreparedPathTests {
    @Test func preparedAndGeneralIngestGiveIdenticalSnapshots() {
        let t0 = 1_732_460_000.0
        var config = AggregatorConfig()
        config.startedAt = t0
        var settings = FunctionSettings(pattern: "fn-*")
        settings.memoryMB = 1024
        settings.provisionedConcurrency = 2
        settings.arch = .arm64
        config.functions = [settings]
        config.cost = CostModel(provider: .awsLambdaX86)
        var rng = SplitMix(seed: 5)
        var lines: [(line: String, event: WireEvent, rt: Double)] = []
        for i in 0..<20_000 {
            let rt = t0 + Double(i) / 200
            let k = Int(rng.next() % 12)
            let isFunction = k >= 8
            let outcome: Outcome = rng.next() % 50 == 0 ? .error : .ok
            let d = Double(rng.next() % 5_000_000) / 1000
            let inv = Invocation(
                ts: rt - d / 1000 - 0.01, service: "svc-\(k % 3)", endpoint: isFunction ? "fn-\(k)" : "GET /r\(k)",
                kind: isFunction ? .function : .route, durationMs: d, billedMs: isFunction ? d.rounded(.up) : nil,
                memoryMB: isFunction && k % 2 == 0 ? 512 : nil, maxMemoryMB: isFunction ? 100 + Double(k) : nil,
                coldStart: rng.next() % 40 == 0, initMs: rng.next() % 40 == 0 ? 300 : nil, outcome: outcome,
                status: isFunction ? nil : (outcome == .ok ? 200 : 502), error: outcome == .ok ? nil : "boom",
                timeoutMs: isFunction ? 3000 : nil, parent: isFunction ? "GET /r\(k % 8)" : nil,
                arch: k == 9 ? .x86_64 : nil, id: i % 3 == 0 ? "id-\(i)" : nil, test: i % 17 == 0)
            let event = WireEvent.invocation(inv)
            // Every hundredth event claims to end well after it was received: clock skew is corrected.
            let received = i % 100 == 0 ? rt - 5 : rt
            lines.append(("{\"rt\":\(JSONObjectWriter.fixed(received, decimals: 6))," + NativeEncoder.encode(event).dropFirst(), event, received))
            if i % 500 == 0 {
                let start = WireEvent.start(InFlightStart(ts: rt, endpoint: "fn-8", id: "open-\(i)", kind: .function))
                lines.append(("{\"rt\":\(JSONObjectWriter.fixed(rt, decimals: 6))," + NativeEncoder.encode(start).dropFirst(), start, rt))
            }
        }
        for hide in [false, true] {
            let reference = Aggregator(config: config)
            let fastAgg = Aggregator(config: config)
            reference.hideTestTraffic = hide
            fastAgg.hideTestTraffic = hide
            var decoder = RecordingFastDecoder()
            var mapping = NameMapping()
            let general = NativeDecoder()
            var viaFastPath = 0
            for (line, _, _) in lines {
                let bytes = Array(line.utf8)
                guard case .success(.event(let event, let rt)) = bytes.withUnsafeBytes({ b in
                    Result { () throws(DecodeError) in try general.decodeRecordingLine(b) }
                }) else {
                    Issue.record("test line does not decode: \(line)")
                    continue
                }
                reference.ingest(event, receivedAt: rt)
                var ids: [String] = []
                if let packed = bytes.withUnsafeBytes({ decoder.decode($0, ids: &ids) }) {
                    mapping.append(decoder.names.names[mapping.names.count...])
                    fastAgg.ingest(packed, inFlightID: packed.id >= 0 ? ids[Int(packed.id)] : nil, names: &mapping)
                    viaFastPath += 1
                } else {
                    fastAgg.ingest(event, receivedAt: rt)
                }
            }
            #expect(viaFastPath > 19_000)
            let end = lines.last?.rt ?? t0
            for window in Window.allCases {
                for detail in [nil, "GET /r1", "fn-8"] {
                    let request = SnapshotRequest(window: window, detailFor: detail)
                    #expect(fastAgg.snapshot(request, now: end) == reference.snapshot(request, now: end))
                }
            }
            #expect(fastAgg.testHidden == reference.testHidden)
        }
    }
}

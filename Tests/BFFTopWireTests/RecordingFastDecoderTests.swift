import Testing
@testable import BFFTopWire

/// The fast path must accept only what the general decoder accepts as a successful invocation,
/// with the same values, and must accept what bfftop itself writes.
@Suite struct RecordingFastDecoderTests {
    let general = NativeDecoder()

    /// Runs both decoders; returns whether the fast path took the line. `canonical`: whether the
    /// canonical-order path must (true) or must not (false) take it.
    @discardableResult
    func agree(_ line: String, canonical: Bool? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var fast = RecordingFastDecoder()
        var ids: [String] = []
        let bytes = Array(line.utf8)
        var canonicalFast = RecordingFastDecoder()
        var canonicalIDs: [String] = []
        var into = PackedInvocation.unread
        let viaCanonical = bytes.withUnsafeBytes { canonicalFast.decodeCanonical($0, ids: &canonicalIDs, into: &into) } ? into : nil
        if let canonical { #expect((viaCanonical != nil) == canonical, "canonical path: \(line)", sourceLocation: sourceLocation) }
        let packed = bytes.withUnsafeBytes { fast.decode($0, ids: &ids) }
        if let viaCanonical {
            #expect(packed != nil && viaCanonical.invocation(names: canonicalFast.names.names, ids: canonicalIDs)
                == packed?.invocation(names: fast.names.names, ids: ids), "\(line)", sourceLocation: sourceLocation)
        }
        let reference = bytes.withUnsafeBytes { b in Result { () throws(DecodeError) in try general.decodeRecordingLine(b) } }
        guard let packed else { return false }
        guard case .success(.event(.invocation(let expected), let rt)) = reference else {
            Issue.record("fast path accepted a line the general decoder does not read as an invocation: \(line)", sourceLocation: sourceLocation)
            return true
        }
        #expect(expected.outcome == .ok, "fast path took a failure: \(line)", sourceLocation: sourceLocation)
        // Replay keeps no error text or trace id of a successful invocation: nothing aggregates them.
        var kept = expected
        (kept.error, kept.traceID) = (nil, nil)
        #expect(packed.invocation(names: fast.names.names, ids: ids) == kept, "\(line)", sourceLocation: sourceLocation)
        // Live ingest (events are recorded as received) takes the line only if nothing is dropped,
        // and then gives exactly the general decoder's event.
        var live = RecordingFastDecoder(keepsEveryField: true)
        var liveIDs: [String] = []
        if let p = bytes.withUnsafeBytes({ live.decode($0, ids: &liveIDs) }) {
            #expect(p.invocation(names: live.names.names, ids: liveIDs) == expected, "live: \(line)", sourceLocation: sourceLocation)
        } else {
            #expect(expected.error != nil || expected.traceID != nil, "live path refused: \(line)", sourceLocation: sourceLocation)
        }
        #expect(packed.receivedAt == rt, "\(line)", sourceLocation: sourceLocation)
        #expect(packed.time == (rt ?? expected.endTs), sourceLocation: sourceLocation)
        return true
    }

    @Test func takesWhatTheEncoderWritesForSuccessfulInvocations() {
        var rng = SplitMix(seed: 11)
        var taken = 0
        for n in 0..<2000 {
            let inv = Invocation(
                ts: 1_700_000_000 + Double(rng.next() % 10_000_000) / 1000, service: n % 3 == 0 ? nil : "svc-\(n % 5)",
                endpoint: n % 11 == 0 ? "GET /café/\(n % 7)" : "GET /api/\(n % 7)", kind: n % 2 == 0 ? .route : .function,
                durationMs: Double(rng.next() % 100_000_000) / 1_000_000, billedMs: n % 4 == 0 ? Double(n) : nil,
                memoryMB: n % 2 == 0 ? 512 : nil, maxMemoryMB: n % 5 == 0 ? 99.5 : nil, coldStart: n % 6 == 0,
                initMs: n % 6 == 0 ? 123.25 : nil, outcome: .ok, status: n % 3 == 0 ? 200 + n % 300 : nil,
                error: n % 13 == 0 ? "note" : nil, timeoutMs: n % 2 == 0 ? 3000 : nil, traceID: "t-\(n)",
                parent: n % 2 == 1 ? "GET /p\(n % 3)" : nil, arch: [nil, .arm64, .x86_64][n % 3], id: n % 4 == 0 ? "id\(n)" : nil,
                test: n % 10 == 0)
            let line = NativeEncoder.encode(.invocation(inv))
            let rt = 1_700_000_000 + Double(rng.next() % 10_000_000_000) / 1_000_000
            // Lines with error text or trace ids the encoder escapes stay off the canonical path.
            if agree(line, canonical: true) { taken += 1 }
            if agree("{\"rt\":\(JSONObjectWriter.fixed(rt, decimals: 6))," + line.dropFirst(), canonical: true) { taken += 1 }
        }
        #expect(taken == 4000, "every successful invocation bfftop writes takes the fast path")
    }

    @Test func leavesEverythingElseToTheGeneralDecoder() {
        let others = [
            #"{"bfftop_recording":1,"started":1732460000,"source":"test"}"#,
            #"{"v":1,"type":"start","ts":5.5,"endpoint":"f","id":"abc"}"#,
            #"{"v":1,"type":"concurrency","ts":7,"endpoint":"f","value":12,"limit":100}"#,
            #"{"v":1,"type":"outcomes","ts":7,"endpoint":"f","outcome":"error","count":3}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"status":503}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"outcome":"timeout"}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"outcome":"meh"}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x\"y","duration_ms":1}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1e3}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":-1}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":01}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"id":42}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"extra":{"a":1}}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"extra":[1]}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"","duration_ms":1}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":"1"}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"kind":"lambda"}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"arch":"sparc"}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"status":200.5}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"count":"x"}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1} trailing"#,
            #"{"v":2,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1}"#,
            #"{"type":"invocation","ts":1,"endpoint":"x","duration_ms":1}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":12345678901234567890}"#,
            #"{"v":1,"type":"invocation","ts":1732460000123,"endpoint":"x","kind":"route","duration_ms":1,"outcome":"ok"}"#,
            #"{"rt":173246000012,"v":1,"type":"invocation","ts":1,"endpoint":"x","kind":"route","duration_ms":1,"outcome":"ok"}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","kind":"route","duration_ms":10000000001,"outcome":"ok"}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","kind":"function","duration_ms":1,"memory_mb":10000000001,"outcome":"ok"}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","kind":"function","duration_ms":1,"outcome":"ok","timeout_ms":10000000001}"#,
            #"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"billed_ms":10000000001}"#,
            "not json", "", "{", "[1]",
        ]
        for line in others { #expect(!agree(line, canonical: false), "\(line)") }
    }

    @Test func agreesOnTheOddButValidOnes() {
        #expect(agree(" { \"v\" : 1 , \"type\" : \"invocation\" , \"ts\" : 1 , \"endpoint\" : \"e\" , \"duration_ms\" : 2 } \r", canonical: false))
        #expect(agree(#"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"status":404}"#))
        #expect(agree(#"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"init_ms":5}"#))
        #expect(agree(#"{"v":1,"type":"invocation","ts":1,"endpoint":"a","endpoint":"b","duration_ms":1,"memory_mb":null}"#, canonical: false))
        #expect(agree(#"{"v":1,"type":"invocation","ts":1,"endpoint":"x","kind":"route","duration_ms":1,"outcome":"ok","status":204}"#, canonical: true))
        #expect(agree(#"{"v":1,"type":"invocation","ts":0.3,"endpoint":"x","duration_ms":0,"unknown":"y","flag":true,"n":null}"#))
        agree(#"{"v":1,"type":"invocation","ts":0.30000000000000004,"endpoint":"x","duration_ms":0}"#)  // 17 digits: either way, equal
        #expect(agree(#"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":1,"outcome":"ok","error":"ignored","trace_id":"t"}"#))
    }

    @Test func noCutOfALineIsTakenUnlessTheGeneralDecoderAgrees() {
        let full = #"{"rt":1732460000.5,"v":1,"type":"invocation","ts":1732460000.2,"service":"s","endpoint":"resize-image","kind":"function","duration_ms":812.3,"memory_mb":512,"id":"r-1","parent":"GET /x"}"#
        let bytes = Array(full.utf8)
        for cut in 0...bytes.count { agree(String(decoding: bytes[0..<cut], as: UTF8.self)) }
        #expect(agree(full))
    }

    /// Digits are read eight at a time where the line has room, one by one near its end.
    @Test func numbersOfEveryLengthReadExactly() {
        var rng = SplitMix(seed: 3)
        // Up to 10 integer digits (times and durations stay within `WireLimits`), runs of up to 14
        // digits in the fraction; at most 15 in all (below 2^53: exact).
        for intDigits in 1...10 {
            for fracDigits in 0...(15 - intDigits) {
                var text = String(1 + rng.next() % 9)
                for _ in 1..<intDigits { text += String(rng.next() % 10) }
                if fracDigits > 0 {
                    text += "."
                    for _ in 0..<fracDigits { text += String(rng.next() % 10) }
                }
                // Mid-line (eight-byte loads) and as the last field (the byte loop).
                #expect(agree(#"{"v":1,"type":"invocation","ts":"# + text + #","endpoint":"x","kind":"route","duration_ms":1,"outcome":"ok"}"#, canonical: true), "\(text)")
                #expect(agree(#"{"v":1,"type":"invocation","ts":1,"endpoint":"x","duration_ms":"# + text + "}"), "\(text)")
            }
        }
    }

    @Test func namesGetDenseIdsInOrderOfFirstAppearance() {
        var fast = RecordingFastDecoder()
        var ids: [String] = []
        for (endpoint, parent) in [("b", "a"), ("a", "b"), ("c", "a")] {
            let line = #"{"v":1,"type":"invocation","ts":1,"endpoint":"\#(endpoint)","parent":"\#(parent)","duration_ms":1}"#
            _ = Array(line.utf8).withUnsafeBytes { fast.decode($0, ids: &ids) }
        }
        #expect(fast.names.names == ["b", "a", "c"])
        var table = NameTable()
        let many = (0..<5000).map { "endpoint-\($0)" }
        for name in many { _ = Array(name.utf8).withUnsafeBytes { table.id($0.baseAddress!, $0.count) } }
        for (i, name) in many.enumerated() {
            #expect(Array(name.utf8).withUnsafeBytes { table.id($0.baseAddress!, $0.count) } == Int32(i))
        }
        #expect(table.count == 5000)
    }

    /// Every length (the word-at-a-time hash and compare read short names in overlapping pieces):
    /// names that differ in one byte anywhere, or only in length, get ids of their own.
    @Test func namesOfEveryLengthAndOneByteApartAreDistinct() {
        var table = NameTable()
        let base = Array("GET /api/v1/resource-13/x".utf8)
        var names: [[UInt8]] = [[]]
        for n in 1...base.count {
            let prefix = Array(base.prefix(n))
            names.append(prefix)
            for i in [0, n / 2, n - 1] {
                var other = prefix
                other[i] ^= 0x01
                if !names.contains(other) { names.append(other) }
            }
        }
        let ids = names.map { name in name.withUnsafeBytes { table.id($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, $0.count) } }
        #expect(Set(ids.compactMap { $0 }).count == names.count)
        for (name, id) in zip(names, ids) {
            #expect(name.withUnsafeBytes { table.id($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, $0.count) } == id)
        }
        #expect(table.names.count == names.count)
    }
}

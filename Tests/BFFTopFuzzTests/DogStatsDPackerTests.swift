import BFFTopFuzzTargets
import BFFTopWire
import Testing

/// The DogStatsD byte reader against the general parser and mapper, on messages built from the
/// pieces real clients and hostile ones send: whatever it packs, the general path reads the same.
@Suite struct DogStatsDPackerTests {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func pick<T>(_ xs: [T]) -> T { xs[Int(next() % UInt64(xs.count))] }
    }

    static let names = ["bff.req.duration", "api.latency_seconds", "x.dur.ns", "Req.Duration_S", "datadog.dogstatsd.client.packets_dropped",
                        "rpc_us", "a", "métrique.durée", ""]
    static let values = ["12", "12.5", "0", "0.001", "007", "1e3", "-4", "5694.25", "1.", ".5", "nan", "inf", "1:2", "12:", "99999999999999999999",
                         "3.14159265358979323846", "0x10", "1_0", ""]
    static let types = ["ms", "h", "d", "c", "g", "s", "x", "", "MS"]
    static let tags = ["route:/api/r1", "route:GET_/api/slots", "route:", "endpoint:POST_/book", "functionname:booking-create",
                       "status:200", "status:503", "status:429", "status:+200", "status:0200", "status:9102", "status:abc", "http.status_code:404",
                       "cold_start:true", "coldstart:false", "service:web-bff", "service:", "env", "", "route:/a,route:/b",
                       "resource:GET_/", "route:/日本", "route:/x\u{301}", "status:2000000000000"]
    static let fields = ["@0.5", "@1", "@0", "@2", "@abc", "@0.01", "T1700000000", "T1700000000.5", "Tnow", "c:cid", "card:low", "", "e:x"]

    @Test func whatThePackerAcceptsTheGeneralPathReadsIdentically() {
        var rng = Rng(state: 42)
        let mapper = DogStatsDMapper()
        var packer = DogStatsDPacker(mapper: mapper, nameLimit: 64)
        var accepted = 0
        var declined = 0
        for _ in 0..<40_000 {
            // Half the messages are plausible timings (mostly packed), half anything (mostly declined).
            let plausible = rng.next() % 2 == 0
            var line = rng.pick(Self.names) + ":" + (plausible ? rng.pick(["12", "0.5", "250.125"]) : rng.pick(Self.values))
                + "|" + (plausible ? rng.pick(["ms", "h", "d"]) : rng.pick(Self.types))
            if plausible { line += "|#" + rng.pick(Self.tags) + "," + rng.pick(Self.tags) }
            for _ in 0..<Int(rng.next() % 4) {
                line += rng.next() % 2 == 0
                    ? "|#" + (0..<Int(1 + rng.next() % 4)).map { _ in rng.pick(Self.tags) }.joined(separator: ",")
                    : "|" + rng.pick(Self.fields)
            }
            var ok = false
            let problem = Array(line.utf8).withUnsafeBytes {
                DogStatsDFuzz.disagreement($0, packer: &packer, mapper: mapper, at: 1_733_450_000.25, accepted: &ok)
            }
            if let problem { Issue.record("\(problem)") }
            if ok { accepted += 1 } else { declined += 1 }
        }
        // Both ways taken often: the comparison is not vacuous.
        #expect(accepted > 2_000, "packed \(accepted)")
        #expect(declined > 2_000, "declined \(declined)")
    }

    @Test func theBlastersMessagesArePackedWithTheirNames() throws {
        var packer = DogStatsDPacker(mapper: DogStatsDMapper())
        var out: [PackedInvocation] = []
        let ok = Array("bff.req.duration:42|ms|#route:GET_/api/r3,status:201,cold_start:true,service:web|@0.25".utf8).withUnsafeBytes {
            packer.pack($0, at: 1_733_450_000, into: &out)
        }
        #expect(ok)
        #expect(out.count == 4, "a sample rate of 1/4 counts four invocations")
        let inv = out[0].invocation(names: packer.names.names, ids: [])
        #expect(inv.endpoint == "GET /api/r3" && inv.service == "web" && inv.status == 201 && inv.coldStart && inv.kind == .route)
        #expect(inv.durationMs == 42 && inv.ts == 1_733_450_000 - 0.042)
    }

    @Test func aFullNameTableDeclinesNewNamesWhichTheGeneralPathThenReads() {
        var packer = DogStatsDPacker(mapper: DogStatsDMapper(), nameLimit: 2)
        var out: [PackedInvocation] = []
        var accepted: [Bool] = []
        for r in ["/a", "/b", "/c", "/a"] {
            accepted.append(Array("d:1|ms|#route:\(r)".utf8).withUnsafeBytes { packer.pack($0, at: 1_733_450_000, into: &out) })
        }
        #expect(accepted == [true, true, false, true])
        #expect(out.count == 3 && packer.names.count == 2)
    }
}

/// A socket's name table is bounded in names and in bytes.
@Suite struct NameTableBoundsTests {
    @Test func longNamesStopAtTheByteBudget() {
        var packer = DogStatsDPacker(mapper: DogStatsDMapper(), nameLimit: 8)  // 8 names, 256 bytes
        var out: [PackedInvocation] = []
        var accepted = 0
        for i in 0..<8 {
            let name = "/" + String(repeating: "x", count: 90) + "\(i)"
            if Array("d:1|ms|#route:\(name)".utf8).withUnsafeBytes({ packer.pack($0, at: 1_733_450_000, into: &out) }) { accepted += 1 }
        }
        #expect(accepted == 2, "two 92-byte names fit 256 bytes; the rest take the general path")
        #expect(packer.names.count == 2)
    }
}

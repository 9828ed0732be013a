import Testing

/// What the dashboard's binary loads: every library it needs is resident in every bfftop process,
/// so the full Foundation (and its ICU) stays out: 7 MiB of the 100-endpoint memory figure came
/// from it once, brought in by the bench's swift-protobuf opponent (now `bfftop-protobuf-bench`).
@Suite struct BinaryFootprintTests {
    @Test func theDashboardDoesNotLoadFoundation() throws {
        let (status, output) = try shell("ldd '\(TmuxDriver.binary)'")
        try #require(status == 0, "ldd: \(output)")
        let loaded = output.split(separator: "\n").map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? "" }
        #expect(loaded.contains { $0.hasPrefix("libswiftCore") }, "ldd lists the Swift runtime: \(output)")
        for unwanted in ["libFoundation.so", "lib_FoundationICU.so", "libFoundationInternationalization.so"] {
            #expect(!loaded.contains(unwanted), "\(unwanted) is loaded by bfftop: \(output)")
        }
    }
}

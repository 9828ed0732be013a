import BFFTopFuzzTargets
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Every committed fuzz input (seeds and the regressions fuzzing found) through its target: the
/// invariants hold and nothing traps. `scripts/fuzz` explores further from the same corpus.
@Suite struct FuzzCorpusTests {
    static let corpus = String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")
    static var root: String { "/" + corpus + "/Fuzz/corpus" }

    static func files(_ target: String) -> [String] {
        guard let dir = opendir(root + "/" + target) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { out.append(root + "/" + target + "/" + name) }
        }
        return out.sorted()
    }

    static func read(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    @Test func everyTargetHasACorpus() {
        for t in FuzzTargets.all { #expect(!Self.files(t.name).isEmpty, "Fuzz/corpus/\(t.name) is empty") }
    }

    @Test(arguments: FuzzTargets.all.map(\.name))
    func corpusKeepsItsInvariants(_ name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        for path in Self.files(name) {
            let bytes = try #require(Self.read(path), "cannot read \(path)")
            let violations = bytes.withUnsafeBytes { target.run($0) }
            #expect(violations.isEmpty, "\(path): \(violations.joined(separator: "; "))")
        }
    }
}

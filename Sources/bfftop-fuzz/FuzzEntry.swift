#if canImport(Glibc)
import Glibc
#endif
import BFFTopFuzzTargets

/// The target named by `BFFTOP_FUZZ_TARGET`, chosen once.
private let target: FuzzTarget = {
    let name = getenv("BFFTOP_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let t = FuzzTargets.named(name) else {
        fatalError("set BFFTOP_FUZZ_TARGET to one of: \(FuzzTargets.all.map(\.name).joined(separator: ", "))")
    }
    return t
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let violations = target.run(UnsafeRawBufferPointer(start: data, count: size))
    if !violations.isEmpty { fatalError("\(target.name): " + violations.joined(separator: "; ")) }
    return 0
}

// `bfftop bench --only otlp`'s opponent: decodes one OTLP trace export (a file `bfftop bench`
// writes) with swift-protobuf's generated code and with bfftop's reader, side by side in this one
// process, and prints spans per second for each. A binary of its own so that the dashboard does
// not link swift-protobuf and Foundation (docs/performance.md, "Memory").
//
//   bfftop-protobuf-bench EXPORT.pb SPANS ROUNDS   →   bfftop=2870000 swift-protobuf=320000
#if canImport(Glibc)
import Glibc
#endif
import BFFTopWire
import Foundation
import OTLPProtoGenerated
import SwiftProtobuf

let args = CommandLine.arguments
guard args.count == 4, let body = FileManager.default.contents(atPath: args[1]), let spans = Int(args[2]), let rounds = Int(args[3]),
      spans > 0, rounds > 0 else {
    FileHandle.standardError.write(Data("usage: bfftop-protobuf-bench EXPORT.pb SPANS ROUNDS\n".utf8))
    exit(2)
}
let bytes = [UInt8](body)

func seconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Spans per second over `rounds` decodes, best of three; nil if the bytes do not decode.
func measure(_ decode: () -> Bool) -> Double? {
    guard decode() else { return nil }
    var best = 0.0
    for _ in 0..<3 {
        let start = seconds()
        for _ in 0..<rounds { _ = decode() }
        best = max(best, Double(rounds * spans) / (seconds() - start))
    }
    return best
}

let mine = measure { (try? OTLPProtobuf.traces(bytes))?.spanCount == spans }
let theirs = measure {
    (try? Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest(serializedBytes: bytes))
        .map { $0.resourceSpans.flatMap(\.scopeSpans).reduce(0) { $0 + $1.spans.count } } == spans
}
guard let mine, let theirs else {
    FileHandle.standardError.write(Data("the export does not decode to \(spans) spans in both decoders\n".utf8))
    exit(1)
}
print("bfftop=\(Int(mine)) swift-protobuf=\(Int(theirs))")

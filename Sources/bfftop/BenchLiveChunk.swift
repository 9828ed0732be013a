#if canImport(Glibc)
import Glibc
#endif
import BFFTopWire

/// CPU time of this whole process (every thread, user and system), in seconds.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Lines of native invocations whose times are written as each copy is sent: a live emitter's
/// invocations end just before they arrive, in time order, and the engine's cost depends on that
/// (late events take the slower path into settled buckets).
struct LiveChunk: Sendable {
    let bytes: [UInt8]
    let lines: Int
    /// Where each line's `ts` value starts (17 bytes: `dddddddddd.dddddd`), and its duration.
    private let stamps: [(offset: Int, durationMs: Double)]
    private static let width = 17

    init(lines events: [WireEvent]) {
        var out: [UInt8] = []
        var stamps: [(Int, Double)] = []
        for e in events {
            guard case .invocation(let inv) = e else { continue }
            var line = Array(NativeEncoder.encode(e).utf8)
            let key = Array("\"ts\":".utf8)
            guard let at = (0...(line.count - key.count)).first(where: { line[$0..<($0 + key.count)].elementsEqual(key) }) else { continue }
            let start = at + key.count
            let end = line[start...].firstIndex(where: { $0 == 0x2C || $0 == 0x7D }) ?? line.count
            line.replaceSubrange(start..<end, with: Array("0000000000.000000".utf8))
            stamps.append((out.count + start, inv.durationMs))
            out += line
            out.append(0x0A)
        }
        bytes = out
        lines = stamps.count
        self.stamps = stamps
    }

    /// Writes each line's start so that it ends at `now` (microseconds, fixed width).
    func stamp(_ buffer: inout [UInt8], at now: Double) {
        buffer.withUnsafeMutableBufferPointer { b in
            for s in stamps {
                var micros = UInt64(max(0, now - s.durationMs / 1000) * 1e6)
                var i = s.offset + Self.width - 1
                while i >= s.offset {
                    if i == s.offset + 10 {
                        i -= 1
                        continue
                    }  // the decimal point
                    b[i] = 0x30 + UInt8(micros % 10)
                    micros /= 10
                    i -= 1
                }
            }
        }
    }
}


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


/// CPU time per thread role of this process, from /proc (`schedstat`: nanoseconds on a CPU), so a
/// benchmark can say which side of a pipeline a figure is spent on. Threads that have exited are
/// not listed: callers take the rest as the process total less the roles they name.
struct ThreadCPU {
    private(set) var seconds: [String: Double] = [:]

    /// Sums the live threads' CPU by the first of `roles` their name starts with.
    static func sample(roles: [String]) -> ThreadCPU {
        var out = ThreadCPU()
        guard let dir = opendir("/proc/self/task") else { return out }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard tid.first?.isNumber == true,
                  let comm = readSmallFile("/proc/self/task/\(tid)/comm"),
                  let stat = readSmallFile("/proc/self/task/\(tid)/schedstat"),
                  let ns = stat.split(separator: " ").first.flatMap({ Double($0) }),
                  let role = roles.first(where: { comm.hasPrefix($0) }) else { continue }
            out.seconds[role, default: 0] += ns / 1e9
        }
        return out
    }

    /// CPU per item (ns) of the engine thread, the event loops and the rest of the process (the
    /// benchmark's clients, threads that exited) since `earlier`, out of `total` CPU seconds.
    func perItem(since earlier: ThreadCPU, total: Double, items: Int) -> [(role: String, ns: Double)] {
        let split = since(earlier)
        let named = [("engine thread", split["bfftop-engine"] ?? 0), ("event loops", split["NIO-ELT"] ?? 0)]
        let rest = total - named.reduce(0) { $0 + $1.1 }
        return (named + [("clients and the rest", rest)]).map { ($0.0, $0.1 / Double(max(items, 1)) * 1e9) }
    }

    /// The threads a pipeline benchmark names.
    static let pipelineRoles = ["bfftop-engine", "NIO-ELT"]

    /// CPU spent by each role between `earlier` and this sample.
    func since(_ earlier: ThreadCPU) -> [String: Double] {
        seconds.reduce(into: [:]) { $0[$1.key] = $1.value - (earlier.seconds[$1.key] ?? 0) }
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 256)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].filter { $0 != 0x0A }, as: UTF8.self)
    }
}

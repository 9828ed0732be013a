import BFFTopWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ReplayError: Error, CustomStringConvertible, Equatable, Sendable {
    case cannotOpen(path: String, reason: String)
    case noEvents(paths: [String])

    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): "cannot open \(p): \(r)"
        case .noEvents(let ps): "no events in \(ps.joined(separator: ", ")) (is it a bfftop recording or native NDJSON?)"
        }
    }
}

/// Streams lines from a file with a fixed 1 MiB buffer, so files of any size replay without being
/// loaded into memory. A last line without a newline is still handed over (the caller decides).
final class LineFileReader {
    let path: String
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var start = 0
    private var end = 0
    private var eof = false

    init(path: String) throws(ReplayError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit { close(fd) }

    /// Calls `body` with the next line (without its newline); returns false at the end of the file.
    /// `complete` is false for a final line that had no newline.
    func next(_ body: (UnsafeRawBufferPointer, _ complete: Bool) -> Void) -> Bool {
        while true {
            if let nl = buffer[start..<end].firstIndex(of: 0x0A) {
                buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<nl]), true) }
                start = nl + 1
                return true
            }
            if eof {
                guard start < end else { return false }
                buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<end]), false) }
                start = end
                return true
            }
            fill()
        }
    }

    private func fill() {
        if start > 0 {
            buffer.withUnsafeMutableBytes { b in
                guard let base = b.baseAddress else { return }
                memmove(base, base + start, end - start)
            }
            end -= start
            start = 0
        }
        if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }  // a line longer than the buffer
        let n = buffer.withUnsafeMutableBytes { b -> Int in
            guard let base = b.baseAddress else { return 0 }
            return read(fd, base + end, b.count - end)
        }
        if n <= 0 { eof = true } else { end += n }
    }
}

/// Events of one or more recordings merged in time order. An event's time is when bfftop received it
/// (`rt`) in recordings, else when it happened (end of an invocation).
final class RecordingStream {
    struct Item {
        var time: Double
        var event: WireEvent
        var receivedAt: Double?
    }

    private var readers: [LineFileReader]
    private var heads: [Item?]
    private let decoder = NativeDecoder()
    private(set) var skipped = 0
    private(set) var truncatedLastLines = 0
    /// Lines that are neither events nor malformed: START/END lines, application logs.
    private(set) var otherLines = 0
    let paths: [String]
    /// Name for Lambda REPORT lines, which do not carry the function's name.
    let function: String
    private var logs: [FunctionLogDecoder]
    /// Events decoded from one line beyond the first (Telemetry API batches, CloudWatch JSON pages).
    private var queued: [[Item]]

    init(paths: [String], function: String = "lambda", format: FunctionLogDecoder.Format = .auto) throws(ReplayError) {
        self.paths = paths
        self.function = function
        logs = Array(repeating: FunctionLogDecoder(format: format, defaultFunction: function), count: paths.count)
        queued = Array(repeating: [], count: paths.count)
        var rs: [LineFileReader] = []
        for p in paths { rs.append(try LineFileReader(path: p)) }
        readers = rs
        heads = Array(repeating: nil, count: rs.count)
        for i in readers.indices { heads[i] = read(i) }
    }

    private func read(_ i: Int) -> Item? {
        if !queued[i].isEmpty { return queued[i].removeFirst() }
        var item: Item?
        while item == nil {
            let more = readers[i].next { line, complete in
                if line.first(where: { $0 != 0x20 && $0 != 0x09 }) == UInt8(ascii: "{"),
                   case .success(let decoded) = Result(catching: { () throws(DecodeError) in try decoder.decodeRecordingLine(line) }) {
                    if case .event(let e, let rt) = decoded { item = Item(time: rt ?? e.eventTime, event: e, receivedAt: rt) }
                    return
                }
                switch logs[i].decode(line) {
                case .invocations(let invs):
                    var items = invs.map { Item(time: $0.endTs, event: .invocation($0), receivedAt: nil) }
                    item = items.removeFirst()
                    queued[i] = items
                case .events(let evs):
                    var items = evs.map { Item(time: $0.eventTime, event: $0, receivedAt: nil) }
                    if items.isEmpty {
                        otherLines += 1
                    } else {
                        item = items.removeFirst()
                        queued[i] = items
                    }
                case .other: otherLines += 1
                case .unrecognised: if complete { skipped += 1 } else { truncatedLastLines += 1 }
                }
            }
            if !more { return nil }
        }
        return item
    }

    /// The earliest pending event, without consuming it.
    var peekTime: Double? { heads.compactMap { $0?.time }.min() }

    func next() -> Item? {
        var best: (index: Int, time: Double)?
        for (i, h) in heads.enumerated() {
            if let h, h.time < (best?.time ?? .infinity) { best = (i, h.time) }
        }
        guard let i = best?.index, let item = heads[i] else { return nil }
        heads[i] = read(i)
        return item
    }

    /// First and last event times across the files. The first comes from reading forward; the last
    /// from the files' tails (recordings are written in receive order), so opening is instant at any size.
    static func span(paths: [String], function: String = "lambda") throws(ReplayError) -> (start: Double, end: Double) {
        let s = try RecordingStream(paths: paths, function: function)
        guard let first = s.peekTime else { throw .noEvents(paths: paths) }
        var last = first
        for p in paths { if let t = tailTime(p, function: function) { last = max(last, t) } }
        return (first, last)
    }

    /// The time of the last complete, decodable line in the file's final 256 KiB.
    static func tailTime(_ path: String, function: String) -> Double? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int(st.st_size)
        let want = min(size, 256 << 10)
        var buf = [UInt8](repeating: 0, count: want)
        let n = buf.withUnsafeMutableBytes { b in pread(fd, b.baseAddress, want, off_t(size - want)) }
        guard n > 0 else { return nil }
        // Decode the tail forwards (multi-line formats need the lines before), from a line start.
        let decoder = NativeDecoder()
        var logs = FunctionLogDecoder(defaultFunction: function)
        var lines = buf[0..<n].split(separator: 0x0A, omittingEmptySubsequences: true)
        if want < size, !lines.isEmpty { lines.removeFirst() }
        var last: Double?
        for line in lines {
            let t: Double? = Array(line).withUnsafeBytes { b in
                if case .success(.event(let e, let rt)) = Result(catching: { () throws(DecodeError) in try decoder.decodeRecordingLine(b) }) {
                    return rt ?? e.eventTime
                }
                switch logs.decode(b) {
                case .invocations(let invs): return invs.map(\.endTs).max()
                case .events(let evs): return evs.map(\.eventTime).max()
                default: break
                }
                return nil
            }
            if let t { last = max(last ?? t, t) }
        }
        return last
    }
}

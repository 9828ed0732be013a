import BFFTopStats
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

/// Streams lines from a file (or a pipe: `forward`'s standard input) with a fixed 1 MiB buffer, so
/// input of any size is read without being loaded into memory. A last line without a newline is
/// still handed over (the caller decides).
public final class LineFileReader {
    let path: String
    private let fd: Int32
    /// A pipe or terminal: `read`, not `pread` at an offset; the descriptor is not ours to close.
    private let streaming: Bool
    // Touched on every line by the one thread that reads: no run-time exclusivity checks (each
    // costs a thread-local access-set insert).
    @exclusivity(unchecked) private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0
    private var eof = false
    /// Inside a line longer than `maxLineBytes`, discarding up to its newline.
    private var skippingLongLine = false
    /// Lines longer than `maxLineBytes`, skipped (the socket's rule: `LineDecoder.defaultMaxLineBytes`),
    /// so a file without newlines costs the buffer, not its own size in memory.
    public private(set) var oversizedLines = 0
    static let maxLineBytes = LineDecoder.defaultMaxLineBytes
    /// The file offset of the next read and where to stop (a chunk of the file, or all of it).
    private var offset: Int
    private let limit: Int

    /// Reads `range` of the file (all of it when nil); a range should start at a line start.
    init(path: String, range: Range<Int>? = nil) throws(ReplayError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        offset = range?.lowerBound ?? 0
        limit = range?.upperBound ?? .max
        streaming = false
    }

    /// Reads an open descriptor from where it is (standard input).
    public init(streaming fd: Int32, name: String) {
        path = name
        self.fd = fd
        offset = 0
        limit = .max
        streaming = true
    }

    deinit { if !streaming { close(fd) } }

    /// Calls `body` with the next line (without its newline); returns false at the end of the file.
    /// `complete` is false for a final line that had no newline.
    public func next(_ body: (UnsafeRawBufferPointer, _ complete: Bool) -> Void) -> Bool {
        while true {
            let nl = buffer.withUnsafeBytes { b -> Int? in
                guard let base = b.baseAddress, start < end, let hit = memchr(base + start, 0x0A, end - start) else { return nil }
                return UnsafeRawPointer(hit) - base
            }
            if let nl {
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

    /// Calls `body` with the buffered complete lines (each ending in a newline), reading more
    /// first if there is none; `body` returns how many bytes it used (whole lines). Returns false,
    /// without calling `body`, when no complete line is left: what remains is at most a last line
    /// without a newline, for `next`.
    func completeLines(_ body: (UnsafeRawBufferPointer) -> Int) -> Bool {
        while true {
            let last = buffer.withUnsafeBytes { b -> Int? in
                guard let base = b.baseAddress else { return nil }
                var i = end - 1  // the last newline: a line back at most
                while i >= start, base.load(fromByteOffset: i, as: UInt8.self) != 0x0A { i -= 1 }
                return i >= start ? i : nil
            }
            if let last {
                let used = buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start...last])) }
                start += used
                return true
            }
            if eof { return false }
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
        if end == buffer.count {
            // No newline in a whole buffer (the line cap): count the line and drop it to its newline.
            oversizedLines += 1
            skippingLongLine = true
            end = 0
        }
        let n = buffer.withUnsafeMutableBytes { b -> Int in
            guard let base = b.baseAddress, offset < limit else { return 0 }
            if streaming {
                while true {
                    let n = read(fd, base + end, b.count - end)
                    if n < 0, errno == EINTR { continue }
                    return n
                }
            }
            return pread(fd, base + end, min(b.count - end, limit - offset), off_t(offset))
        }
        if n <= 0 {
            eof = true
            if skippingLongLine { end = 0 }
        } else {
            end += n
            offset += n
            if skippingLongLine {
                let nl = buffer.withUnsafeBytes { b -> Int? in
                    guard let base = b.baseAddress, let hit = memchr(base + start, 0x0A, end - start) else { return nil }
                    return UnsafeRawPointer(hit) - base
                }
                if let nl {
                    start = nl + 1
                    skippingLongLine = false
                } else {
                    end = 0
                }
            }
        }
    }
}

/// Events of one or more recordings merged in time order. An event's time is when bfftop received it
/// (`rt`) in recordings, else when it happened (end of an invocation).
///
/// Successful invocations in bfftop's own format (nearly every line of a recording) are read by
/// `RecordingFastDecoder` into plain `PackedInvocation`s; every other line goes through the general
/// decoders as `WireEvent`s.
final class RecordingStream {
    struct Item {
        var time: Double
        var event: WireEvent
        var receivedAt: Double?
    }

    // Per-line state of a single-threaded reader: no run-time exclusivity checks (see `LineFileReader`).
    @exclusivity(unchecked) private var readers: [LineFileReader]
    /// Per file, events decoded but not yet merged (several files), or not yet handed over.
    @exclusivity(unchecked) private var lookahead: [ReplayBatch]
    @exclusivity(unchecked) private var cursors: [BatchCursor]
    /// The fast decoder, taken out for a whole batch (`withFastPath`): touching a class's stored
    /// properties on every line costs a dynamic exclusivity check each.
    private var fastPath: FastPath? = FastPath()
    /// Names already handed over in a batch.
    private var namesReported = 0
    private var undecoded = 0
    /// Lines no decoder understood, and lines over the length cap.
    var skipped: Int { undecoded + readers.reduce(0) { $0 + $1.oversizedLines } }
    private(set) var truncatedLastLines = 0
    /// Lines that are neither events nor malformed: START/END lines, application logs.
    private(set) var otherLines = 0
    let paths: [String]
    /// Name for Lambda REPORT lines, which do not carry the function's name.
    let function: String
    /// Per file, the files' stages of the one decoder chain (native recording lines, EMF, function
    /// logs, which keep state across lines); the fast stage runs inline first (`decodeLine`).
    private var chains: [DecoderChain]

    /// `range`: only these bytes of the single file in `paths` (a chunk, see `ChunkPlan`).
    init(paths: [String], function: String = "lambda", format: FunctionLogDecoder.Format = .auto,
         range: Range<Int>? = nil) throws(ReplayError) {
        self.paths = paths
        self.function = function
        chains = Array(repeating: DecoderChain(stages: .files, recordings: true, logFormat: format, defaultFunction: function), count: paths.count)
        var rs: [LineFileReader] = []
        for p in paths { rs.append(try LineFileReader(path: p, range: paths.count == 1 ? range : nil)) }
        readers = rs
        lookahead = Array(repeating: ReplayBatch(), count: rs.count)
        cursors = Array(repeating: BatchCursor(), count: rs.count)
        for i in readers.indices { refill(i) }
    }

    /// Goes on with another chunk of the (single) file: names keep their ids and the line counters
    /// their counts, so one stream can decode a series of chunks (see `PrefetchingStream`).
    func moveTo(range: Range<Int>) throws(ReplayError) {
        guard readers.count == 1 else { return }
        readers[0] = try LineFileReader(path: paths[0], range: range)
        refill(0)
    }

    /// Successful invocations in bfftop's own format.
    private struct FastPath {
        var fast = RecordingFastDecoder()

        /// Appends the line's invocation to `batch` if the fast path reads it.
        @inline(__always) mutating func take(_ line: UnsafeRawBufferPointer, into batch: inout ReplayBatch) -> Bool {
            // An in-flight id goes straight into the batch's list, which `packed.id` then indexes.
            guard let packed = fast.decode(line, ids: &batch.ids) else { return false }
            batch.packed.append(packed)
            return true
        }
    }

    private func withFastPath<R>(_ body: (inout FastPath) -> R) -> R {
        var path = fastPath.take() ?? FastPath()
        defer { fastPath = path }
        return body(&path)
    }

    /// Decodes the next line of file `i` that yields events, appending them to `batch`; false at
    /// the end of the file.
    private func decodeNext(_ i: Int, into batch: inout ReplayBatch) -> Bool {
        withFastPath { path in decodeNext(i, path: &path, into: &batch) }
    }

    private func decodeNext(_ i: Int, path: inout FastPath, into batch: inout ReplayBatch) -> Bool {
        let before = batch.count
        let reader = readers[i]
        while batch.count == before {
            let more = reader.next { line, complete in decodeLine(i, line, complete: complete, path: &path, into: &batch) }
            if !more { return false }
        }
        return true
    }

    /// Decodes whole lines of file `i` straight from the read buffer until `batch` holds `limit`
    /// events; false at the end of the file. One loop over the buffer, not a call per line.
    private func decodeLines(_ i: Int, limit: Int, path: inout FastPath, into batch: inout ReplayBatch) -> Bool {
        let reader = readers[i]
        while !batch.isFull(limit) {
            let more = reader.completeLines { region in
                guard let base = region.baseAddress else { return 0 }
                var p = base
                let end = base + region.count
                while p < end, !batch.isFull(limit) {
                    // Every line in the region ends in a newline.
                    let nl = UnsafeRawPointer(memchr(p, 0x0A, end - p) ?? UnsafeMutableRawPointer(mutating: end - 1))
                    let line = UnsafeRawBufferPointer(start: p, count: nl - p)
                    decodeLine(i, line, complete: true, path: &path, into: &batch)
                    p = nl + 1
                }
                return p - base
            }
            if !more { return decodeNext(i, path: &path, into: &batch) }
        }
        return true
    }

    /// One line: the chain's fast stage inline (straight into the batch, names shared with the
    /// batch's table), tried once per line, first when the line starts with its brace; then the
    /// rest of the chain.
    @inline(__always)
    private func decodeLine(_ i: Int, _ line: UnsafeRawBufferPointer, complete: Bool, path: inout FastPath, into batch: inout ReplayBatch) {
        let brace = line.first == 0x7B  // {
        if brace, path.take(line, into: &batch) { return }
        if !brace, line.first(where: { $0 != 0x20 && $0 != 0x09 }) == 0x7B, path.take(line, into: &batch) { return }
        switch chains[i].decode(line) {
        case .event(let e, let rt): batch.append(Item(time: rt ?? e.eventTime, event: e, receivedAt: rt))
        case .invocations(let invs):
            for inv in invs { batch.append(Item(time: inv.endTs, event: .invocation(inv), receivedAt: nil)) }
        case .events(let evs):
            for e in evs { batch.append(Item(time: e.eventTime, event: e, receivedAt: nil)) }
        case .packed(let p):  // not among the files' stages (the fast stage ran above); read the same if it were
            let e = WireEvent.invocation(chains[i].invocation(p))
            batch.append(Item(time: e.eventTime, event: e, receivedAt: nil))
        case .other: otherLines += 1
        case .header, .control: break
        case .malformed:
            if complete { undecoded += 1 } else { truncatedLastLines += 1 }
        }
    }

    /// Starts file `i`'s look-ahead afresh with its next line's events (empty at the end).
    private func refill(_ i: Int) {
        lookahead[i].removeAll()
        cursors[i] = BatchCursor()
        _ = decodeNext(i, into: &lookahead[i])
    }

    private func headTime(_ i: Int) -> Double? { cursors[i].time(in: lookahead[i]) }

    /// The earliest pending event, without consuming it (before the first `fill`).
    var peekTime: Double? { readers.indices.compactMap(headTime).min() }

    /// Moves up to about `limit` events, in time order, into `batch`; false once nothing is left.
    func fill(_ batch: inout ReplayBatch, limit: Int) -> Bool {
        defer {
            if let names = fastPath?.fast.names, namesReported < names.count {
                batch.newNames.append(contentsOf: names.names[namesReported...])
                namesReported = names.count
            }
        }
        guard !readers.isEmpty else { return false }
        if readers.count == 1 {
            // One file: what is left of the look-ahead, then decode straight into the batch.
            while cursors[0].move(from: lookahead[0], into: &batch) {}
            return withFastPath { path in decodeLines(0, limit: limit, path: &path, into: &batch) }
        }
        while !batch.isFull(limit) {
            var best = -1
            var bestTime = Double.infinity
            for i in readers.indices {
                if let t = headTime(i), t < bestTime || best < 0 {
                    bestTime = t
                    best = i
                }
            }
            guard best >= 0 else { return false }
            _ = cursors[best].move(from: lookahead[best], into: &batch)
            if cursors[best].atEnd(of: lookahead[best]) { refill(best) }
        }
        return true
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
        var chain = DecoderChain(stages: .files, recordings: true, defaultFunction: function)
        var lines = buf[0..<n].split(separator: 0x0A, omittingEmptySubsequences: true)
        if want < size, !lines.isEmpty { lines.removeFirst() }
        var last: Double?
        for line in lines {
            let t: Double? = Array(line).withUnsafeBytes { b in
                switch chain.decode(b) {
                case .event(let e, let rt): return rt ?? e.eventTime
                case .invocations(let invs): return invs.map(\.endTs).max()
                case .events(let evs): return evs.map(\.eventTime).max()
                case .packed(let p): return WireEvent.invocation(chain.invocation(p)).eventTime
                default: return nil
                }
            }
            if let t { last = max(last ?? t, t) }
        }
        return last
    }
}

import BFFTopWire
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the header shows about recording.
public struct RecordingStatus: Sendable, Equatable {
    public var path: String
    public var bytesWritten: Int = 0
    public var events: Int = 0
    /// Events the recorder could not keep up with (dropped, never written).
    public var dropped: Int = 0
    /// The current problem (unwritable path, disk full), nil when all is well.
    public var error: String?
    public var rotations: Int = 0

    public init(path: String) { self.path = path }
}

/// `--record FILE`: appends every received event to FILE as NDJSON, on a thread of its own so ingest
/// never waits for the disk.
///
/// File format (v1): a header line `{"bfftop_recording":1,"started":…,"source":"…"}`, then one native
/// protocol line per event with its receive time added as `"rt"`. Lines are only ever written whole
/// (the buffer holds complete lines), so a `kill -9` can at worst cut the last line; everything before
/// it replays. What the engine hands over is written at once, one `write` per round of batches (no
/// buffering in the process beyond that round): the kernel's page cache survives a `kill -9`, so
/// such a kill loses only the events the engine and the writer hold at that instant.
/// With `maxBytes`, FILE rotates to FILE.1 (FILE.1 to FILE.2, …, keeping `keep` old files).
public final class Recorder: Sendable {
    public let path: String
    private let source: String
    private let maxBytes: Int?
    private let keep: Int
    private let queue = Mutex<(batches: [WireEventBatch], queued: Int)>(([], 0))
    private let status: Mutex<RecordingStatus>
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)
    private let wake = DispatchSemaphore(value: 0)
    static let queueCapacity = 4_000_000
    static let flushBytes = 256 << 10

    public init(path: String, source: String, maxBytes: Int? = nil, keep: Int = 5) {
        self.path = path
        self.source = source
        self.maxBytes = maxBytes
        self.keep = max(1, keep)
        self.status = Mutex(RecordingStatus(path: path))
    }

    public func start() {
        startThread(name: "bfftop-recorder") { [self] in self.run() }
    }

    /// Queues a batch for writing; drops (and counts) if the disk is far behind.
    public func record(_ batch: WireEventBatch) {
        let (accepted, first) = queue.withLock { q -> (Bool, Bool) in
            guard q.queued + batch.count <= Self.queueCapacity else {
                // Later batches of the source name their events by ids these names continue.
                if let names = batch.bookkeeping { q.batches.append(names) }
                return (false, q.batches.count == 1)
            }
            q.batches.append(batch)
            q.queued += batch.count
            return (true, q.batches.count == 1)
        }
        if !accepted { status.withLock { $0.dropped += batch.count } }
        if first { wake.signal() }  // the writer sleeps only while there is nothing to write
    }

    public var currentStatus: RecordingStatus { status.withLock { $0 } }

    /// Writes what is queued and closes the file (waits up to 5 s).
    public func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        wake.signal()
        _ = finished.wait(timeout: .now() + 5)
    }

    // MARK: - Writer thread

    private func run() {
        var file = RecordingFile(path: path, header: header())
        var buffer: [UInt8] = []
        var names = BatchNames()
        buffer.reserveCapacity(Self.flushBytes + 64 << 10)
        func flush() {
            guard !buffer.isEmpty else { return }
            let result = file.append(buffer)
            buffer.removeAll(keepingCapacity: true)
            status.withLock { s in
                s.bytesWritten = file.bytesWritten
                s.error = result
            }
            if let maxBytes, file.size >= maxBytes, result == nil {
                file.rotate(keep: keep, header: header())
                let opened = file.append([])  // the new file starts with its header right away
                status.withLock {
                    $0.rotations += 1
                    $0.error = opened
                }
            }
        }
        while true {
            let stopping = !running.load(ordering: .relaxed)
            let batches = queue.withLock { q -> [WireEventBatch] in
                defer { q = ([], 0) }
                return q.batches
            }
            var count = 0
            for batch in batches {
                let rt = JSONObjectWriter.fixed(batch.receivedAt, decimals: 6)
                names.forEach(in: batch) { e in
                    var line = NativeEncoder.encode(e)
                    // {"v":1,… -> {"rt":…,"v":1,…
                    line.insert(contentsOf: "\"rt\":\(rt),", at: line.index(after: line.startIndex))
                    buffer.append(contentsOf: line.utf8)
                    buffer.append(0x0A)
                    count += 1
                }
                if buffer.count >= Self.flushBytes { flush() }
            }
            flush()
            if count > 0 { status.withLock { $0.events += count } }
            if stopping { break }
            if batches.isEmpty { _ = wake.wait(timeout: .now() + 0.1) }
        }
        file.close()
        finished.signal()
    }

    private func header() -> String {
        var w = JSONObjectWriter()
        w.number("bfftop_recording", 1)
        w.fixed("started", wallClock())
        w.string("source", source)
        return w.finish()
    }
}

/// The file itself: opened for append (created 0600, this user's regular file only), reopened after a failure, rotated by rename.
struct RecordingFile {
    let path: String
    private var fd: Int32 = -1
    private(set) var size = 0
    private(set) var bytesWritten = 0
    private var pendingHeader: String?

    init(path: String, header: String) {
        self.path = path
        pendingHeader = header
    }

    /// Appends whole lines. Returns a description of the problem, or nil.
    mutating func append(_ bytes: [UInt8]) -> String? {
        if fd < 0 {
            // Never through a link another user planted, never into a file of theirs (`PrivateFile`).
            switch PrivateFile.openForAppend(path) {
            case .success(let f): fd = f
            case .failure(let e): return "cannot record to \(path): \(e.reason)"
            }
            var st = stat()
            size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
            if let h = pendingHeader, size == 0 {
                if let e = writeAll(Array((h + "\n").utf8)) { return e }
            }
            pendingHeader = nil
        }
        return writeAll(bytes)
    }

    private mutating func writeAll(_ bytes: [UInt8]) -> String? {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { buf -> Int in
                guard let base = buf.baseAddress else { return 0 }
                return write(fd, base + off, buf.count - off)
            }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                // Start the next attempt on a fresh line, so a partial write never glues two lines.
                if off > 0 { _ = write(fd, "\n", 1) }
                return "recording to \(path) failed: \(reason); events are still shown"
            }
            off += n
            size += n
            bytesWritten += n
        }
        return nil
    }

    mutating func rotate(keep: Int, header: String) {
        close()
        for i in stride(from: keep - 1, through: 1, by: -1) {
            rename("\(path).\(i)", "\(path).\(i + 1)")
        }
        rename(path, "\(path).1")
        pendingHeader = header
        size = 0
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}


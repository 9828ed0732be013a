#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BFFTopWire

/// Splits a byte stream into lines and decodes each one independently: a bad line is counted and
/// described, and never affects the lines around it. Transport-agnostic so it is tested without sockets.
public struct LineDecoder {
    public static let defaultMaxLineBytes = 1 << 20

    public let maxLineBytes: Int
    /// The socket's stages of the one decoder chain: successful invocations by replay's fast
    /// decoder first (no token objects; names interned once per connection, at most `fastNames`),
    /// then any native event, control messages, EMF.
    private var chain = DecoderChain(stages: .socket, fastNames: LineDecoder.fastNames, keepsEveryField: true)
    static let fastNames = 2048
    /// True while skipping the rest of an over-long line.
    private var discarding = false

    /// What was decoded since the last `takeBatch` (packed events named by this connection's ids).
    private var batch = WireEventBatch(receivedAt: 0, events: [])
    /// How many of the fast stage's names earlier batches carried.
    private var namesSent = 0
    /// Control-channel messages (declarations, invoke results), kept apart from events.
    public var controls: [ControlMessage] = []
    public var malformed: [MalformedLine] = []
    public var lines = 0
    let connection: Int
    let origin: String

    public init(connection: Int = 0, origin: String = "", maxLineBytes: Int = LineDecoder.defaultMaxLineBytes) {
        self.connection = connection
        self.origin = origin
        self.maxLineBytes = maxLineBytes
        batch.source = BatchSource.next()
    }

    /// Consumes every complete line in `bytes`; returns how many bytes were consumed. The caller keeps
    /// the unconsumed tail and presents it again with more data.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var pos = 0
        while pos < bytes.count {
            guard let nl = memchr(base + pos, 0x0A, bytes.count - pos) else {
                let remaining = bytes.count - pos
                if discarding { return bytes.count }
                if remaining > maxLineBytes {
                    lines += 1
                    oversize(UnsafeRawBufferPointer(rebasing: bytes[pos..<min(bytes.count, pos + 80)]))
                    discarding = true
                    return bytes.count
                }
                return pos
            }
            let end = UnsafeRawPointer(nl) - base
            if discarding {
                discarding = false
            } else {
                line(UnsafeRawBufferPointer(rebasing: bytes[pos..<end]))
            }
            pos = end + 1
        }
        return pos
    }

    /// The connection closed: whatever is left is a final line without its newline.
    public mutating func finish(_ rest: UnsafeRawBufferPointer) {
        if discarding {
            discarding = false
            return
        }
        if !rest.isEmpty { line(rest) }
    }

    private mutating func line(_ raw: UnsafeRawBufferPointer) {
        var l = raw
        if let last = l.last, last == 0x0D { l = UnsafeRawBufferPointer(rebasing: l.dropLast()) }
        if l.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }  // blank lines are not events
        lines += 1
        if l.count > maxLineBytes {
            oversize(UnsafeRawBufferPointer(rebasing: l.prefix(80)))
            return
        }
        // Decoded straight into the batch's next element; taken back if the line is not one.
        batch.packed.append(.unread)
        let read = batch.packed.withUnsafeMutableBufferPointer { b in chain.decodeFast(l, into: &b[b.count - 1]) }
        if read { return takeID(ofPacked: batch.packed.count - 1) }
        batch.packed.removeLast()
        switch chain.decode(l, afterFast: true) {
        case .packed(let packed): append(packed)
        case .event(let e, _): batch.append(general: e)
        case .events(let evs): for e in evs { batch.append(general: e) }
        case .invocations(let invs): for i in invs { batch.append(general: .invocation(i)) }
        case .control(let m): controls.append(m)
        case .header, .other: break
        case .malformed(let reason):
            malformed.append(MalformedLine(connection: connection, origin: origin, reason: reason, excerpt: Self.excerpt(l)))
        }
    }

    /// A packed invocation the chain's later stages read, appended to the batch.
    @inline(__always) private mutating func append(_ p: PackedInvocation) {
        batch.packed.append(p)
        takeID(ofPacked: batch.packed.count - 1)
    }

    /// Moves the in-flight id of the batch's packed event `i` from the chain's per-line list to the batch's.
    @inline(__always) private mutating func takeID(ofPacked i: Int) {
        let id = batch.packed[i].id
        guard id >= 0 else { return }
        batch.ids.append(chain.ids[Int(id)])
        batch.packed[i].id = Int32(batch.ids.count - 1)
    }

    /// Counts a line over the cap as malformed (the caller has counted the line).
    private mutating func oversize(_ head: UnsafeRawBufferPointer) {
        malformed.append(MalformedLine(
            connection: connection, origin: origin,
            reason: "line longer than \(maxLineBytes / 1024) KiB (skipped to the next newline)", excerpt: Self.excerpt(head)))
    }

    package static func excerpt(_ l: UnsafeRawBufferPointer) -> String { TerminalSafe.excerpt(l) }

    /// Hands over what was decoded since the last call.
    public mutating func takeControls() -> [ControlMessage] {
        defer { controls.removeAll() }
        return controls
    }

    /// Hands over what was decoded since the last call as one batch stamped `receivedAt`, with the
    /// names first seen since; `closing`: the connection is done (its name table can go).
    public mutating func takeBatch(receivedAt: Double, closing: Bool = false) -> (batch: WireEventBatch, malformed: [MalformedLine], lines: Int) {
        batch.takeNewNames(chain.fast.names.names, sent: &namesSent)
        batch.receivedAt = receivedAt
        batch.closesSource = closing
        var out = WireEventBatch(receivedAt: 0, events: [])
        out.source = batch.source
        swap(&out, &batch)
        defer {
            malformed.removeAll()
            lines = 0
        }
        return (out, malformed, lines)
    }

    /// The events decoded since the last call, named (for tests and tools that want general events).
    public mutating func take() -> (events: [WireEvent], malformed: [MalformedLine], lines: Int) {
        let (b, m, l) = takeBatch(receivedAt: wallClock())
        return (names.events(of: b), m, l)
    }
    private var names = BatchNames()
}

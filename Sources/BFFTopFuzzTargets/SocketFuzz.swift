import BFFTopEngine
import BFFTopWire

enum SocketFuzz {
    /// The socket's whole decoder chain on a stream of bytes, cut into two reads at a point the
    /// input chooses: every line is counted once (events, control messages or malformed), and
    /// nothing decoded breaks the limits.
    @Sendable static func lines(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var d = LineDecoder(connection: 1, origin: "fuzz", maxLineBytes: 256)
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        var pending: [UInt8] = []
        for part in [bytes[0..<cut], bytes[cut...]] {
            pending += part
            let used = pending.withUnsafeBytes { d.consume($0) }
            pending.removeFirst(min(used, pending.count))
        }
        pending.withUnsafeBytes { d.finish($0) }
        let (events, malformed, lines) = d.take()
        var out = events.flatMap(limitViolations)
        let newlines = bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        if lines > newlines + 1 { out.append("\(lines) lines counted in \(newlines + 1) at most") }
        if malformed.count > lines { out.append("\(malformed.count) malformed of \(lines) lines") }
        for m in malformed where m.excerpt.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            out.append("control character in an excerpt: \(m.excerpt.debugDescription)")
        }
        return out
    }
}

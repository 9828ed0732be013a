/// DogStatsD over a Unix stream socket: `[u32 little-endian length][payload]` frames, as the
/// Datadog clients write them. Bytes arrive in reads of any size; the framer keeps the partial
/// frame between reads (at most `maxFrameBytes` + 4 bytes) and hands over each whole payload.
public struct DogStatsDFramer: Sendable {
    public enum Result: Equatable, Sendable {
        case ok
        /// A length over the cap: the agent closes such a connection, and so does bfftop.
        case oversized(length: Int)
    }

    public let maxFrameBytes: Int
    private var pending: [UInt8] = []

    public init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// Bytes held for a frame not yet complete.
    public var bufferedBytes: Int { pending.count }

    /// Consumes `bytes`, calling `body` with each complete payload in order.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) -> Result {
        var input = bytes
        // Finish a frame begun in an earlier read.
        if !pending.isEmpty {
            if pending.count < 4 {
                let take = min(4 - pending.count, input.count)
                pending += input.prefix(take)
                input = UnsafeRawBufferPointer(rebasing: input[take...])
                guard pending.count == 4 else { return .ok }
            }
            let len = Self.length(pending)
            guard len <= maxFrameBytes else { return .oversized(length: len) }
            let take = min(4 + len - pending.count, input.count)
            pending += input.prefix(take)
            input = UnsafeRawBufferPointer(rebasing: input[take...])
            guard pending.count == 4 + len else { return .ok }
            pending.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[4...])) }
            pending.removeAll(keepingCapacity: true)
        }
        // Whole frames straight from the read, without copying.
        var at = 0
        while input.count - at >= 4 {
            let len = Self.length(UnsafeRawBufferPointer(rebasing: input[at..<(at + 4)]))
            guard len <= maxFrameBytes else { return .oversized(length: len) }
            guard input.count - at - 4 >= len else { break }
            body(UnsafeRawBufferPointer(rebasing: input[(at + 4)..<(at + 4 + len)]))
            at += 4 + len
        }
        pending += input[at...]
        return .ok
    }

    private static func length<C: Collection>(_ h: C) -> Int where C.Element == UInt8 {
        var len = 0
        for (i, b) in h.prefix(4).enumerated() { len |= Int(b) << (8 * i) }
        return len
    }
}

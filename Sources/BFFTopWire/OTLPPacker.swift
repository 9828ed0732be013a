/// Successful invocations mapped from OTLP spans, packed for the engine's fast path: names are ids
/// in the receiver's own `NameTable` (sent to the engine batch by batch), so the engine takes them
/// as it takes replay's and DogStatsD's, without a `String` per event. Anything else (failures,
/// names past the table's bounds) stays a general event. The invocation id is not kept: only
/// `start` events pair with it, and OTLP has none.
public struct OTLPPacker: Sendable {
    public private(set) var names: NameTable

    public init(nameLimit: Int = 4_096) {
        names = NameTable(limit: nameLimit)
    }

    public mutating func pack(_ i: Invocation) -> PackedInvocation? {
        guard i.outcome == .ok, i.error == nil, !i.test, i.billedMs == nil, i.initMs == nil, i.maxMemoryMB == nil, i.timeoutMs == nil,
              i.arch == nil, let endpoint = intern(i.endpoint) else { return nil }
        var service: Int32 = -1
        if let s = i.service {
            guard let id = intern(s) else { return nil }
            service = id
        }
        var parent: Int32 = -1
        if let p = i.parent {
            guard let id = intern(p) else { return nil }
            parent = id
        }
        var out = PackedInvocation(receivedAtRaw: .nan, ts: i.ts, durationMs: i.durationMs, endpoint: endpoint, service: service, kind: i.kind)
        out.parent = parent
        out.status = i.status.map { Int16(clamping: $0) } ?? -1
        out.coldStart = i.coldStart
        out.memoryRaw = i.memoryMB ?? .nan
        return out
    }

    private mutating func intern(_ s: String) -> Int32? {
        var s = s
        return s.withUTF8 { b in b.baseAddress.flatMap { names.id($0, b.count) } }
    }
}

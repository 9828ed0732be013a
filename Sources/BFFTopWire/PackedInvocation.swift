/// A successful invocation read straight from a recording line: plain values only (names are
/// `NameTable` ids, an in-flight id indexes a side list), so batches of them cross threads and
/// are copied without reference counting. Its error text and trace id are not kept:
/// only failures' are shown, and failures take the general path.
public struct PackedInvocation: Sendable, Equatable {
    // Optional figures are stored as NaN-for-none: batches of these are written by one thread and
    // read by another millions of times a second, and 88 bytes move faster than 144.
    @usableFromInline var receivedAtRaw: Double
    public var ts: Double
    public var durationMs: Double
    var billedRaw: Double = .nan
    var memoryRaw: Double = .nan
    var maxMemoryRaw: Double = .nan
    var initRaw: Double = .nan
    var timeoutRaw: Double = .nan
    public var endpoint: Int32
    /// -1: none.
    public var service: Int32 = -1
    public var parent: Int32 = -1
    /// Index into the in-flight ids that travel with the batch; -1: none.
    public var id: Int32 = -1
    /// HTTP status; -1: none.
    public var status: Int16 = -1
    public var kind: EndpointKind
    public var arch: Architecture?
    public var coldStart = false
    public var test = false

    /// Storage for a decoder to write into, before it has read anything.
    public static var unread: PackedInvocation { PackedInvocation(receivedAtRaw: .nan, ts: 0, durationMs: 0, endpoint: -1, service: -1, kind: .route) }

    /// What every invocation has; the rest is filled in as the decoder finds it (NaN: none).
    @inline(always) init(receivedAtRaw: Double, ts: Double, durationMs: Double, endpoint: Int32, service: Int32, kind: EndpointKind) {
        self.receivedAtRaw = receivedAtRaw
        self.ts = ts
        self.durationMs = durationMs
        self.endpoint = endpoint
        self.service = service
        self.kind = kind
    }

    public init(receivedAt: Double?, ts: Double, durationMs: Double, billedMs: Double?, memoryMB: Double?, maxMemoryMB: Double?,
                initMs: Double?, timeoutMs: Double?, endpoint: Int32, service: Int32 = -1, parent: Int32 = -1, id: Int32 = -1,
                status: Int? = nil, kind: EndpointKind, arch: Architecture?, coldStart: Bool, test: Bool) {
        self.init(receivedAtRaw: receivedAt ?? .nan, ts: ts, durationMs: durationMs, endpoint: endpoint, service: service, kind: kind)
        self.status = status.map { Int16(clamping: $0) } ?? -1
        billedRaw = billedMs ?? .nan
        memoryRaw = memoryMB ?? .nan
        maxMemoryRaw = maxMemoryMB ?? .nan
        initRaw = initMs ?? .nan
        timeoutRaw = timeoutMs ?? .nan
        self.parent = parent
        self.id = id
        self.arch = arch
        self.coldStart = coldStart
        self.test = test
    }

    /// When bfftop received it (`rt`), in recordings.
    public var receivedAt: Double? {
        get { receivedAtRaw.isNaN ? nil : receivedAtRaw }
        set { receivedAtRaw = newValue ?? .nan }
    }
    public var billedMs: Double? { billedRaw.isNaN ? nil : billedRaw }
    public var memoryMB: Double? { memoryRaw.isNaN ? nil : memoryRaw }
    public var maxMemoryMB: Double? { maxMemoryRaw.isNaN ? nil : maxMemoryRaw }
    public var initMs: Double? { initRaw.isNaN ? nil : initRaw }
    public var timeoutMs: Double? { timeoutRaw.isNaN ? nil : timeoutRaw }

    public static func == (a: Self, b: Self) -> Bool {
        a.receivedAt == b.receivedAt && a.ts == b.ts && a.durationMs == b.durationMs && a.billedMs == b.billedMs
            && a.memoryMB == b.memoryMB && a.maxMemoryMB == b.maxMemoryMB && a.initMs == b.initMs && a.timeoutMs == b.timeoutMs
            && a.endpoint == b.endpoint && a.service == b.service && a.parent == b.parent && a.id == b.id
            && a.status == b.status && a.kind == b.kind
            && a.arch == b.arch && a.coldStart == b.coldStart && a.test == b.test
    }

    /// Replay's clock: receive time in recordings, else the end of the invocation (as `WireEvent`).
    @inline(always) public var time: Double { receivedAtRaw.isNaN ? ts + durationMs / 1000 : receivedAtRaw }

    /// The same invocation as the general decoder builds it (outcome ok; no error or trace:
    /// only successful invocations take this path).
    public func invocation(names: [String], ids: [String]) -> Invocation {
        Invocation(
            ts: ts, service: service >= 0 ? names[Int(service)] : nil, endpoint: names[Int(endpoint)], kind: kind,
            durationMs: durationMs, billedMs: billedMs, memoryMB: memoryMB, maxMemoryMB: maxMemoryMB,
            coldStart: coldStart, initMs: initMs, outcome: .ok, status: status >= 0 ? Int(status) : nil, timeoutMs: timeoutMs,
            parent: parent >= 0 ? names[Int(parent)] : nil, arch: arch, id: id >= 0 ? ids[Int(id)] : nil, test: test)
    }
}

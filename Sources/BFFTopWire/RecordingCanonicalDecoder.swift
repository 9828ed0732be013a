/// The fastest path of `RecordingFastDecoder`: a successful invocation exactly as bfftop's own
/// encoder and recorder write it — keys in their fixed order, no spaces. Each expected key is one
/// masked compare of a few words (`,"duration_ms":` …), so no key is scanned or looked up. A line in
/// any other shape returns nil and the general fast path reads it, with the same result.
extension RecordingFastDecoder {
    /// The head every invocation line has, then a route's usual end inline; anything after that
    /// goes to `canonicalTail`. Kept small on purpose: the compiler inlines the cursor's key,
    /// number and name helpers only into a function of modest size, and their calls were a fifth
    /// of decoding.
    /// Writes the invocation into `packed` (the caller's storage: an element of the batch, so the
    /// value is not moved through optionals and locals on its way there; those copies stalled on
    /// store forwarding, about a tenth of an event loop's time by `perf`). False: `packed` holds
    /// nothing of use and the line goes on to the general fast path.
    mutating func decodeCanonical(_ line: UnsafeRawBufferPointer, ids: inout [String], into packed: inout PackedInvocation) -> Bool {
        guard let base = line.baseAddress else { return false }
        var c = FastCursor(p: base, end: base + line.count)
        var rt = Double.nan
        if c.skip(keys.rt) {
            guard let v = c.number(), c.skip(keys.vAfterRT) else { return false }
            rt = v
        } else {
            guard c.skip(keys.vFirst) else { return false }
        }
        guard c.skip(keys.invocationTS), let ts = c.number() else { return false }
        var service: Int32 = -1
        if c.skip(keys.service) { guard nameBody(&c, &service) else { return false } }
        var endpoint: Int32 = -1
        guard c.skip(keys.endpoint), nameBody(&c, &endpoint), c.skip(keys.kind) else { return false }
        let kind: EndpointKind
        if c.skip(keys.route) {
            kind = .route
        } else if c.skip(keys.function) {
            kind = .function
        } else {
            return false
        }
        guard c.skip(keys.duration), let duration = c.number() else { return false }
        // Numbers read here are finite and non-negative; the general decoder's upper limits remain.
        guard ts < WireLimits.maxTimestamp, !(rt >= WireLimits.maxTimestamp), duration <= WireLimits.maxFigure else { return false }
        packed = PackedInvocation(receivedAtRaw: rt, ts: ts, durationMs: duration, endpoint: endpoint, service: service, kind: kind)
        let outcomeRead = c.skip(keys.outcomeOK)
        if outcomeRead {
            if c.skip(keys.status) { guard let v = c.number(), packed.setStatus(v) else { return false } }
            if c.endsWithBrace { return true }
        }
        return canonicalTail(&c, &packed, outcomeRead: outcomeRead, ids: &ids)
    }

    /// The rest of a canonical line after its duration: function figures (when the outcome is not
    /// next), then the optional keys in the encoder's order.
    @inline(never)
    private mutating func canonicalTail(_ c: inout FastCursor, _ packed: inout PackedInvocation, outcomeRead: Bool, ids: inout [String]) -> Bool {
        if !outcomeRead {
            if c.skip(keys.billed) { guard let v = c.number() else { return false }; packed.billedRaw = v }
            if c.skip(keys.memory) { guard let v = c.number() else { return false }; packed.memoryRaw = v }
            if c.skip(keys.maxMemory) { guard let v = c.number() else { return false }; packed.maxMemoryRaw = v }
            if c.skip(keys.coldTrue) { packed.coldStart = true }
            if c.skip(keys.initMs) {
                guard let v = c.number() else { return false }
                packed.initRaw = v
                packed.coldStart = true  // an init duration means a cold start, as in the general decoder
            }
            guard c.skip(keys.outcomeOK) else { return false }  // failures carry messages: the general decoder
            let m = WireLimits.maxFigure  // absent figures are NaN: no comparison holds
            if packed.billedRaw > m || packed.memoryRaw > m || packed.maxMemoryRaw > m || packed.initRaw > m { return false }
            if c.skip(keys.status) { guard let v = c.number(), packed.setStatus(v) else { return false } }
        }
        if c.endsWithBrace { return true }
        if c.skip(keys.error) { guard !keepsEveryField, c.stringBody()?.isValidUTF8 == true else { return false } }
        if c.skip(keys.timeout) { guard let v = c.number(), v <= WireLimits.maxFigure else { return false }; packed.timeoutRaw = v }
        if c.skip(keys.traceID) { guard !keepsEveryField, c.stringBody()?.isValidUTF8 == true else { return false } }
        if c.skip(keys.parent) { guard nameBody(&c, &packed.parent) else { return false } }
        if c.skip(keys.arch) {
            if c.skip(keys.arm64) {
                packed.arch = .arm64
            } else if c.skip(keys.x86) {
                packed.arch = .x86_64
            } else {
                return false
            }
        }
        if c.skip(keys.id) {
            guard let s = c.stringBody(), let text = s.string else { return false }
            packed.id = Int32(ids.count)
            ids.append(text)
        }
        if c.skip(keys.testTrue) { packed.test = true }
        return c.take(0x7D) && c.atEnd  // }
    }

    /// A name after its opening quote: interned (empty names are left to the general decoder).
    @inline(always) private mutating func nameBody(_ c: inout FastCursor, _ out: inout Int32) -> Bool {
        guard let s = c.stringBody(), s.count > 0, let id = names.id(s.start, s.count) else { return false }
        out = id
        return true
    }
}

extension PackedInvocation {
    /// An HTTP status as the general decoder accepts it: a whole number below 1000.
    @inline(always) mutating func setStatus(_ v: Double) -> Bool {
        guard v >= 0, v < 1000 else { return false }  // Int16(v) would trap outside its range
        let s = Int16(v)
        guard Double(s) == v else { return false }
        status = s
        return true
    }
}

/// Up to 32 bytes to expect at the cursor, as little-endian words and masks.
struct BytePattern: Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var masks: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    let count: Int

    init(_ text: String) {
        let bytes = Array(text.utf8.prefix(32))
        count = bytes.count
        var w = [UInt64](repeating: 0, count: 4)
        var m = [UInt64](repeating: 0, count: 4)
        for (i, b) in bytes.enumerated() {
            w[i / 8] |= UInt64(b) << UInt64((i % 8) * 8)
            m[i / 8] |= 0xFF << UInt64((i % 8) * 8)
        }
        words = (w[0], w[1], w[2], w[3])
        masks = (m[0], m[1], m[2], m[3])
    }

    /// Whether the bytes at `p` start with the pattern: a masked compare per word. Near the end of
    /// the line (the last keys of every line are) a word that would run past `end` is loaded from
    /// `end - 8` and shifted down, so no byte loop and no read beyond the line.
    @inline(always) func matches(_ p: UnsafeRawPointer, _ end: UnsafeRawPointer) -> Bool {
        let available = end - p
        if available >= 32 {
            return p.loadUnaligned(as: UInt64.self) & masks.0 == words.0
                && (count <= 8 || p.loadUnaligned(fromByteOffset: 8, as: UInt64.self) & masks.1 == words.1)
                && (count <= 16 || p.loadUnaligned(fromByteOffset: 16, as: UInt64.self) & masks.2 == words.2)
                && (count <= 24 || p.loadUnaligned(fromByteOffset: 24, as: UInt64.self) & masks.3 == words.3)
        }
        guard available >= count else { return false }
        guard available >= 8 else {
            for i in 0..<count where p.load(fromByteOffset: i, as: UInt8.self) != UInt8(truncatingIfNeeded: words.0 >> UInt64(i * 8)) {
                return false
            }
            return true
        }
        @inline(always) func word(_ offset: Int) -> UInt64 {
            if offset + 8 <= available { return p.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
            return (end - 8).loadUnaligned(as: UInt64.self) >> UInt64((offset + 8 - available) * 8)
        }
        return word(0) & masks.0 == words.0
            && (count <= 8 || word(8) & masks.1 == words.1)
            && (count <= 16 || word(16) & masks.2 == words.2)
            && (count <= 24 || word(24) & masks.3 == words.3)
    }
}

/// Every piece of a canonical invocation line, in the encoder's order.
struct CanonicalKeys: Sendable {
    let rt = BytePattern(#"{"rt":"#)
    let vAfterRT = BytePattern(#","v":1,"type":""#)
    let vFirst = BytePattern(#"{"v":1,"type":""#)
    let invocationTS = BytePattern(#"invocation","ts":"#)
    let service = BytePattern(#","service":""#)
    let endpoint = BytePattern(#","endpoint":""#)
    let kind = BytePattern(#","kind":""#)
    let route = BytePattern(#"route""#)
    let function = BytePattern(#"function""#)
    let duration = BytePattern(#","duration_ms":"#)
    let billed = BytePattern(#","billed_ms":"#)
    let memory = BytePattern(#","memory_mb":"#)
    let maxMemory = BytePattern(#","max_memory_mb":"#)
    let coldTrue = BytePattern(#","cold_start":true"#)
    let initMs = BytePattern(#","init_ms":"#)
    let outcomeOK = BytePattern(#","outcome":"ok""#)
    let status = BytePattern(#","status":"#)
    let error = BytePattern(#","error":""#)
    let timeout = BytePattern(#","timeout_ms":"#)
    let traceID = BytePattern(#","trace_id":""#)
    let parent = BytePattern(#","parent":""#)
    let arch = BytePattern(#","arch":""#)
    let arm64 = BytePattern(#"arm64""#)
    let x86 = BytePattern(#"x86_64""#)
    let id = BytePattern(#","id":""#)
    let testTrue = BytePattern(#","test":true"#)
}

extension FastCursor {
    /// Only the closing brace is left.
    @inline(always) var endsWithBrace: Bool { end - p == 1 && p.load(as: UInt8.self) == 0x7D }

    /// Steps over `pattern` if the bytes at the cursor start with it.
    @inline(always) mutating func skip(_ pattern: BytePattern) -> Bool {
        guard pattern.matches(p, end) else { return false }
        p += pattern.count
        return true
    }
}

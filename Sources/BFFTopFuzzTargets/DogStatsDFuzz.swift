import BFFTopWire

public enum DogStatsDFuzz {
    /// Whether the byte reader (`DogStatsDPacker`) and the general parser and mapper read a message
    /// the same way: what the packer accepts, the general path maps to the same invocations; what
    /// it declines, it leaves untouched. Nil when they agree; `accepted` says whether it packed.
    public static func disagreement(_ message: UnsafeRawBufferPointer, packer: inout DogStatsDPacker, mapper: DogStatsDMapper,
                                    at now: Double, accepted: inout Bool) -> String? {
        var packed: [PackedInvocation] = []
        accepted = packer.pack(message, at: now, into: &packed)
        let text = String(decoding: message, as: UTF8.self).debugDescription
        guard accepted else { return packed.isEmpty ? nil : "declined \(text) but appended \(packed.count)" }
        guard case .success(.metric(let m)) = DogStatsDParser.parse(message), case .events(let events) = mapper.map(m, at: now) else {
            return "packed \(text), which the general path does not map to events"
        }
        let fast = packed.map { WireEvent.invocation($0.invocation(names: packer.names.names, ids: [])) }
        return fast == events ? nil : "packed \(text) as \(fast), the general path as \(events)"
    }

    /// One datagram: every message parses or is refused with a reason; mapped events are within
    /// limits; the byte reader agrees with the general one.
    @Sendable static func packet(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var out: [String] = []
        let mapper = DogStatsDMapper()
        var packer = DogStatsDPacker(mapper: mapper, nameLimit: 8)
        var accepted = false
        DogStatsDParser.forEachMessage(bytes) { m in
            if let d = disagreement(m, packer: &packer, mapper: mapper, at: 1_700_000_000, accepted: &accepted) { out.append(d) }
        }
        DogStatsDParser.parsePacket(bytes) { r in
            switch r {
            case .success(.metric(let m)):
                if m.values.contains(where: { !$0.isFinite }) { out.append("non-finite value parsed: \(m.values)") }
                if !(m.sampleRate > 0 && m.sampleRate <= 1) { out.append("sample rate out of range: \(m.sampleRate)") }
                switch mapper.map(m, at: 1_700_000_000) {
                case .events(let es): out += es.flatMap(limitViolations)
                case .clientDropped(let n): if !(0...WireLimits.maxCount).contains(n) { out.append("client drops out of range: \(n)") }
                case .raw, .refused: break
                }
            case .success, .failure: break
            }
        }
        return out
    }

    /// Stream framing (`[u32 LE length][payload]`…): frames are cut exactly, a length over the cap
    /// stops the stream, and every payload is parsed as one packet.
    @Sendable static func stream(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var framer = DogStatsDFramer(maxFrameBytes: 512)
        var out: [String] = []
        var total = 0
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        for part in [UnsafeRawBufferPointer(rebasing: bytes[0..<cut]), UnsafeRawBufferPointer(rebasing: bytes[cut...])] {
            let r = framer.feed(part) { payload in
                total += payload.count
                if payload.count > 512 { out.append("frame of \(payload.count) bytes passed a 512-byte cap") }
                out += packet(payload)
            }
            if case .oversized = r { break }
        }
        if total > bytes.count { out.append("framed \(total) payload bytes out of \(bytes.count)") }
        return out
    }
}

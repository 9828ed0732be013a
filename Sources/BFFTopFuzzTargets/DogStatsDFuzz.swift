import BFFTopWire

enum DogStatsDFuzz {
    /// One datagram: every message parses or is refused with a reason; mapped events are within limits.
    @Sendable static func packet(_ bytes: UnsafeRawBufferPointer) -> [String] {
        var out: [String] = []
        let mapper = DogStatsDMapper()
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

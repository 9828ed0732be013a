import BFFTopWire

enum NativeFuzz {
    /// The general decoder: decoded figures within limits; what the encoder writes decodes, and
    /// writes again to the same text (times go out to the microsecond, so the first encoding may
    /// round; after that nothing may change).
    @Sendable static func native(_ line: UnsafeRawBufferPointer) -> [String] {
        guard case .success(let event) = NativeDecoder().decode(line) else { return [] }
        var out = limitViolations(event)
        let text = NativeEncoder.encode(event)
        switch NativeDecoder().decode(text) {
        case .success(let again):
            let text2 = NativeEncoder.encode(again)
            if text2 != text { out.append("encode∘decode∘encode changed the line: \(text) → \(text2)") }
        case .failure(let e):
            out.append("the decoder refuses what the encoder wrote (\(e)): \(text)")
        }
        return out
    }

    /// Recording lines: the fast decoders (canonical and general flat) accept only what the general
    /// decoder reads as a successful invocation, with the same values.
    @Sendable static func recordingLine(_ line: UnsafeRawBufferPointer) -> [String] {
        let general = Result { () throws(DecodeError) in try NativeDecoder().decodeRecordingLine(line) }
        var out: [String] = []
        if case .success(.event(let e, let rt)) = general {
            out += limitViolations(e)
            if let rt, !(rt >= 0 && rt < WireLimits.maxTimestamp) { out.append("rt out of range: \(rt)") }
        }
        for keepsEveryField in [false, true] {
            var fast = RecordingFastDecoder(keepsEveryField: keepsEveryField)
            var ids: [String] = []
            guard let packed = fast.decode(line, ids: &ids) else { continue }
            guard case .success(.event(.invocation(var expected), let rt)) = general else {
                out.append("fast path took a line the general decoder refuses or reads otherwise: \(general)")
                continue
            }
            if expected.outcome != .ok { out.append("fast path took a failure") }
            if !keepsEveryField { (expected.error, expected.traceID) = (nil, nil) }
            let got = packed.invocation(names: fast.names.names, ids: ids)
            if got != expected { out.append("fast path read \(got), general \(expected)") }
            if packed.receivedAt != rt { out.append("fast path rt \(String(describing: packed.receivedAt)), general \(String(describing: rt))") }
        }
        return out
    }

    @Sendable static func control(_ line: UnsafeRawBufferPointer) -> [String] {
        guard case .success(.result(_, let reply))? = ControlCodec.decode(line) else { return [] }
        var out: [String] = []
        if let s = reply.status, !(0...999).contains(s) { out.append("status out of range: \(s)") }
        if !(reply.durationMs >= 0 && reply.durationMs <= WireLimits.maxFigure) { out.append("duration out of range: \(reply.durationMs)") }
        if !(0...WireLimits.maxCount).contains(reply.bytes) { out.append("bytes out of range: \(reply.bytes)") }
        return out
    }
}

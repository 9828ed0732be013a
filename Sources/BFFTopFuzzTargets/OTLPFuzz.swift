import BFFTopWire

enum OTLPFuzz {
    /// An OTLP/HTTP JSON trace body: decoded or refused with a reason, never a trap; every
    /// invocation within the limits; rejected spans counted with a reason.
    @Sendable static func traces(_ bytes: UnsafeRawBufferPointer) -> [String] {
        do {
            let d = try OTLPTraces.decode(json: Array(bytes))
            var out = d.invocations.flatMap { limitViolations(.invocation($0)) }
            if d.rejected > 0, d.firstRejection == nil { out.append("\(d.rejected) spans rejected without a reason") }
            if d.invocations.count + d.rejected > d.spans { out.append("more invocations than spans") }
            return out
        } catch {
            return error.reason.isEmpty ? ["refused without a reason"] : []
        }
    }
}

import BFFTopWire

/// The packed path into the aggregator: successful invocations read by a fast decoder (replay's,
/// a socket connection's, DogStatsD's, OTLP's), their names ids in the source's `NameMapping`.
extension Aggregator {
    /// Replay's fast path: a successful invocation as `RecordingFastDecoder` reads it, its names
    /// ids in `names`. The same figures as `ingest(.invocation(…))` (failures carry messages for
    /// the failures list and take the general path).
    public func ingest(_ packed: PackedInvocation, inFlightID: String?, names: inout NameMapping, span: SpanContext? = nil) {
        if hideTestTraffic, packed.test {
            testHidden += 1
            return
        }
        guard admitPacked(packed) else { return }
        let id = resolve(packed.endpoint, kind: packed.kind, &names)
        let parentID = packed.parent >= 0 && packed.parent != packed.endpoint ? resolve(packed.parent, kind: .route, &names) : nil
        let service = packed.service
        if service >= 0, endpoints[Int(id)].serviceKey != service {
            endpoints[Int(id)].service = names.names[Int(service)]
            endpoints[Int(id)].serviceKey = service
        }
        let p = PreparedInvocation(packed, pricing: endpoints[Int(id)].pricing, charging: charging, maxClockSkew: config.maxClockSkew)
        apply(p, id: id, parentID: parentID, service: nil, inFlightID: inFlightID)
        if let span { trace(p, id: id, span: span, status: packed.status, text: nil) }
    }

    /// A reader's name id as an endpoint id, resolved once per name (over the cap: the overflow
    /// row of the kind it was first seen with).
    @inline(__always) private func resolve(_ local: Int32, kind: EndpointKind, _ m: inout NameMapping) -> Int32 {
        var id = m.endpointIDs[Int(local)]
        if id == NameMapping.unresolved {
            id = endpointID(m.names[Int(local)], kind: kind)
            m.endpointIDs[Int(local)] = id
        }
        return id
    }
}

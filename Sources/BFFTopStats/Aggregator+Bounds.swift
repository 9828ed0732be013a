import BFFTopWire

/// What keeps the aggregator bounded whatever arrives: the endpoint cap with its overflow rows, and
/// the clock that refuses events outside the history kept (see `AggregatorLosses`).
extension Aggregator {
    /// The endpoint for `name`, created on first sight while under the cap; past it, the overflow
    /// row of `kind` (its events counted and priced there, the name counted in `endpointsOverCap`).
    func endpointID(_ name: String, kind: EndpointKind?) -> Int32 {
        if let id = ids[name] { return id }
        let named = endpoints.count - overflowIDs.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        guard named < config.maxEndpoints else {
            overCap.insert(name)
            let k = kind ?? .route
            if overflowIDs[Int(k.rawValue)] < 0 {
                let id = newEndpoint(Self.overflowName(k))
                endpoints[Int(id)].noteKind(k, service: nil)
                overflowIDs[Int(k.rawValue)] = id
            }
            return overflowIDs[Int(k.rawValue)]
        }
        return newEndpoint(name)
    }

    func newEndpoint(_ name: String) -> Int32 {
        let id = Int32(endpoints.count)
        var e = EndpointState(id: id, name: name, settings: FunctionSettings.resolve(config.functions, for: name))
        e.provider = config.cost.provider(for: nil, settings: e.settings)
        if config.keepsLifetime { e.lifetime = Bucket() }
        endpoints.append(e)
        if ids[name] == nil { ids[name] = id }
        return id
    }

    /// `admit` for replay's fast path, without optionals (measured 25 ns an event through them):
    /// `time` is the receive time when the line has one, else the end.
    @inline(__always) func admitPacked(_ packed: PackedInvocation) -> Bool {
        let end = packed.ts + packed.durationMs / 1000
        let received = packed.time
        guard end == received || end <= received + futureSkew else { return refuse(future: true) }
        let t = end > received + clockSkew ? received : end
        clock = max(clock, max(received, t))
        return t >= clock - Self.history ? true : refuse(future: false)
    }

    @inline(never) func refuse(future: Bool) -> Bool {
        if future { lost.future += 1 } else { lost.tooOld += 1 }
        return false
    }

    /// An end claimed further ahead of the receive time than `maxClockSkew` pulled back to it (as
    /// `PreparedInvocation` does): an emitter with a fast clock would otherwise stay invisible.
    @inline(__always) func skewCorrected(_ t: Double, receivedAt: Double?) -> Double {
        if let r = receivedAt, t > r + config.maxClockSkew { return r }
        return t
    }

    /// Whether an event at `t` (after skew correction; it claimed `claimed`) can be counted: no
    /// further ahead of its receive time than `maxFutureSkew`, no older than `history` behind the
    /// newest time seen. Counts the loss otherwise; moves the clock on.
    @inline(__always) func admit(_ t: Double, claimed: Double, receivedAt: Double?) -> Bool {
        if let r = receivedAt {
            guard claimed <= r + config.maxFutureSkew else {
                lost.future += 1
                return false
            }
            if r > clock { clock = r }
        }
        if t > clock { clock = t }
        guard t >= clock - Self.history else {
            lost.tooOld += 1
            return false
        }
        return true
    }
}

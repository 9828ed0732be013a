/// Finds the route a span descends from across exports. A BFF and the functions it calls export
/// their spans separately (a Lambda flushes at the end of each invocation, the BFF's batch processor
/// every few seconds), so a function's span usually arrives before the route span above it.
///
/// The linker remembers the last `capacity` spans (id → parent, and the route of server spans with
/// `http.route`). An invocation whose ancestry reaches a span not seen yet is held until its
/// ancestry resolves or `holdSeconds` pass, then delivered with or without its route. Both tables
/// are bounded; what is released unresolved or pushed out is counted.
public struct OTLPTraceLinker: Sendable {
    /// How long an invocation waits for the spans above it: longer than the SDKs' default batch
    /// delay (5 s), so the BFF's next export can arrive.
    public static let holdSeconds = 6.0

    struct Known {
        var parent: UInt64?
        var route: String?
        /// The span is an endpoint's (a route, a GraphQL operation, a function): a waterfall bar.
        var endpoint: Bool
    }

    struct Pending {
        var invocation: Invocation
        var parent: UInt64
        var deadline: Double
    }

    enum Ancestry: Equatable {
        /// `caller`: the nearest endpoint span above (0: none), the span's parent in a waterfall.
        case route(String, caller: UInt64)
        /// The chain ends at a root span (or loops, or is too deep) without a route.
        case none(caller: UInt64)
        /// The chain reaches a span that has not arrived (yet).
        case missing
    }

    private var known: [UInt64: Known] = [:]
    private var order: [UInt64] = []
    private var next = 0
    private var pending: [Pending] = []
    public let capacity: Int
    public let maxPending: Int
    /// Invocations delivered after waiting for their route; delivered without one after waiting.
    public private(set) var linkedLate = 0
    public private(set) var unlinked = 0

    public init(capacity: Int = 32_768, maxPending: Int = 8_192) {
        self.capacity = max(1, capacity)
        self.maxPending = max(1, maxPending)
    }

    public var pendingCount: Int { pending.count }

    mutating func remember(_ id: UInt64, parent: UInt64?, route: String?, endpoint: Bool) {
        if known.updateValue(Known(parent: parent, route: route, endpoint: endpoint), forKey: id) != nil { return }
        if order.count < capacity {
            order.append(id)
        } else {
            known[order[next]] = nil
            order[next] = id
            next = (next + 1) % capacity
        }
    }

    func ancestry(from parent: UInt64?) -> Ancestry {
        var cur = parent
        var steps = 0
        var caller: UInt64 = 0
        while let id = cur {
            guard let k = known[id] else { return .missing }
            if caller == 0, k.endpoint { caller = id }
            if let r = k.route { return .route(r, caller: caller) }
            cur = k.parent
            steps += 1
            if steps > 64 { return .none(caller: caller) }
        }
        return .none(caller: caller)
    }

    /// The nearest endpoint span above `parent` as far as it is known now (0: none).
    func caller(from parent: UInt64?) -> UInt64 {
        switch ancestry(from: parent) {
        case .route(_, let c), .none(let c): c
        case .missing: 0
        }
    }

    /// The invocation with its route if its ancestry is known now; nil if it is held.
    mutating func offer(_ inv: Invocation, parent: UInt64?, now: Double) -> Invocation? {
        switch ancestry(from: parent) {
        case .route(let r, let caller):
            var i = inv
            i.parent = r
            i.span?.parent = caller
            return i
        case .none(let caller):
            var i = inv
            i.span?.parent = caller
            return i
        case .missing:
            guard let p = parent else { return inv }
            if pending.count >= maxPending {
                // Full: the oldest waits no longer.
                var oldest = pending.removeFirst()
                unlinked += 1
                oldest.invocation.parent = nil
                pending.append(Pending(invocation: inv, parent: p, deadline: now + Self.holdSeconds))
                return oldest.invocation
            }
            pending.append(Pending(invocation: inv, parent: p, deadline: now + Self.holdSeconds))
            return nil
        }
    }

    /// Held invocations whose ancestry is known now, and those whose wait is over (`all`: every one).
    public mutating func release(now: Double, all: Bool = false) -> [Invocation] {
        guard !pending.isEmpty else { return [] }
        var out: [Invocation] = []
        var keep: [Pending] = []
        for p in pending {
            switch ancestry(from: p.parent) {
            case .route(let r, let caller):
                var i = p.invocation
                i.parent = r
                i.span?.parent = caller
                linkedLate += 1
                out.append(i)
            case .none(let caller):
                var i = p.invocation
                i.span?.parent = caller
                out.append(i)
            case .missing:
                if all || now >= p.deadline {
                    unlinked += 1
                    out.append(p.invocation)
                } else {
                    keep.append(p)
                }
            }
        }
        pending = keep
        return out
    }
}

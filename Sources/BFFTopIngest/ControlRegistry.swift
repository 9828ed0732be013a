import BFFTopEngine
import BFFTopWire
import Dispatch
import NIOCore
import Synchronization

/// The connections whose emitters declared endpoints they can run, and the invoke requests waiting
/// for an answer. Written from event loops (declarations, results, closes) and the invocation
/// runner's threads (requests): everything behind one lock, replies handed over with a semaphore.
public final class ControlRegistry: ControlChannel, Sendable {
    private struct Connection {
        var channel: any Channel
        var endpoints: Set<String>
    }

    private final class Waiter: Sendable {
        let done = DispatchSemaphore(value: 0)
        let reply = Mutex<Result<ControlReply, ControlFailure>?>(nil)
        let connection: Int
        init(connection: Int) { self.connection = connection }
    }

    private struct State {
        var connections: [Int: Connection] = [:]
        var waiting: [String: Waiter] = [:]
        var nextID = 1
        var roundRobin = 0
    }

    private let state = Mutex(State())
    /// What a `snapshot_request` is answered with: one JSON line of what the dashboard shows.
    private let snapshot: (@Sendable () -> String)?

    public init(snapshot: (@Sendable () -> String)? = nil) {
        self.snapshot = snapshot
    }

    /// Answers a snapshot request on the connection that asked.
    func answerSnapshot(on channel: any Channel) {
        let line = (snapshot?() ?? #"{"v":1,"type":"snapshot","error":"this listener serves no snapshots"}"#) + "\n"
        channel.writeAndFlush(ByteBuffer(string: line), promise: nil)
    }

    func declare(_ endpoints: [String], connection: Int, channel: any Channel) {
        state.withLock { $0.connections[connection] = Connection(channel: channel, endpoints: Set(endpoints)) }
    }

    func deliver(id: String, reply: ControlReply) {
        guard let w = state.withLock({ $0.waiting.removeValue(forKey: id) }) else { return }
        w.reply.withLock { $0 = .success(reply) }
        w.done.signal()
    }

    func closed(connection: Int) {
        let orphans = state.withLock { s -> [Waiter] in
            s.connections[connection] = nil
            let mine = s.waiting.filter { $0.value.connection == connection }
            for k in mine.keys { s.waiting[k] = nil }
            return Array(mine.values)
        }
        for w in orphans {
            w.reply.withLock { $0 = .failure(.disconnected) }
            w.done.signal()
        }
    }

    /// Endpoints some connected emitter can run.
    public var invokable: Set<String> {
        state.withLock { s in s.connections.values.reduce(into: Set<String>()) { $0.formUnion($1.endpoints) } }
    }

    public func canInvoke(_ endpoint: String) -> Bool {
        state.withLock { s in s.connections.values.contains { $0.endpoints.contains(endpoint) } }
    }

    public func invoke(_ endpoint: String, payload: String?, timeout: Double) -> Result<ControlReply, ControlFailure> {
        let picked = state.withLock { s -> (String, Waiter, any Channel)? in
            let candidates = s.connections.filter { $0.value.endpoints.contains(endpoint) }.sorted { $0.key < $1.key }
            guard !candidates.isEmpty else { return nil }
            let c = candidates[s.roundRobin % candidates.count]
            s.roundRobin &+= 1
            let id = "\(s.nextID)"
            s.nextID += 1
            let w = Waiter(connection: c.key)
            s.waiting[id] = w
            return (id, w, c.value.channel)
        }
        guard let (id, waiter, channel) = picked else { return .failure(.noEmitter(endpoint: endpoint)) }
        let line = ControlCodec.invoke(id: id, endpoint: endpoint, payload: payload) + "\n"
        channel.writeAndFlush(channel.allocator.buffer(string: line), promise: nil)
        if waiter.done.wait(timeout: .now() + timeout) == .timedOut {
            state.withLock { _ = $0.waiting.removeValue(forKey: id) }
            return .failure(.timeout(seconds: timeout))
        }
        return waiter.reply.withLock { $0 } ?? .failure(.noReply)
    }
}

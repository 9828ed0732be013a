import BFFTopEngine
import BFFTopWire
import NIOCore
import NIOPosix
import Synchronization

/// `--connect PATH`: reads the native protocol from a socket someone else serves (an emitter or a
/// relay), reconnecting with exponential backoff (0.1 s doubling to 5 s) whenever it goes away.
/// Only a socket of this user, served by a process of this user, is read (`SocketTrust.connect`):
/// another user's socket could feed the dashboard whatever it liked.
public final class Subscriber: Sendable {
    public let path: String
    private let running = Atomic<Bool>(true)
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    private init(path: String) {
        self.path = path
    }

    public static func start(path: String, sink: any EventSink, stats: IngestStats, group: any EventLoopGroup) -> Subscriber {
        let s = Subscriber(path: path)
        let t = Task { await s.run(sink: sink, stats: stats, group: group) }
        s.task.withLock { $0 = t }
        return s
    }

    private func run(sink: any EventSink, stats: IngestStats, group: any EventLoopGroup) async {
        var status = SubscriptionStatus(path: path, connected: false, lastError: nil, attempts: 0)
        var delay = 0.1
        while running.load(ordering: .relaxed), !Task.isCancelled {
            status.attempts += 1
            do {
                let fd: Int32
                switch SocketTrust.connect(SocketLocation(path: path)) {
                case .success(let f): fd = f
                case .failure(let e): throw e
                }
                let closed = group.next().makePromise(of: Void.self)
                let channel = try await ClientBootstrap(group: group)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                NDJSONHandler(sink: sink, stats: stats, origin: "connect:\(self.path)") { closed.succeed() })
                        }
                    }
                    .withConnectedSocket(fd).get()
                status.connected = true
                status.lastError = nil
                stats.updateSubscription(status)
                delay = 0.1
                try? await closed.futureResult.get()
                _ = channel
                status.connected = false
                status.lastError = "connection closed"
            } catch let e as SocketTrustError {
                status.connected = false
                status.lastError = e.description
            } catch {
                status.connected = false
                status.lastError = SocketPath.reason(error)
            }
            stats.updateSubscription(status)
            guard running.load(ordering: .relaxed) else { break }
            try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            delay = min(delay * 2, 5)
        }
    }

    public func stop() {
        running.store(false, ordering: .relaxed)
        task.withLock { $0?.cancel() }
    }
}

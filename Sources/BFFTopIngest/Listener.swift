import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Listens on a Unix stream socket for emitters speaking the native protocol.
/// The socket file is created with mode 0600 and removed by `stop()`.
public final class Listener: Sendable {
    public let path: String
    public let stats: IngestStats
    private let channel: any Channel

    /// Event-loop threads for ingest: one per core, so many emitters decode in parallel.
    public static var defaultThreads: Int { max(1, System.coreCount) }

    private init(path: String, stats: IngestStats, channel: any Channel) {
        self.path = path
        self.stats = stats
        self.channel = channel
    }

    public static func start(
        path: String, sink: any EventSink, stats: IngestStats, group: any EventLoopGroup, control: ControlRegistry? = nil,
        reserve: DescriptorReserve = .shared
    ) async throws(IngestError) -> Listener {
        try SocketPath.prepareForListening(path)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            // Out of descriptors, accepting again at once would spin the event loop (DescriptorReserve).
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(DescriptorReserve.Handler(reserve)) }
            }
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 1 << 20))
            .childChannelInitializer { channel in
                if reserve.shouldShed(channel) {
                    stats.connectionShed()
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NDJSONHandler(sink: sink, stats: stats, origin: "conn", control: control))
                }
            }
        do {
            let channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
            SocketPath.restrictToOwner(path)
            stats.setListenPath(path)
            return Listener(path: path, stats: stats, channel: channel)
        } catch {
            throw .bindFailed(path: path, reason: "\(error)")
        }
    }

    /// Stops accepting, closes the socket and removes its file.
    public func stop() async {
        try? await channel.close()
        unlink(path)
    }

    /// Synchronous variant for signal and exit paths.
    public func stopNow() {
        channel.close(promise: nil)
        unlink(path)
    }
}

import NIOCore
import NIOPosix
import BFFTopEngine
import BFFTopWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Listens on a Unix stream socket for emitters speaking the native protocol.
/// The socket file is private from its first instant (`PrivateSocketStaging`) and removed by `stop()`.
public final class Listener: Sendable {
    public let path: String
    public let stats: IngestStats
    private let channel: any Channel
    private let published: PublishedSocket

    /// Event-loop threads for ingest: one per core, so many emitters decode in parallel.
    public static var defaultThreads: Int { max(1, System.coreCount) }

    private init(published: PublishedSocket, stats: IngestStats, channel: any Channel) {
        self.path = published.path
        self.published = published
        self.stats = stats
        self.channel = channel
    }

    public static func start(
        path: String, sink: any EventSink, stats: IngestStats, group: any EventLoopGroup, control: ControlRegistry? = nil,
        reserve: DescriptorReserve = .shared
    ) async throws(IngestError) -> Listener {
        try await start(location: SocketLocation(path: path), sink: sink, stats: stats, group: group, control: control, reserve: reserve)
    }

    public static func start(
        location: SocketLocation, sink: any EventSink, stats: IngestStats, group: any EventLoopGroup, control: ControlRegistry? = nil,
        reserve: DescriptorReserve = .shared
    ) async throws(IngestError) -> Listener {
        let path = location.path
        try SocketPath.prepareForListening(location)
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
        let bound = try await bootstrap.bindPrivate(path)
        stats.setListenPath(path)
        return Listener(published: bound.published, stats: stats, channel: bound.channel)
    }

    /// Stops accepting, closes the socket and removes its file.
    public func stop() async {
        try? await channel.close()
        published.remove()
    }

    /// Synchronous variant for signal and exit paths.
    public func stopNow() {
        channel.close(promise: nil)
        published.remove()
    }
}

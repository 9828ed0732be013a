import BFFTopEngine
import BFFTopWire
import NIOCore

/// One DogStatsD stream connection on a NIO event loop (no thread per connection: thousands of idle
/// clients cost a little memory each, not a thread and its stack). Frames are cut by
/// `DogStatsDFramer`; a frame over the cap closes the connection, as the Datadog agent does.
final class DogStatsDStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let batcher: DogStatsDBatcher
    private var framer: DogStatsDFramer
    private var reader: DogStatsDBatcher.Reader

    init(batcher: DogStatsDBatcher, maxFrameBytes: Int) {
        self.batcher = batcher
        framer = DogStatsDFramer(maxFrameBytes: maxFrameBytes)
        reader = batcher.reader()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        var batch = DogStatsDBatcher.Batch(reader)
        let now = wallClock()
        let result = buffer.withUnsafeReadableBytes { bytes in
            framer.feed(bytes) { payload in batcher.handle(payload, at: now, into: &batch, reader: &reader) }
        }
        batcher.flush(batch, reader: &reader)
        if case .oversized(let len) = result {
            batcher.malformed("stream frame of \(len) bytes is over the \(framer.maxFrameBytes / 1024) KiB cap (connection closed)")
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The engine forgets this connection's names.
        batcher.flush(DogStatsDBatcher.Batch(reader), reader: &reader, closing: true)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

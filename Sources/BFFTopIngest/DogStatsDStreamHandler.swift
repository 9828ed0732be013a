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

    init(batcher: DogStatsDBatcher, maxFrameBytes: Int) {
        self.batcher = batcher
        framer = DogStatsDFramer(maxFrameBytes: maxFrameBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        var batch = DogStatsDBatcher.Batch()
        let result = buffer.withUnsafeReadableBytes { bytes in
            framer.feed(bytes) { payload in batcher.handle(payload, into: &batch) }
        }
        batcher.flush(batch)
        if case .oversized(let len) = result {
            batcher.malformed("stream frame of \(len) bytes is over the \(framer.maxFrameBytes / 1024) KiB cap (connection closed)")
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

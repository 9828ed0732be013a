import BFFTopEngine
import BFFTopWire
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif


/// One per connection: frames lines, decodes them, and hands each read's events to the sink
/// in one batch. Runs on the connection's event loop; touches no shared state but the stats lock.
final class NDJSONHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let sink: any EventSink
    private let stats: IngestStats
    private let origin: String
    private var connection = 0
    private var lineDecoder: LineDecoder
    private var pending: ByteBuffer?
    private let onClose: (@Sendable () -> Void)?
    private let control: ControlRegistry?
    private var channel: (any Channel)?

    init(sink: any EventSink, stats: IngestStats, origin: String, control: ControlRegistry? = nil, onClose: (@Sendable () -> Void)? = nil) {
        self.control = control
        self.sink = sink
        self.stats = stats
        self.origin = origin
        self.lineDecoder = LineDecoder()
        self.onClose = onClose
    }

    func channelActive(context: ChannelHandlerContext) {
        connection = stats.open(origin: origin)
        lineDecoder = LineDecoder(connection: connection, origin: origin)
        channel = context.channel
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        let bytes = incoming.readableBytes
        if var p = pending {
            pending = nil
            p.writeBuffer(&incoming)
            consume(&p)
        } else {
            consume(&incoming)
        }
        publish(bytes: bytes)
    }

    private func consume(_ buffer: inout ByteBuffer) {
        let used = buffer.withUnsafeReadableBytes { lineDecoder.consume($0) }
        buffer.moveReaderIndex(forwardBy: used)
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            pending = buffer
        }
    }

    private func publish(bytes: Int) {
        for m in lineDecoder.takeControls() {
            switch m {
            case .invokable(let list): if let channel { control?.declare(list, connection: connection, channel: channel) }
            case .result(let id, let reply): control?.deliver(id: id, reply: reply)
            case .snapshotRequest: if let channel { control?.answerSnapshot(on: channel) }
            }
        }
        let (batch, malformed, lines) = lineDecoder.takeBatch(receivedAt: wallClock())
        if batch.count > 0 || !batch.newNames.isEmpty { sink.deliver(batch) }
        stats.record(connection, lines: lines, events: batch.count, bytes: bytes, malformed: malformed)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let p = pending {
            p.withUnsafeReadableBytes { lineDecoder.finish($0) }
            pending = nil
            publish(bytes: 0)
        }
        // The engine and the recorder forget this connection's names.
        let (last, _, _) = lineDecoder.takeBatch(receivedAt: wallClock(), closing: true)
        sink.deliver(last)
        stats.close(connection)
        control?.closed(connection: connection)
        channel = nil
        onClose?()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

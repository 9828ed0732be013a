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
            // Only the end of the line left over from the last read is copied to it (up to and
            // with its newline); the rest of this read is decoded where it lies. Copying the whole
            // read after the leftover cost a copy of every byte received.
            let newline = incoming.withUnsafeReadableBytes { b -> Int? in
                guard let base = b.baseAddress, let nl = memchr(base, 0x0A, b.count) else { return nil }
                return UnsafeRawPointer(nl) - base
            }
            if let newline, var head = incoming.readSlice(length: newline + 1) {
                p.writeBuffer(&head)
                consume(&p)
                consume(&incoming)
            } else {
                p.writeBuffer(&incoming)
                consume(&p)
            }
        } else {
            consume(&incoming)
        }
        publish(bytes: bytes)
    }

    private func consume(_ buffer: inout ByteBuffer) {
        let used = buffer.withUnsafeReadableBytes { lineDecoder.consume($0) }
        buffer.moveReaderIndex(forwardBy: used)
        guard buffer.readableBytes > 0 else { return }
        if used == 0 {
            pending = buffer  // a line still gathering: kept whole
        } else {
            // Only the unfinished line is kept, in a buffer of its own: discarding the read bytes
            // of a buffer NIO still references copied the whole read (copy on write), a tenth of
            // an event loop's time by `perf`.
            var rest = ByteBufferAllocator().buffer(capacity: buffer.readableBytes + 512)
            rest.writeBuffer(&buffer)
            pending = rest
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

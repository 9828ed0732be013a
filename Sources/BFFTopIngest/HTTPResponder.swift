import NIOCore
import NIOHTTP1

/// One whole HTTP/1.1 response (head, body, end) for the small servers bfftop runs (OTLP/HTTP,
/// Prometheus): keeps the connection when the request allows it and `keepAlive` is true, else
/// says `connection: close` and closes once the response is written.
enum HTTPResponder {
    static func respond(_ context: ChannelHandlerContext, to h: HTTPRequestHead, _ status: HTTPResponseStatus, type: String,
                        body: ByteBuffer, extraHeaders: [(String, String)] = [], keepAlive: Bool = true) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: type)
        headers.add(name: "content-length", value: String(body.readableBytes))
        for (k, v) in extraHeaders { headers.add(name: k, value: v) }
        let keep = h.isKeepAlive && keepAlive
        if !keep { headers.add(name: "connection", value: "close") }
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: h.version, status: status, headers: headers))), promise: nil)
        if h.method != .HEAD { context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil) }
        if keep {
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        } else {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}

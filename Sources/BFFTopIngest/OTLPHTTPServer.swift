import BFFTopEngine
import BFFTopWire
import NIOCore
import NIOHTTP1
import NIOPosix

/// OTLP/HTTP trace receiver (`--otlp-http HOST:PORT`): `POST /v1/traces` with an OTLP JSON body
/// (what the Node SDK's HTTP exporter sends). Spans become invocations (`OTLPTraces`) and go to the
/// engine's mailbox like socket events. Answers as OTLP says: 200 (with `partialSuccess` when
/// spans were rejected), 400 for a body that is not an export, 413 past the size limit, 415 for
/// protobuf or gzip bodies (not read yet: set `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`), 404/405
/// elsewhere. Loopback only unless the listener opt-in is given.
public final class OTLPHTTPServer: Sendable {
    public let address: String
    private let channel: any Channel
    public static let maxBodyBytes = 4 << 20

    private init(address: String, channel: any Channel) {
        self.address = address
        self.channel = channel
    }

    public static func start(host: String, port: Int, sink: any EventSink, stats: IngestStats, group: any EventLoopGroup,
                             beyondLoopback: Bool = false) async throws(IngestError) -> OTLPHTTPServer {
        let address = "http://\(host):\(port)"
        guard beyondLoopback || NetworkExposure.isLoopback(host) else { throw .beyondLoopback(address: address) }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(OTLPHTTPHandler(sink: sink, stats: stats))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host == "localhost" ? "127.0.0.1" : host, port: port).get()
            if !NetworkExposure.isLoopback(host) { stats.listeningBeyondLoopback(address) }
            return OTLPHTTPServer(address: address, channel: channel)
        } catch {
            throw .bindFailed(path: address, reason: SocketPath.reason(error))
        }
    }

    public func stop() { channel.close(promise: nil) }
}

/// One HTTP connection: a request's body is gathered up to the limit, then decoded and answered.
final class OTLPHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let sink: any EventSink
    private let stats: IngestStats
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// Why this request is answered without reading it (set at its head or when it grows too big).
    private var refusal: (HTTPResponseStatus, String)?

    init(sink: any EventSink, stats: IngestStats) {
        self.sink = sink
        self.stats = stats
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.removeAll(keepingCapacity: true)
            refusal = Self.check(h)
        case .body(var chunk):
            guard refusal == nil else { return }
            if body.count + chunk.readableBytes > OTLPHTTPServer.maxBodyBytes {
                refusal = (.payloadTooLarge, "body over \(OTLPHTTPServer.maxBodyBytes >> 20) MiB")
                body = []
                return
            }
            body += chunk.readBytes(length: chunk.readableBytes) ?? []
        case .end:
            guard let h = head else { return }
            let (status, text) = refusal ?? answer()
            respond(context, h, status, text)
            head = nil
            body = []
        }
    }

    /// What the head alone decides: the path, the method, the body's type and encoding.
    static func check(_ h: HTTPRequestHead) -> (HTTPResponseStatus, String)? {
        let path = h.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? h.uri
        guard path == "/v1/traces" else {
            return (.notFound, path == "/v1/metrics" || path == "/v1/logs" ? "\(path) is not read yet: only /v1/traces" : "no such path: OTLP/HTTP traces go to /v1/traces")
        }
        guard h.method == .POST else { return (.methodNotAllowed, "POST an ExportTraceServiceRequest") }
        let type = h.headers.first(name: "content-type")?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            return (.unsupportedMediaType, "\(type.isEmpty ? "no content type" : type) is not read yet: send OTLP JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json)")
        }
        if let enc = h.headers.first(name: "content-encoding"), enc.lowercased() != "identity" {
            return (.unsupportedMediaType, "content-encoding \(enc) is not read yet: send the body uncompressed")
        }
        if let len = h.headers.first(name: "content-length").flatMap(Int.init), len > OTLPHTTPServer.maxBodyBytes {
            return (.payloadTooLarge, "body over \(OTLPHTTPServer.maxBodyBytes >> 20) MiB")
        }
        return nil
    }

    /// Decodes the body and hands its invocations to the engine.
    private func answer() -> (HTTPResponseStatus, String) {
        let decoded: OTLPTraces.Decoded
        do {
            decoded = try OTLPTraces.decode(json: body)
        } catch {
            stats.record(0, lines: 1, events: 0, bytes: body.count, malformed: [MalformedLine(connection: 0, origin: "otlp", reason: error.reason, excerpt: body.withUnsafeBytes { TerminalSafe.excerpt($0) })])
            return (.badRequest, error.reason)
        }
        if !decoded.invocations.isEmpty {
            sink.deliver(WireEventBatch(receivedAt: wallClock(), events: decoded.invocations.map { WireEvent.invocation($0) }))
        }
        let malformed = decoded.firstRejection.map { [MalformedLine(connection: 0, origin: "otlp", reason: $0, excerpt: "")] } ?? []
        stats.record(0, lines: decoded.spans, events: decoded.invocations.count, bytes: body.count, malformed: malformed)
        guard decoded.rejected > 0 else { return (.ok, "{}") }
        var w = JSONObjectWriter()
        w.number("rejectedSpans", Double(decoded.rejected))
        w.string("errorMessage", decoded.firstRejection ?? "")
        return (.ok, "{\"partialSuccess\":" + w.finish() + "}")
    }

    private func respond(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ status: HTTPResponseStatus, _ text: String) {
        // Errors carry a google.rpc.Status-like message; successes the JSON response.
        let json = status == .ok ? text : "{\"code\":\(status.code),\"message\":" + JSONObjectWriter.quote(text) + "}"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(json.utf8.count))
        let keepAlive = h.isKeepAlive && status != .payloadTooLarge
        if !keepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: json)))), promise: nil)
        let done = context.writeAndFlushPromise()
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive { done.futureResult.whenComplete { _ in context.close(promise: nil) } }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

extension ChannelHandlerContext {
    fileprivate func writeAndFlushPromise() -> EventLoopPromise<Void> { eventLoop.makePromise() }
}

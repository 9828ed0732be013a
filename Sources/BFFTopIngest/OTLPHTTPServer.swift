import BFFTopEngine
import BFFTopWire
import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOPosix

/// OTLP/HTTP receiver (`--otlp-http HOST:PORT` or `unix:PATH`): `POST /v1/traces` with an export in protobuf
/// (`application/x-protobuf`, what the Python, Go and Java SDKs send) or JSON (`application/json`,
/// the Node SDK's HTTP exporter), plain or gzip. Answers in the request's encoding, as OTLP says:
/// 200 (with `partialSuccess` when spans were rejected), 400 for a body that is not an export, 413
/// past the size limit (compressed or not), 415 for other types and encodings, 503 with
/// Retry-After when the engine is behind, 404/405 elsewhere. Loopback only unless opted in.
public final class OTLPHTTPServer: Sendable {
    public let address: String
    private let channel: any Channel
    private let published: PublishedSocket?
    /// The size OTLP recommends receivers accept (the Collector's default), before and after gzip.
    public static let maxBodyBytes = 20 << 20

    private init(address: String, channel: any Channel, published: PublishedSocket?) {
        self.address = address
        self.channel = channel
        self.published = published
    }

    public static func start(_ listen: ListenAddress, receiver: OTLPReceiver, stats: IngestStats, group: any EventLoopGroup,
                             beyondLoopback: Bool = false) async throws(IngestError) -> OTLPHTTPServer {
        guard beyondLoopback || listen.isLoopbackOrLocal else { throw .beyondLoopback(address: listen.description) }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(NIOHTTPRequestDecompressor(limit: .size(maxBodyBytes)))
                    try channel.pipeline.syncOperations.addHandler(OTLPHTTPHandler(receiver: receiver))
                }
            }
        switch listen {
        case .tcp(let host, let port):
            do {
                let channel = try await bootstrap.bind(host: host == "localhost" ? "127.0.0.1" : host, port: port).get()
                if !listen.isLoopbackOrLocal { stats.listeningBeyondLoopback("http://\(listen)") }
                stats.receiving("and OpenTelemetry over OTLP/HTTP on \(listen)")
                return OTLPHTTPServer(address: "http://\(listen)", channel: channel, published: nil)
            } catch {
                throw .bindFailed(path: listen.description, reason: SocketPath.reason(error))
            }
        case .unix(let path):
            // Private from its first instant, as the main socket (PrivateSocketStaging).
            try SocketPath.prepareForListening(path)
            let bound = try await bootstrap.bindPrivate(path)
            stats.receiving("and OpenTelemetry over OTLP/HTTP on \(listen)")
            return OTLPHTTPServer(address: listen.description, channel: bound.channel, published: bound.published)
        }
    }

    public func stop() {
        channel.close(promise: nil)
        published?.remove()
    }
}

/// One HTTP connection: a request's body is gathered up to the limit, then decoded and answered.
final class OTLPHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let receiver: OTLPReceiver
    private var head: HTTPRequestHead?
    private var encoding: OTLPReceiver.Encoding = .json
    private var signal = OTLPSignal.traces
    private var body: [UInt8] = []
    /// Why this request is answered without reading it (set at its head, when it grows too big or
    /// when its gzip cannot be read).
    private var refusal: (HTTPResponseStatus, String)?

    init(receiver: OTLPReceiver) {
        self.receiver = receiver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.removeAll(keepingCapacity: false)
            (encoding, refusal) = Self.check(h)
            signal = h.uri.hasPrefix("/v1/metrics") ? .metrics : h.uri.hasPrefix("/v1/logs") ? .logs : .traces
            // Announced too big: answered now and the connection closed, without reading 20 MiB.
            if let r = refusal, r.0 == .payloadTooLarge {
                respond(context, h, r.0, OTLPAnswer.failure(httpStatus: 413, message: r.1, encoding))
                head = nil
            }
        case .body(let chunk):
            guard refusal == nil else { return }
            if body.count + chunk.readableBytes > OTLPHTTPServer.maxBodyBytes {
                // Answered at once and closed: the rest is not read.
                refusal = (.payloadTooLarge, Self.tooLarge)
                body = []
                if let h = head { respond(context, h, .payloadTooLarge, OTLPAnswer.failure(httpStatus: 413, message: Self.tooLarge, encoding)) }
                head = nil
                return
            }
            if body.isEmpty, let len = head?.headers.first(name: "content-length").flatMap(Int.init), len <= OTLPHTTPServer.maxBodyBytes {
                body.reserveCapacity(len)
            }
            chunk.withUnsafeReadableBytes { body.append(contentsOf: $0) }
        case .end:
            guard let h = head else { return }
            let (status, answer) = refusal.map { ($0.0, OTLPAnswer.failure(httpStatus: Int($0.0.code), message: $0.1, encoding)) } ?? answer()
            respond(context, h, status, answer)
            head = nil
            body = []
        }
    }

    static let tooLarge = "body over \(OTLPHTTPServer.maxBodyBytes >> 20) MiB"

    /// What the head alone decides: the path, the method, the body's type and encoding.
    static func check(_ h: HTTPRequestHead) -> (OTLPReceiver.Encoding, (HTTPResponseStatus, String)?) {
        let type = h.headers.first(name: "content-type")?.lowercased() ?? ""
        let encoding: OTLPReceiver.Encoding = type.hasPrefix("application/json") ? .json : .protobuf
        let path = h.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? h.uri
        guard path == "/v1/traces" || path == "/v1/metrics" || path == "/v1/logs" else {
            return (encoding, (.notFound, "no such path: OTLP/HTTP goes to /v1/traces, /v1/metrics and /v1/logs"))
        }
        guard h.method == .POST else {
            return (encoding, (.methodNotAllowed, path == "/v1/traces" ? "POST an ExportTraceServiceRequest"
                : path == "/v1/metrics" ? "POST an ExportMetricsServiceRequest" : "POST an ExportLogsServiceRequest"))
        }
        guard type.hasPrefix("application/json") || type.hasPrefix("application/x-protobuf") || type.hasPrefix("application/protobuf") else {
            return (encoding, (.unsupportedMediaType, "\(type.isEmpty ? "no content type" : type) is not OTLP: send application/x-protobuf or application/json"))
        }
        if let enc = h.headers.first(name: "content-encoding")?.lowercased(), !["identity", "gzip", "deflate"].contains(enc) {
            return (encoding, (.unsupportedMediaType, "content-encoding \(enc) is not read: send gzip or an uncompressed body"))
        }
        if let len = h.headers.first(name: "content-length").flatMap(Int.init), len > OTLPHTTPServer.maxBodyBytes {
            return (encoding, (.payloadTooLarge, tooLarge))
        }
        return (encoding, nil)
    }

    /// Decodes the body and hands its invocations to the engine.
    private func answer() -> (HTTPResponseStatus, [UInt8]) {
        switch receiver.export(signal, body, encoding) {
        case .accepted(let rejected, let reason):
            return (.ok, OTLPAnswer.success(rejected: rejected, reason: reason, encoding, signal: signal))
        case .invalid(let reason):
            return (.badRequest, OTLPAnswer.failure(httpStatus: 400, message: reason, encoding))
        case .busy:
            return (.serviceUnavailable, OTLPAnswer.failure(httpStatus: 503, message: "bfftop's engine is behind: retry shortly", encoding))
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ status: HTTPResponseStatus, _ bytes: [UInt8]) {
        HTTPResponder.respond(
            context, to: h, status, type: encoding == .json ? "application/json" : "application/x-protobuf", body: ByteBuffer(bytes: bytes),
            extraHeaders: status == .serviceUnavailable ? [("retry-after", "1")] : [], keepAlive: status != .payloadTooLarge)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A gzip body that cannot be read or inflates past the limit: answered at the request's end.
        if head != nil, refusal == nil {
            if let e = error as? NIOHTTPDecompression.DecompressionError {
                refusal = e == .limit ? (.payloadTooLarge, Self.tooLarge + " when inflated") : (.badRequest, "the compressed body cannot be read (\(e))")
                body = []
                return
            }
            if let e = error as? NIOHTTPDecompression.ExtraDecompressionError {
                refusal = (.badRequest, "the compressed body cannot be read (\(e))")
                body = []
                return
            }
        }
        if refusal != nil, error is NIOHTTPDecompression.DecompressionError || error is NIOHTTPDecompression.ExtraDecompressionError { return }
        context.close(promise: nil)
    }
}

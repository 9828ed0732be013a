import BFFTopEngine
import BFFTopWire
import NIOCore
import NIOHTTP1
import NIOPosix

/// `--prometheus HOST:PORT`: serves `GET /metrics` in Prometheus' text format, so a Prometheus
/// server can scrape what this dashboard sees of its fleet. Each scrape asks the engine for its
/// lifetime figures (built on the engine thread between rounds) and answers when they come, or
/// 503 if the engine does not answer within five seconds. Loopback only unless opted in
/// (Prometheus 2.42 cannot scrape a Unix socket, so TCP it is).
public final class PrometheusServer: Sendable {
    public let address: String
    private let channel: any Channel

    private init(address: String, channel: any Channel) {
        self.address = address
        self.channel = channel
    }

    /// `exposition` hands the text to its callback, on any thread.
    public static func start(host: String, port: Int, stats: IngestStats, group: any EventLoopGroup, beyondLoopback: Bool = false,
                             exposition: @escaping @Sendable (@escaping @Sendable (String) -> Void) -> Void) async throws(IngestError) -> PrometheusServer {
        let address = "http://\(host):\(port)/metrics"
        guard beyondLoopback || NetworkExposure.isLoopback(host) else { throw .beyondLoopback(address: address) }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 32)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(PrometheusHandler(exposition: exposition))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: host == "localhost" ? "127.0.0.1" : host, port: port).get()
            if !NetworkExposure.isLoopback(host) { stats.listeningBeyondLoopback(address) }
            stats.receiving("serving Prometheus metrics at \(address)")
            return PrometheusServer(address: address, channel: channel)
        } catch {
            throw .bindFailed(path: "\(host):\(port)", reason: SocketPath.reason(error))
        }
    }

    public func stop() { channel.close(promise: nil) }
}

final class PrometheusHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let exposition: @Sendable (@escaping @Sendable (String) -> Void) -> Void
    private var head: HTTPRequestHead?

    init(exposition: @escaping @Sendable (@escaping @Sendable (String) -> Void) -> Void) {
        self.exposition = exposition
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let h = head else { return }
            head = nil
            let path = h.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? h.uri
            guard path == "/metrics" else { return respond(context, h, .notFound, "no such path: metrics are at /metrics\n") }
            guard h.method == .GET || h.method == .HEAD else { return respond(context, h, .methodNotAllowed, "GET /metrics\n") }
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            let promise = loop.makePromise(of: String.self)
            exposition { promise.succeed($0) }
            let timeout = loop.scheduleTask(in: .seconds(5)) { promise.fail(ChannelError.operationUnsupported) }
            promise.futureResult.whenComplete { result in
                timeout.cancel()
                let (handler, ctx) = bound.value
                switch result {
                case .success(let text): handler.respond(ctx, h, .ok, text, type: PrometheusText.contentType)
                case .failure: handler.respond(ctx, h, .serviceUnavailable, "bfftop's engine did not answer in time\n")
                }
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, _ status: HTTPResponseStatus, _ text: String,
                         type: String = "text/plain; charset=utf-8") {
        HTTPResponder.respond(context, to: h, status, type: type, body: ByteBuffer(string: text))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

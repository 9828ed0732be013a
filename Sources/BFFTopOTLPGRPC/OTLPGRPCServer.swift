import BFFTopEngine
import BFFTopIngest
import BFFTopWire
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOPosix
import Synchronization

/// OTLP/gRPC receiver (`--otlp-grpc ADDR`): `opentelemetry.proto.collector.trace.v1.TraceService/Export`
/// `…metrics.v1.MetricsService/Export` and `…logs.v1.LogsService/Export`
/// over HTTP/2 (grpc-swift-2 with its NIO transport), on `HOST:PORT` or a private Unix socket (the
/// Collector's `otlp` exporter sends to `unix:///path`). Messages arrive as bytes and are read by
/// the same decoder as OTLP/HTTP protobuf bodies; gzip-compressed messages are inflated by the
/// transport. Answers: the response (with `partial_success` when spans were rejected),
/// INVALID_ARGUMENT for bytes that are not an export, RESOURCE_EXHAUSTED past the size limit,
/// UNAVAILABLE when the engine is behind (clients retry).
public final class OTLPGRPCServer: Sendable {
    public let address: String
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let task: Task<Void, Never>
    private let published: PublishedSocket?

    private init(address: String, server: GRPCServer<HTTP2ServerTransport.Posix>, task: Task<Void, Never>, published: PublishedSocket?) {
        self.address = address
        self.server = server
        self.task = task
        self.published = published
    }

    public static func start(_ listen: ListenAddress, receiver: OTLPReceiver, stats: IngestStats, group: MultiThreadedEventLoopGroup,
                             beyondLoopback: Bool = false) async throws(IngestError) -> OTLPGRPCServer {
        guard beyondLoopback || listen.isLoopbackOrLocal else { throw .beyondLoopback(address: listen.description) }
        let config = HTTP2ServerTransport.Posix.Config.defaults { c in
            c.rpc.maxRequestPayloadSize = OTLPHTTPServer.maxBodyBytes
            c.compression.enabledAlgorithms = [.gzip, .deflate]
        }
        // A Unix socket is bound in a private staging directory and linked into place once
        // listening, as the main socket is: no one else can reach it in between.
        var staging: PrivateSocketStaging?
        let address: GRPCNIOTransportCore.SocketAddress
        switch listen {
        case .tcp(let host, let port):
            address = .ipv4(host: host == "localhost" ? "127.0.0.1" : host, port: port)
        case .unix(let path):
            try SocketPath.prepareForListening(path)
            let s = try PrivateSocketStaging(for: path)
            staging = s
            address = .unixDomainSocket(path: s.stagingPath)
        }
        let transport = HTTP2ServerTransport.Posix(address: address, transportSecurity: .plaintext, config: config, eventLoopGroup: group)
        let server = GRPCServer(transport: transport, services: [OTLPExportService(receiver: receiver, signal: .traces),
                                                                 OTLPExportService(receiver: receiver, signal: .metrics),
                                                                 OTLPExportService(receiver: receiver, signal: .logs)])
        let failure = Mutex<String?>(nil)
        let task = Task {
            do { try await server.serve() } catch { failure.withLock { $0 = "\(error)" } }
        }
        do {
            _ = try await transport.listeningAddress
        } catch {
            staging?.abandon()
            server.beginGracefulShutdown()
            await task.value
            throw .bindFailed(path: listen.description, reason: failure.withLock { $0 } ?? SocketPath.reason(error))
        }
        var published: PublishedSocket?
        if let s = staging {
            do throws(IngestError) {
                published = try s.publish()
            } catch {
                server.beginGracefulShutdown()
                await task.value
                throw error
            }
        }
        if !listen.isLoopbackOrLocal { stats.listeningBeyondLoopback("grpc://\(listen)") }
        stats.receiving("and OpenTelemetry over OTLP/gRPC on \(listen)")
        return OTLPGRPCServer(address: listen.description, server: server, task: task, published: published)
    }

    public func stop() {
        server.beginGracefulShutdown()
        published?.remove()
    }
}

/// The trace, metrics and logs services, registered by hand: their messages are bytes for bfftop's own
/// decoders, so no generated stubs (and no swift-protobuf) sit on the ingest path.
struct OTLPExportService: RegistrableRPCService {
    let receiver: OTLPReceiver
    let signal: OTLPSignal

    var method: MethodDescriptor {
        let service = switch signal {
        case .traces: "opentelemetry.proto.collector.trace.v1.TraceService"
        case .metrics: "opentelemetry.proto.collector.metrics.v1.MetricsService"
        case .logs: "opentelemetry.proto.collector.logs.v1.LogsService"
        }
        return MethodDescriptor(fullyQualifiedService: service, method: "Export")
    }

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(forMethod: method, deserializer: RawBytes(), serializer: RawBytes()) { [receiver, signal] request, _ in
            var body: [UInt8]?
            for try await message in request.messages {
                guard body == nil else { throw RPCError(code: .invalidArgument, message: "Export is unary: one request message") }
                body = message
            }
            guard let bytes = body else { throw RPCError(code: .invalidArgument, message: "no request message") }
            switch receiver.export(signal, bytes, .protobuf) {
            case .accepted(let rejected, let reason):
                let answer = OTLPAnswer.partialSuccess(rejected: rejected, reason: reason)
                return StreamingServerResponse(single: ServerResponse(message: answer))
            case .invalid(let reason):
                throw RPCError(code: .invalidArgument, message: reason)
            case .busy:
                throw RPCError(code: .unavailable, message: "bfftop's engine is behind: retry shortly")
            }
        }
    }
}

/// A message as its bytes, both ways.
struct RawBytes: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

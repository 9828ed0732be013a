import BFFTopEngine
import BFFTopIngest
import BFFTopOTLPGRPC
import BFFTopWire
import NIOPosix

/// The OTLP receivers a dashboard runs (HTTP, gRPC, either or both) around one `OTLPReceiver`,
/// so a function's span over gRPC and its route's span over HTTP still meet in one trace linker.
struct OTLPReceivers {
    let receiver: OTLPReceiver?
    let http: OTLPHTTPServer?
    let grpc: OTLPGRPCServer?

    static func start(http: String?, grpc: String?, sink: any EventSink, stats: IngestStats, group: MultiThreadedEventLoopGroup,
                      beyondLoopback: Bool) async throws -> OTLPReceivers {
        guard http != nil || grpc != nil else { return OTLPReceivers(receiver: nil, http: nil, grpc: nil) }
        let receiver = OTLPReceiver(sink: sink, stats: stats)
        var httpServer: OTLPHTTPServer?
        if let h = http {
            guard let a = ListenAddress(h) else { throw CLIError("otlp http: \(h) is not HOST:PORT or unix:PATH") }
            do {
                httpServer = try await OTLPHTTPServer.start(a, receiver: receiver, stats: stats, group: group, beyondLoopback: beyondLoopback)
            } catch {
                throw CLIError("otlp-http \(a): \(error.description)")
            }
        }
        var grpcServer: OTLPGRPCServer?
        if let g = grpc {
            guard let a = ListenAddress(g) else {
                httpServer?.stop()
                throw CLIError("otlp grpc: \(g) is not HOST:PORT or unix:PATH")
            }
            do {
                grpcServer = try await OTLPGRPCServer.start(a, receiver: receiver, stats: stats, group: group, beyondLoopback: beyondLoopback)
            } catch {
                httpServer?.stop()
                throw CLIError("otlp-grpc \(a): \(error.description)")
            }
        }
        receiver.start(on: group.next())
        return OTLPReceivers(receiver: receiver, http: httpServer, grpc: grpcServer)
    }

    /// Stops listening, then hands the engine what was still waiting for its route.
    func stop() {
        http?.stop()
        grpc?.stop()
        receiver?.stop()
        receiver?.releaseHeld(all: true)
    }
}

// swift-tools-version:6.3
import PackageDescription

// Release builds of the decoding and aggregation modules without debug info: with `-g` the
// optimiser leaves small standard-library helpers (unaligned loads, `defer` blocks) as calls in the
// hot loops, which measured 40 % slower decoding (docs/performance.md). SwiftPM refuses a versioned
// dependency whose product has unsafe flags anywhere in its closure, so the library products
// (BFFTopMetrics, BFFTopProtocol) are built from targets without them; `scripts/check-library`
// builds a package that depends on this one by URL and version to keep it so.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-gnone"], .when(configuration: .release))]

let package = Package(
    name: "bfftop",
    products: [
        .executable(name: "bfftop", targets: ["bfftop"]),
        // The event model, the native encoder and the trusted socket client: a Swift emitter's needs.
        .library(name: "BFFTopProtocol", targets: ["BFFTopProtocol"]),
        // `MetricsSystem.bootstrap(BFFTopMetricsFactory(…))`: any swift-metrics server in bfftop.
        .library(name: "BFFTopMetrics", targets: ["BFFTopMetrics"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
    ],
    targets: [
        // ncursesw through a shim: Swift 6 cannot touch the C globals (COLS, LINES, stdscr) directly.
        .systemLibrary(
            name: "CNCursesW", path: "Sources/CNCursesW",
            providers: [.apt(["libncurses-dev"])]),
        // The event model, the native encoder, platform helpers and socket trust. No decoders, no
        // unsafe flags: the library products stand on it.
        .target(name: "BFFTopProtocol", dependencies: ["CBFFTopSys"]),
        // Every decoder (native, recordings, DogStatsD, EMF, Lambda logs), on BFFTopProtocol. No I/O, no UI.
        .target(name: "BFFTopWire", dependencies: ["BFFTopProtocol", "CBFFTopSys"], swiftSettings: hotPath),
        // Sketches, time tiers, aggregation, cost. Pure.
        .target(name: "BFFTopStats", dependencies: ["BFFTopWire"], swiftSettings: hotPath),
        // The engines (live and replay: one aggregator, alarms, the clock, frames), the mailbox, the
        // recorder and recording reader, the ingest counters. No sockets: the UI stands on it without NIO.
        .target(name: "BFFTopEngine", dependencies: ["BFFTopWire", "BFFTopStats"]),
        // Unix-socket listener/subscriber, DogStatsD listeners, the control channel, the OTLP/HTTP
        // receiver and the Prometheus endpoint (SwiftNIO).
        .target(
            name: "BFFTopIngest",
            dependencies: [
                "BFFTopEngine", "BFFTopWire", "BFFTopStats", "CBFFTopSys",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
            ]),
        // The OTLP/gRPC receiver (grpc-swift-2 and its NIO transport), apart from BFFTopIngest so
        // that only the executable builds gRPC (not the fuzz targets, not the library products).
        .target(
            name: "BFFTopOTLPGRPC",
            dependencies: [
                "BFFTopIngest", "BFFTopEngine", "BFFTopWire",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ]),
        // The config file: a TOML reader and the validated settings (cost, functions, alarms, keys).
        .target(name: "BFFTopConfig", dependencies: ["BFFTopStats", "BFFTopWire", "BFFTopInvoke"]),
        // recvmmsg for the DogStatsD datagram reader (a GNU extension Glibc's module does not expose).
        .systemLibrary(name: "CBFFTopSys", path: "Sources/CBFFTopSys"),
        // libcurl through a shim (one non-variadic call per request), opened with dlopen: no headers needed.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl"),
        // Test invocations: targets, HTTP and Lambda Invoke API clients, bursts and ramps. No UI.
        .target(name: "BFFTopInvoke", dependencies: ["BFFTopWire", "CCurl"]),
        // swift-metrics backend: Hummingbird/Vapor request metrics to the native protocol, never blocking.
        .target(name: "BFFTopMetrics", dependencies: ["BFFTopProtocol", .product(name: "CoreMetrics", package: "swift-metrics")]),
        // The simulated fleet: emits native protocol lines over a real socket.
        .target(name: "BFFTopDemo", dependencies: ["BFFTopWire"]),
        // App state, keymap, themes, cell grid and views (pure: state -> grid).
        .target(name: "BFFTopUI", dependencies: ["BFFTopStats", "BFFTopWire", "BFFTopEngine", "BFFTopConfig", "BFFTopInvoke"]),
        // The only user of ncurses: flushes a cell grid, reads keys.
        .target(name: "BFFTopTerminal", dependencies: ["CNCursesW", "BFFTopUI", "BFFTopEngine", "BFFTopInvoke"]),
        .executableTarget(
            name: "bfftop",
            dependencies: [
                "BFFTopWire", "BFFTopStats", "BFFTopEngine", "BFFTopIngest", "BFFTopDemo", "BFFTopUI", "BFFTopTerminal", "BFFTopConfig", "BFFTopInvoke", "BFFTopMetrics", "BFFTopOTLPGRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Every decoder as a fuzz target with its invariants (docs/fuzzing.md); `scripts/fuzz` builds
        // `bfftop-fuzz` with `--sanitize=fuzzer`, and the corpus runs in `swift test`.
        .target(name: "BFFTopFuzzTargets", dependencies: ["BFFTopWire", "BFFTopStats", "BFFTopEngine", "BFFTopIngest", "BFFTopConfig", "BFFTopUI"]),
        .executableTarget(name: "bfftop-fuzz", dependencies: ["BFFTopFuzzTargets"]),
        .testTarget(name: "BFFTopFuzzTests", dependencies: ["BFFTopFuzzTargets"]),
        // opentelemetry-proto's messages generated by swift-protobuf (scripts/generate-otlp-proto, run
        // once, committed): the oracle the hand-written OTLP decoder is tested against, and its
        // opponent in `bfftop bench`. Nothing on the ingest path uses it.
        .target(
            name: "OTLPProtoGenerated", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md"]),
        // The bench's opponent for bfftop's OTLP reader, a binary of its own: swift-protobuf brings
        // Foundation, which would cost the dashboard 7 MiB of resident memory (docs/performance.md).
        .executableTarget(name: "bfftop-protobuf-bench", dependencies: ["BFFTopWire", "OTLPProtoGenerated"]),
        .testTarget(name: "BFFTopWireTests", dependencies: ["BFFTopWire", "OTLPProtoGenerated"]),
        .testTarget(name: "BFFTopStatsTests", dependencies: ["BFFTopStats", "BFFTopWire"]),
        .testTarget(name: "BFFTopConfigTests", dependencies: ["BFFTopConfig", "BFFTopStats", "BFFTopUI", "BFFTopInvoke"]),
        .testTarget(
            name: "BFFTopIngestTests",
            dependencies: [
                "BFFTopEngine", "BFFTopIngest", "BFFTopWire", "BFFTopStats", "BFFTopDemo", "BFFTopInvoke", "BFFTopMetrics",
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        .testTarget(
            name: "BFFTopUITests", dependencies: ["BFFTopUI", "BFFTopStats", "BFFTopWire", "BFFTopEngine", "BFFTopIngest", "BFFTopDemo", "BFFTopInvoke", "BFFTopTerminal"],
            exclude: ["Snapshots"]),
        .testTarget(name: "EndToEndTests", dependencies: ["BFFTopWire"]),
    ]
)

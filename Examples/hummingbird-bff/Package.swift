// swift-tools-version:6.0
import Foundation
import PackageDescription

// A path dependency is known by its directory's name, which depends on where bfftop was cloned.
let bfftop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent.lowercased()

// A Hummingbird BFF instrumented only through swift-metrics, shown live by bfftop through
// BFFTopMetricsFactory. Its own package: it depends on bfftop by path.
let package = Package(
    name: "hummingbird-bff",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
    ],
    targets: [
        .executableTarget(
            name: "HummingbirdBFF",
            dependencies: [
                .product(name: "BFFTopMetrics", package: bfftop),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
    ]
)

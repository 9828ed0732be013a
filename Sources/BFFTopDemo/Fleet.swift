#if canImport(Glibc)
import Glibc
#endif
import BFFTopWire

/// The demo fleet's shape: two BFFs whose routes fan out to six functions, with the
/// configuration that makes serverless interesting (memory, timeouts, concurrency limits).
public struct FunctionSpec: Sendable {
    public var name: String
    public var service: String
    public var memoryMB: Double
    public var timeoutMs: Double
    public var concurrencyLimit: Int
    public var medianMs: Double
    public var sigma: Double
    public var initMedianMs: Double
    public var errorRate: Double
    public var errorMessage: String
    public var arch: Architecture
    /// Typical memory actually used, as a share of configured memory.
    public var memoryUse: Double
    /// Emits `start` events, so long invocations count in concurrency before they end.
    public var announcesStart: Bool
}

public struct RouteSpec: Sendable {
    public var name: String
    public var service: String
    public var baseRPS: Double
    public var overheadMs: Double
    /// Functions called one after another.
    public var calls: [String]
    /// Multiplier on the rate during the booking rush (1 = unaffected).
    public var rushFactor: Double
}

public enum DemoFleet {
    public static let functions: [FunctionSpec] = [
        FunctionSpec(name: "auth-verify", service: "auth", memoryMB: 128, timeoutMs: 3000, concurrencyLimit: 200, medianMs: 9, sigma: 0.5,
                     initMedianMs: 180, errorRate: 0.002, errorMessage: "JsonWebTokenError: jwt expired", arch: .arm64, memoryUse: 0.55, announcesStart: false),
        FunctionSpec(name: "slots-query", service: "scheduling", memoryMB: 512, timeoutMs: 5000, concurrencyLimit: 100, medianMs: 48, sigma: 0.6,
                     initMedianMs: 420, errorRate: 0.004, errorMessage: "ConnectionError: pool timeout acquiring client", arch: .x86_64, memoryUse: 0.42, announcesStart: false),
        FunctionSpec(name: "booking-create", service: "scheduling", memoryMB: 1024, timeoutMs: 6000, concurrencyLimit: 40, medianMs: 310, sigma: 0.7,
                     initMedianMs: 650, errorRate: 0.01, errorMessage: "ConditionalCheckFailedException: slot already taken", arch: .x86_64, memoryUse: 0.35, announcesStart: true),
        FunctionSpec(name: "notify-sms", service: "notifications", memoryMB: 256, timeoutMs: 10000, concurrencyLimit: 50, medianMs: 140, sigma: 0.9,
                     initMedianMs: 300, errorRate: 0.02, errorMessage: "ProviderError: 503 from SMS gateway", arch: .arm64, memoryUse: 0.5, announcesStart: false),
        FunctionSpec(name: "profile-read", service: "profiles", memoryMB: 256, timeoutMs: 3000, concurrencyLimit: 100, medianMs: 22, sigma: 0.5,
                     initMedianMs: 240, errorRate: 0.003, errorMessage: "ResourceNotFoundException: profile", arch: .arm64, memoryUse: 0.4, announcesStart: false),
        FunctionSpec(name: "image-resize", service: "media", memoryMB: 1536, timeoutMs: 3000, concurrencyLimit: 30, medianMs: 520, sigma: 0.6,
                     initMedianMs: 900, errorRate: 0.015, errorMessage: "Runtime.OutOfMemory", arch: .x86_64, memoryUse: 0.8, announcesStart: true),
    ]

    public static let routes: [RouteSpec] = [
        RouteSpec(name: "GET /api/feed", service: "web-bff", baseRPS: 12, overheadMs: 6, calls: ["auth-verify", "profile-read"], rushFactor: 1),
        RouteSpec(name: "GET /api/appointments", service: "web-bff", baseRPS: 8, overheadMs: 5, calls: ["auth-verify", "slots-query"], rushFactor: 3),
        RouteSpec(name: "GET /api/slots", service: "web-bff", baseRPS: 6, overheadMs: 4, calls: ["slots-query"], rushFactor: 12),
        RouteSpec(name: "POST /api/bookings", service: "web-bff", baseRPS: 1.5, overheadMs: 8, calls: ["auth-verify", "booking-create", "notify-sms"], rushFactor: 18),
        RouteSpec(name: "POST /graphql SearchDoctors", service: "web-bff", baseRPS: 5, overheadMs: 12, calls: ["auth-verify", "profile-read", "slots-query"], rushFactor: 2),
        RouteSpec(name: "GET /m/home", service: "mobile-bff", baseRPS: 6, overheadMs: 5, calls: ["auth-verify", "profile-read", "image-resize"], rushFactor: 1.5),
        RouteSpec(name: "POST /m/bookings", service: "mobile-bff", baseRPS: 1, overheadMs: 7, calls: ["auth-verify", "booking-create", "notify-sms"], rushFactor: 20),
        RouteSpec(name: "PUT /m/avatar", service: "mobile-bff", baseRPS: 1.2, overheadMs: 9, calls: ["auth-verify", "image-resize"], rushFactor: 1),
    ]

    /// A booking rush (like a hospital releasing the day's slots at 10:00) every `rushPeriod` seconds.
    public static let rushPeriod: Double = 120
    public static let rushLength: Double = 25
    /// Warm instances are reclaimed after this much idleness (short, so the demo shows cold starts).
    public static let idleReclaim: Double = 40
}

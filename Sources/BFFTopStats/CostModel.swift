import BFFTopWire

/// Per-invocation cost in USD, AWS Lambda on-demand pricing by default (us-east-1, first tier).
///
/// cost = pricePerRequest + billedSeconds × memoryGB × pricePerGBSecond(arch)
/// where billedSeconds = billed_ms / 1000, falling back to ceil(duration_ms) / 1000.
/// Functions without `memory_mb` are billed at Lambda's default 128 MB. Routes are billed only when
/// they report `memory_mb` (a BFF that itself runs as a function); throttled invocations never are.
public struct CostModel: Sendable, Equatable {
    public var pricePerRequest: Double
    public var pricePerGBSecondX86: Double
    public var pricePerGBSecondArm: Double
    public var defaultMemoryMB: Double
    public var defaultArch: Architecture

    public static let awsLambda = CostModel(
        pricePerRequest: 0.20 / 1_000_000, pricePerGBSecondX86: 0.0000166667,
        pricePerGBSecondArm: 0.0000133334, defaultMemoryMB: 128, defaultArch: .x86_64)

    public init(
        pricePerRequest: Double, pricePerGBSecondX86: Double, pricePerGBSecondArm: Double,
        defaultMemoryMB: Double, defaultArch: Architecture
    ) {
        self.pricePerRequest = pricePerRequest
        self.pricePerGBSecondX86 = pricePerGBSecondX86
        self.pricePerGBSecondArm = pricePerGBSecondArm
        self.defaultMemoryMB = defaultMemoryMB
        self.defaultArch = defaultArch
    }

    public struct Charge: Sendable, Equatable {
        public var requests: Double
        public var compute: Double
        public var gbSeconds: Double
        public var total: Double { requests + compute }
        public static let zero = Charge(requests: 0, compute: 0, gbSeconds: 0)
    }

    public func charge(_ i: Invocation) -> Charge {
        guard i.outcome != .throttle else { return .zero }
        guard i.kind == .function || i.memoryMB != nil else { return .zero }
        let billedMs = i.billedMs ?? i.durationMs.rounded(.up)
        let gbs = billedMs / 1000 * (i.memoryMB ?? defaultMemoryMB) / 1024
        let price = (i.arch ?? defaultArch) == .arm64 ? pricePerGBSecondArm : pricePerGBSecondX86
        return Charge(requests: pricePerRequest, compute: gbs * price, gbSeconds: gbs)
    }

    /// Hours in a month as AWS bills them (365 × 24 / 12).
    public static let hoursPerMonth = 730.0
}

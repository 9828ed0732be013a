import BFFTopWire

/// Published prices of the serverless providers bfftop knows, with where and when they were read.
/// This file is data only: change a price here (or override it in the config's `[prices.NAME]`).
/// USD; region: each provider's cheapest public tier-1 region (us-east-1, Tier-1, ...).
public enum PriceBook {
    public static let sheets: [PriceSheet] = [
        PriceSheet(
            provider: .awsLambdaX86, perRequest: 0.20 / 1e6, perGBSecond: 0.0000166667,
            gbSecondTiers: [(6e9, 0.0000166667), (9e9, 0.000015), (.infinity, 0.0000133334)],
            freeRequests: 1_000_000, freeGBSeconds: 400_000, granularityMs: 1,
            provisionedPerGBSecond: 0.0000041667, provisionedExecutedPerGBSecond: 0.0000097222,
            source: "aws.amazon.com/lambda/pricing; tiers: AWS Compute Blog \"Introducing tiered pricing for AWS Lambda\"",
            date: "2026-09-20"),
        PriceSheet(
            provider: .awsLambdaArm, perRequest: 0.20 / 1e6, perGBSecond: 0.0000133334,
            gbSecondTiers: [(7.5e9, 0.0000133334), (11.25e9, 0.0000120001), (.infinity, 0.0000106667)],
            freeRequests: 1_000_000, freeGBSeconds: 400_000, granularityMs: 1,
            provisionedPerGBSecond: 0.0000033334, provisionedExecutedPerGBSecond: 0.0000077778,
            source: "aws.amazon.com/lambda/pricing; tiers: AWS Compute Blog \"Introducing tiered pricing for AWS Lambda\"",
            date: "2026-09-20"),
        PriceSheet(
            provider: .gcpCloudRunFunctions, perRequest: 0.40 / 1e6, perGBSecond: 0.0000025, perVCPUSecond: 0.000024,
            freeRequests: 2_000_000, freeGBSeconds: 360_000, freeVCPUSeconds: 180_000, granularityMs: 100,
            source: "cloud.google.com/run/pricing (request-based billing, Tier 1)", date: "2025-06"),
        PriceSheet(
            provider: .azureConsumption, perRequest: 0.20 / 1e6, perGBSecond: 0.000016,
            freeRequests: 1_000_000, freeGBSeconds: 400_000, granularityMs: 1, minimumMs: 100,
            memoryStepMB: 128, maxMemoryMB: 1536,
            source: "azure.microsoft.com/pricing/details/functions (Consumption plan)", date: "2025-05-22"),
        PriceSheet(
            provider: .alibabaFC, perRequest: 0, perGBSecond: 0, perCU: 0.000020,
            cuPerRequest: 75.0 / 10_000, cuPerVCPUSecond: 1, cuPerGBSecond: 0.15,
            cuTiers: [(100e6, 0.000020), (400e6, 0.000017), (.infinity, 0.000014)], granularityMs: 1,
            source: "alibabacloud.com/help/en/functioncompute billing overview (FC 3.0, CU billing)", date: "2024-08-27"),
        PriceSheet(
            provider: .tencentSCF, perRequest: 0.002 / 10_000, perGBSecond: 0.0000167, granularityMs: 1,
            source: "tencentcloud.com/document/product/583/17299 (Billing Overview)", date: "2023-02"),
    ]

    public static func sheet(_ p: Provider) -> PriceSheet {
        sheets.first { $0.provider == p } ?? sheets[0]
    }
}

public enum Provider: String, CaseIterable, Sendable, Hashable {
    case awsLambdaX86 = "aws-lambda-x86_64"
    case awsLambdaArm = "aws-lambda-arm64"
    case gcpCloudRunFunctions = "gcp-cloud-run-functions"
    case azureConsumption = "azure-functions-consumption"
    case alibabaFC = "alibaba-fc3"
    case tencentSCF = "tencent-scf"

    /// Position in `allCases` (an array index: cheaper than hashing the raw value).
    var ordinal: Int {
        switch self {
        case .awsLambdaX86: 0
        case .awsLambdaArm: 1
        case .gcpCloudRunFunctions: 2
        case .azureConsumption: 3
        case .alibabaFC: 4
        case .tencentSCF: 5
        }
    }
}

/// The plain numbers of a `PriceSheet` that price one invocation.
struct ChargeRates: Sendable {
    var perRequest: Double
    var perGBSecond: Double
    var perVCPUSecond: Double
    var perCU: Double
    var cuPerRequest: Double
    var cuPerVCPUSecond: Double
    var cuPerGBSecond: Double
    var granularityMs: Double
    var minimumMs: Double
    var memoryStepMB: Double
    var maxMemoryMB: Double
    var provisionedExecutedPerGBSecond: Double
    /// Lambda reports its own billed duration.
    var usesReportedBilling: Bool

    init(_ s: PriceSheet) {
        perRequest = s.perRequest
        perGBSecond = s.perGBSecond
        perVCPUSecond = s.perVCPUSecond
        perCU = s.perCU
        cuPerRequest = s.cuPerRequest
        cuPerVCPUSecond = s.cuPerVCPUSecond
        cuPerGBSecond = s.cuPerGBSecond
        granularityMs = s.granularityMs
        minimumMs = s.minimumMs
        memoryStepMB = s.memoryStepMB
        maxMemoryMB = s.maxMemoryMB
        provisionedExecutedPerGBSecond = s.provisionedExecutedPerGBSecond
        usesReportedBilling = s.provider == .awsLambdaX86 || s.provider == .awsLambdaArm
    }

    /// Billed milliseconds: the provider's own figure when reported (Lambda's Billed Duration),
    /// else the duration rounded up to the billing granularity.
    func billedMs(duration: Double, reported: Double?) -> Double {
        if let reported, usesReportedBilling { return reported }
        let g = max(granularityMs, 0.001)
        return max(minimumMs, roundedUp(duration / g) * g)
    }
}

/// One provider's prices. Compute is billed per GB-second of configured memory (Azure: observed
/// memory rounded up to 128 MB steps), plus vCPU-seconds (Google), or in compute units (Alibaba).
public struct PriceSheet: Sendable {
    public var provider: Provider
    public var perRequest: Double
    public var perGBSecond: Double
    public var perVCPUSecond: Double = 0
    /// Alibaba: USD per compute unit and how many units requests, vCPU-s and GB-s are worth.
    public var perCU: Double = 0
    public var cuPerRequest: Double = 0
    public var cuPerVCPUSecond: Double = 0
    public var cuPerGBSecond: Double = 0
    /// Monthly volume tiers: (units in this tier, price per unit), for the monthly projection.
    public var gbSecondTiers: [(units: Double, price: Double)] = []
    public var cuTiers: [(units: Double, price: Double)] = []
    public var freeRequests: Double = 0
    public var freeGBSeconds: Double = 0
    public var freeVCPUSeconds: Double = 0
    /// Durations are rounded up to this, and never below `minimumMs`.
    public var granularityMs: Double
    public var minimumMs: Double = 0
    public var memoryStepMB: Double = 0
    public var maxMemoryMB: Double = 0
    public var provisionedPerGBSecond: Double = 0
    public var provisionedExecutedPerGBSecond: Double = 0
    public var source: String
    public var date: String

    /// Google's vCPU share for a memory size when none is configured (Cloud Functions sizes).
    public static func defaultVCPU(memoryMB: Double) -> Double {
        switch memoryMB {
        case ..<129: 0.083
        case ..<257: 0.167
        case ..<513: 0.333
        case ..<1025: 0.583
        case ..<2049: 1
        default: 2
        }
    }

    /// Cost of a month's usage with volume tiers and, when `freeTier`, the provider's monthly free grant.
    public func monthly(_ u: Usage, freeTier: Bool, tiers: Bool = true) -> Double {
        let reqs = max(0, u.requests - (freeTier ? freeRequests : 0))
        let gbs = max(0, u.gbSeconds - (freeTier ? freeGBSeconds : 0))
        let vcpu = max(0, u.vcpuSeconds - (freeTier ? freeVCPUSeconds : 0))
        if provider == .alibabaFC {
            let cu = u.requests * cuPerRequest + u.vcpuSeconds * cuPerVCPUSecond + u.gbSeconds * cuPerGBSecond
            return Self.tiered(cu, tiers ? cuTiers : [], flat: perCU) + u.provisioned
        }
        return reqs * perRequest + Self.tiered(gbs, tiers ? gbSecondTiers : [], flat: perGBSecond) + vcpu * perVCPUSecond + u.provisioned
    }

    static func tiered(_ units: Double, _ tiers: [(units: Double, price: Double)], flat: Double) -> Double {
        guard !tiers.isEmpty else { return units * flat }
        var left = units
        var total = 0.0
        for t in tiers where left > 0 {
            let n = min(left, t.units)
            total += n * t.price
            left -= n
        }
        return total
    }
}

/// Billable usage, summed per provider.
public struct Usage: Sendable, Equatable {
    public var requests: Double = 0
    public var gbSeconds: Double = 0
    public var vcpuSeconds: Double = 0
    /// Provisioned-concurrency charges (USD), already priced.
    public var provisioned: Double = 0
    public init() {}

    public static func + (a: Usage, b: Usage) -> Usage {
        var u = a
        u.requests += b.requests
        u.gbSeconds += b.gbSeconds
        u.vcpuSeconds += b.vcpuSeconds
        u.provisioned += b.provisioned
        return u
    }

    public func scaled(_ f: Double) -> Usage {
        var u = self
        u.requests *= f
        u.gbSeconds *= f
        u.vcpuSeconds *= f
        u.provisioned *= f
        return u
    }
}

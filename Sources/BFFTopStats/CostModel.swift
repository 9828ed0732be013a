import BFFTopWire

/// Per-invocation cost in USD from the provider's price sheet (AWS Lambda x86_64 by default).
///
/// AWS, Azure, Tencent: requests × price + billed GB-seconds × price. Google: + vCPU-seconds.
/// Alibaba: compute units (requests, vCPU-s, GB-s) × CU price. Billed duration is Lambda's own
/// `billed_ms` when reported, else the duration rounded up to the provider's granularity.
/// Functions without `memory_mb` are billed at 128 MB. Routes are billed only when they report
/// `memory_mb` (a BFF that itself runs as a function); throttled invocations never are.
/// Per-invocation figures use tier-1 prices; tiers and the free grant apply to the monthly projection.
public struct CostModel: Sendable {
    public var provider: Provider
    public var sheets: [Provider: PriceSheet] {
        didSet { rates = Self.rates(sheets) }
    }
    /// The per-invocation prices of `sheets`, by `Provider.ordinal`: `charge` runs for every event
    /// and must not copy a sheet (arrays, strings) or hash a provider's name to find one.
    private var rates: InlineArray<6, ChargeRates>
    public var freeTier: Bool
    public var defaultMemoryMB: Double

    public static let awsLambda = CostModel(provider: .awsLambdaX86)

    public init(provider: Provider, overrides: [PriceSheet] = [], freeTier: Bool = false, defaultMemoryMB: Double = 128) {
        self.provider = provider
        var s: [Provider: PriceSheet] = [:]
        for sheet in PriceBook.sheets { s[sheet.provider] = sheet }
        for o in overrides { s[o.provider] = o }
        self.sheets = s
        self.rates = Self.rates(s)
        self.freeTier = freeTier
        self.defaultMemoryMB = defaultMemoryMB
    }

    public func sheet(_ p: Provider) -> PriceSheet { sheets[p] ?? PriceBook.sheet(p) }

    private static func rates(_ sheets: [Provider: PriceSheet]) -> InlineArray<6, ChargeRates> {
        // One entry per provider: a provider added without growing the array traps here, at start.
        precondition(Provider.allCases.count == 6, "ChargeModel.rates holds 6 providers")
        return InlineArray { i in
            let p = Provider.allCases[i]
            return ChargeRates(sheets[p] ?? PriceBook.sheet(p))
        }
    }

    /// What pricing one invocation reads of this model, without references (see `ChargeModel`).
    var charging: ChargeModel { ChargeModel(provider: provider, defaultMemoryMB: defaultMemoryMB, rates: rates) }

    public struct Charge: Sendable, Equatable {
        public var requests: Double
        public var compute: Double
        public var usage: Usage
        public var provider: Provider
        public var total: Double { requests + compute }
        public static let zero = Charge(requests: 0, compute: 0, usage: Usage(), provider: .awsLambdaX86)
    }

    /// The provider an endpoint is billed by: its settings, else its arch on AWS, else the default.
    public func provider(for i: Invocation?, settings: FunctionSettings?) -> Provider {
        provider(arch: i?.arch, settings: settings)
    }

    func provider(arch: Architecture?, settings: FunctionSettings?) -> Provider {
        provider(arch: arch, pricing: PricingSettings(settings))
    }

    @inline(__always) func provider(arch: Architecture?, pricing settings: PricingSettings) -> Provider {
        charging.provider(arch: arch, pricing: settings)
    }

    public func charge(_ i: Invocation, settings: FunctionSettings? = nil) -> Charge {
        charge(InvocationCostInputs(i), settings: settings)
    }

    /// What pricing reads of an invocation (no names, no strings: replay prices on its reader thread).
    struct InvocationCostInputs {
        var kind: EndpointKind
        var outcome: Outcome
        var durationMs: Double
        var billedMs: Double?
        var memoryMB: Double?
        var maxMemoryMB: Double?
        var arch: Architecture?

        init(_ i: Invocation) {
            self.init(kind: i.kind, outcome: i.outcome, durationMs: i.durationMs, billedMs: i.billedMs, memoryMB: i.memoryMB,
                      maxMemoryMB: i.maxMemoryMB, arch: i.arch)
        }

        init(kind: EndpointKind, outcome: Outcome, durationMs: Double, billedMs: Double?, memoryMB: Double?, maxMemoryMB: Double?,
             arch: Architecture?) {
            self.kind = kind
            self.outcome = outcome
            self.durationMs = durationMs
            self.billedMs = billedMs
            self.memoryMB = memoryMB
            self.maxMemoryMB = maxMemoryMB
            self.arch = arch
        }
    }

    func charge(_ i: InvocationCostInputs, settings: FunctionSettings?) -> Charge {
        charge(i, pricing: PricingSettings(settings))
    }

    func charge(_ i: InvocationCostInputs, pricing settings: PricingSettings) -> Charge {
        charging.charge(i, pricing: settings)
    }

    /// USD per hour of keeping `settings.provisionedConcurrency` environments warm.
    public func provisionedPerHour(_ settings: FunctionSettings?, memoryMB: Double?) -> Double {
        guard let s = settings, let n = s.provisionedConcurrency, n > 0 else { return 0 }
        let sheet = self.sheet(provider(for: nil, settings: s))
        return n * (memoryMB ?? s.memoryMB ?? defaultMemoryMB) / 1024 * 3600 * sheet.provisionedPerGBSecond
    }

    /// A month at the current hourly cost, less what volume tiers and (if on) the free grants take off
    /// the hourly usage of each provider. Without either, exactly cost per hour × 730.
    public func projectedMonthly(costPerHour: Double, usagePerHour: [Provider: Usage]) -> Double {
        var total = costPerHour * Self.hoursPerMonth
        for (p, u) in usagePerHour {
            let month = u.scaled(Self.hoursPerMonth)
            let s = sheet(p)
            total -= s.monthly(month, freeTier: false, tiers: false) - s.monthly(month, freeTier: freeTier)
        }
        return max(0, total)
    }

    /// Hours in a month as AWS bills them (365 × 24 / 12).
    public static let hoursPerMonth = 730.0
}

/// What pricing reads of an endpoint's `FunctionSettings`: plain values, so the per-event path
/// copies no strings (the settings' pattern) and retains nothing.
struct PricingSettings: Sendable {
    var provider: Provider?
    var memoryMB: Double?
    var arch: Architecture?
    var vcpu: Double?
    /// Provisioned concurrency is configured (executions then bill at its rate).
    var provisioned = false

    init(_ s: FunctionSettings?) {
        provider = s?.provider
        memoryMB = s?.memoryMB
        arch = s?.arch
        vcpu = s?.vcpu
        provisioned = (s?.provisionedConcurrency ?? 0) > 0
    }
}

/// What pricing one invocation reads of a `CostModel`: plain values and no references, so the
/// engine keeps a copy beside its config and reads it for every event without retaining anything
/// (copying the `CostModel` retained and released its dictionary and array per event: about a
/// tenth of the live engine thread's time by `perf`).
struct ChargeModel: Sendable {
    var provider: Provider
    var defaultMemoryMB: Double
    var rates: InlineArray<6, ChargeRates>

    @inline(__always) func provider(arch: Architecture?, pricing settings: PricingSettings) -> Provider {
        if let p = settings.provider { return p }
        let arch = arch ?? settings.arch
        if provider == .awsLambdaX86 || provider == .awsLambdaArm, let arch { return arch == .arm64 ? .awsLambdaArm : .awsLambdaX86 }
        return provider
    }

    @inline(__always) func charge(_ i: CostModel.InvocationCostInputs, pricing settings: PricingSettings) -> CostModel.Charge {
        guard i.outcome != .throttle else { return CostModel.Charge.zero }
        guard i.kind == .function || i.memoryMB != nil else { return CostModel.Charge.zero }
        let p = provider(arch: i.arch, pricing: settings)
        let sheet = rates[p.ordinal]
        var memory = i.memoryMB ?? settings.memoryMB ?? defaultMemoryMB
        if sheet.memoryStepMB > 0 {  // Azure: observed memory, rounded up to 128 MB steps, capped
            let observed = i.maxMemoryMB ?? memory
            memory = min(sheet.maxMemoryMB > 0 ? sheet.maxMemoryMB : .infinity, max(sheet.memoryStepMB, roundedUp(observed / sheet.memoryStepMB) * sheet.memoryStepMB))
        }
        let seconds = sheet.billedMs(duration: i.durationMs, reported: i.billedMs) / 1000
        var u = Usage()
        u.requests = 1
        u.gbSeconds = seconds * memory / 1024
        u.vcpuSeconds = sheet.perVCPUSecond > 0 || sheet.cuPerVCPUSecond > 0
            ? seconds * (settings.vcpu ?? (p == .alibabaFC ? max(0.05, memory / 2048) : PriceSheet.defaultVCPU(memoryMB: memory))) : 0
        if p == .alibabaFC {
            let requestCU = sheet.cuPerRequest * sheet.perCU
            let computeCU = (u.vcpuSeconds * sheet.cuPerVCPUSecond + u.gbSeconds * sheet.cuPerGBSecond) * sheet.perCU
            return CostModel.Charge(requests: requestCU, compute: computeCU, usage: u, provider: p)
        }
        let gbPrice = settings.provisioned && sheet.provisionedExecutedPerGBSecond > 0
            ? sheet.provisionedExecutedPerGBSecond : sheet.perGBSecond
        return CostModel.Charge(requests: sheet.perRequest, compute: u.gbSeconds * gbPrice + u.vcpuSeconds * sheet.perVCPUSecond, usage: u, provider: p)
    }
}

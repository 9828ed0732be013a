import BFFTopWire

/// What the config says about endpoints matching a pattern: used where events do not say it
/// themselves (memory, arch, timeout, concurrency limit) and for budgets and pricing.
public struct FunctionSettings: Sendable, Equatable {
    /// Glob (`*` and `?`) on the endpoint name.
    public var pattern: String
    public var provider: Provider?
    public var memoryMB: Double?
    public var arch: Architecture?
    public var timeoutMs: Double?
    public var concurrencyLimit: Double?
    public var vcpu: Double?
    /// Provisioned concurrency (AWS): environments kept warm, billed whether used or not.
    public var provisionedConcurrency: Double?
    public var latencyBudgetMs: Double?
    public var costBudgetPerHour: Double?

    public init(pattern: String) { self.pattern = pattern }

    public func matches(_ name: String) -> Bool { Glob.matches(pattern, name) }

    /// Later entries override earlier ones field by field.
    public static func resolve(_ list: [FunctionSettings], for name: String) -> FunctionSettings? {
        var out: FunctionSettings?
        for s in list where s.matches(name) {
            guard var o = out else {
                out = s
                continue
            }
            o.provider = s.provider ?? o.provider
            o.memoryMB = s.memoryMB ?? o.memoryMB
            o.arch = s.arch ?? o.arch
            o.timeoutMs = s.timeoutMs ?? o.timeoutMs
            o.concurrencyLimit = s.concurrencyLimit ?? o.concurrencyLimit
            o.vcpu = s.vcpu ?? o.vcpu
            o.provisionedConcurrency = s.provisionedConcurrency ?? o.provisionedConcurrency
            o.latencyBudgetMs = s.latencyBudgetMs ?? o.latencyBudgetMs
            o.costBudgetPerHour = s.costBudgetPerHour ?? o.costBudgetPerHour
            out = o
        }
        return out
    }
}

extension Aggregator {
    /// A reloaded config's per-endpoint settings and prices: every endpoint resolves its settings
    /// (memory, timeout, limit, provider, budgets) again; invocations from now on are priced by
    /// them, what was aggregated keeps the price it was counted at.
    public func reconfigure(functions: [FunctionSettings], cost: CostModel) {
        config.functions = functions
        config.cost = cost
        for i in endpoints.indices {
            let settings = FunctionSettings.resolve(functions, for: endpoints[i].name)
            endpoints[i].settings = settings
            endpoints[i].pricing = PricingSettings(settings)
            if let m = settings?.memoryMB { endpoints[i].memoryMB = m }
            if let t = settings?.timeoutMs { endpoints[i].timeoutMs = t }
            if let l = settings?.concurrencyLimit { endpoints[i].limit = l }
            endpoints[i].provider = cost.provider(for: nil, settings: settings)
        }
    }
}

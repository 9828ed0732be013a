import BFFTopInvoke

/// Keys for test invocations: resolve the selected endpoint's target, ask before anything that
/// changes things or adds load, and queue the request for the UI loop to hand to the runner.
extension AppState {
    /// Where `endpoint` is invoked: its config target, else a connected emitter that offers it.
    public func target(for endpoint: String) -> TargetSpec? {
        if let spec = TargetResolver.spec(for: endpoint, in: targets) { return spec }
        if invokable.contains(endpoint) { return TargetSpec(match: endpoint, target: .control, confirm: nil) }
        return nil
    }

    mutating func invoke(plan: InvokePlan, preset: String?) {
        guard let endpoint = selected else {
            message = "select an endpoint to invoke (↑↓)"
            return
        }
        guard let spec = target(for: endpoint) else {
            message = "no invocation target for \(endpoint): add a [[target]] to the config (bfftop config --print-default)"
            return
        }
        let req = InvokeRequest(endpoint: endpoint, target: spec.target(preset: preset), plan: plan, preset: preset, record: spec.record)
        lowerPane = .invocations
        if let why = spec.confirmationReason(for: req.target, plan: plan) {
            confirming = req
            confirmingReason = why
            return
        }
        pendingInvokes.append(req)
        message = "invoking \(endpoint) (\(plan)) → \(req.target.summary)"
    }

    mutating func choosePreset() {
        guard let endpoint = selected, let spec = target(for: endpoint) else {
            invoke(plan: .once, preset: nil)  // says why nothing can be invoked
            return
        }
        guard !spec.presets.isEmpty else {
            message = "\(endpoint) has no payload presets ([target.payloads] in the config)"
            return
        }
        choosingPreset = (endpoint, spec)
    }

    mutating func pickPreset(_ key: Key) -> Bool {
        guard let (endpoint, spec) = choosingPreset else { return false }
        choosingPreset = nil
        if case .char(let c) = key, let n = c.wholeNumberValue, n >= 1, n <= spec.presets.count, selected == endpoint {
            invoke(plan: .once, preset: spec.presets[n - 1].name)
        } else if key == .ctrl("c") {
            shouldQuit = true
        }
        return true
    }

    mutating func answerConfirmation(_ key: Key) -> Bool {
        guard let req = confirming else { return false }
        confirming = nil
        confirmingReason = nil
        switch key {
        case .char("y"), .char("Y"):
            pendingInvokes.append(req)
            message = "invoking \(req.endpoint) (\(req.plan)) → \(req.target.summary)"
        case .ctrl("c"): shouldQuit = true
        default: message = "not sent"
        }
        return true
    }

    public mutating func takeInvokes() -> (requests: [InvokeRequest], cancel: Bool) {
        defer {
            pendingInvokes = []
            cancelRequested = false
        }
        return (pendingInvokes, cancelRequested)
    }
}

/// A test invocation the user asked for, handed from the UI state to the runner.
public struct InvokeRequest: Sendable, Equatable {
    public var endpoint: String
    public var target: InvokeTarget
    public var plan: InvokePlan
    public var preset: String?
    /// Count the result in the dashboard's figures (see `TargetSpec.record`).
    public var record: Bool
}

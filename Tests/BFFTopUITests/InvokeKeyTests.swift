import BFFTopEngine
import BFFTopIngest
import BFFTopInvoke
import BFFTopStats
import BFFTopWire
import Testing
@testable import BFFTopUI

/// The invocation keys: targets, confirmation, presets, caps and cancel, as state changes.
@Suite struct InvokeKeyTests {
    func state(_ targets: [TargetSpec], invokable: Set<String> = []) -> AppState {
        var s = Fixtures.state(ViewSnapshotTests.busy)
        s.targets = targets
        s.invokable = invokable
        return s
    }

    func select(_ s: inout AppState, _ name: String) {
        s.selected = name
    }

    @Test func noTargetSaysWhyAndSendsNothing() {
        var s = state([])
        select(&s, "GET /api/slots")
        s.handle(.char("i"))
        #expect(s.message?.contains("no invocation target for GET /api/slots") == true)
        #expect(s.takeInvokes().requests.isEmpty)
    }

    @Test func getFiresAtOncePostAsksFirst() {
        let get = TargetSpec(match: "GET *", target: .http(HTTPRequest(url: "http://localhost:3000/x")))
        let post = TargetSpec(match: "POST *", target: .http(HTTPRequest(method: "POST", url: "http://localhost:3000/b")))
        var s = state([get, post])
        select(&s, "GET /api/slots")
        s.handle(.char("i"))
        #expect(s.takeInvokes().requests.map(\.endpoint) == ["GET /api/slots"])
        #expect(s.lowerPane == .invocations, "the pane shows what was fired")
        select(&s, "POST /api/bookings")
        s.handle(.char("i"))
        #expect(s.confirming?.endpoint == "POST /api/bookings")
        #expect(s.takeInvokes().requests.isEmpty, "nothing before y")
        s.handle(.char("n"))
        #expect(s.message == "not sent")
        #expect(s.takeInvokes().requests.isEmpty)
        s.handle(.char("i"))
        s.handle(.char("y"))
        #expect(s.takeInvokes().requests.map(\.plan) == [.once])
    }

    @Test func whatLeavesTheMachineOrRunsAFunctionAsks() {
        let remote = TargetSpec(match: "GET /api/feed", target: .http(HTTPRequest(url: "https://api.example.com/feed")))
        let local = TargetSpec(match: "GET /api/slots", target: .http(HTTPRequest(url: "http://[::1]:3000/slots")))
        let lambda = TargetSpec(match: "booking-*", target: .lambda(LambdaTarget(baseURL: "http://localhost:9000")))
        var s = state([remote, local, lambda])
        select(&s, "GET /api/feed")
        s.handle(.char("i"))
        #expect(s.confirming?.endpoint == "GET /api/feed")
        #expect(s.confirmingReason == "api.example.com is not this machine")
        #expect(s.takeInvokes().requests.isEmpty)
        s.handle(.char("n"))
        select(&s, "GET /api/slots")
        s.handle(.char("i"))
        #expect(s.confirming == nil, "a GET to this machine goes at once")
        #expect(s.takeInvokes().requests.count == 1)
        select(&s, "booking-create")
        s.handle(.char("i"))
        #expect(s.confirmingReason == "a Lambda invoke runs the function", "even on localhost")
        s.handle(.char("n"))
        #expect(s.takeInvokes().requests.isEmpty)
        // confirm = false is the only way round it; confirm = true asks even for a local GET.
        var quiet = state([TargetSpec(match: "*", target: .http(HTTPRequest(url: "https://api.example.com/feed")), confirm: false)])
        select(&quiet, "GET /api/feed")
        quiet.handle(.char("i"))
        #expect(quiet.confirming == nil)
        #expect(quiet.takeInvokes().requests.count == 1)
        var strict = state([TargetSpec(match: "*", target: .http(HTTPRequest(url: "http://127.0.0.1/x")), confirm: true)])
        select(&strict, "GET /api/feed")
        strict.handle(.char("i"))
        #expect(strict.confirming != nil)
    }

    @Test func localHostsAreLoopbackOnly() {
        #expect(LocalHost.host(of: "http://user:pw@Example.COM:8080/a?b") == "example.com")
        #expect(LocalHost.host(of: "http://[::1]:3000/") == "::1")
        #expect(LocalHost.host(of: "not a url") == nil)
        for url in ["http://localhost:3000/x", "http://127.0.0.1/x", "http://127.8.9.10:1/", "http://[::1]/", "http://app.localhost/"] {
            #expect(LocalHost.isLocal(url: url), "\(url)")
        }
        for url in ["http://10.0.0.1/", "http://localhost.example.com/", "http://127.0.0.1.nip.io/", "http://0.0.0.0/", "not a url",
                    "http://evil.com#@localhost/", "http://evil.com?@localhost/"] {
            #expect(!LocalHost.isLocal(url: url), "\(url)")
        }
    }

    @Test func burstsAndRampsAlwaysAskUnlessConfirmIsOff() {
        var s = state([TargetSpec(match: "*", target: .http(HTTPRequest(url: "http://h/x")))])
        s.invokeSettings.burst = 7
        select(&s, "GET /api/slots")
        s.handle(.char("b"))
        #expect(s.confirming?.plan == .burst(7))
        s.handle(.char("y"))
        #expect(s.takeInvokes().requests.map(\.plan) == [.burst(7)])
        s.handle(.char("B"))
        #expect(s.confirming?.plan == .ramp(perSecond: 5, seconds: 10))
        s.handle(.escape)
        var quiet = state([TargetSpec(match: "*", target: .http(HTTPRequest(url: "http://h/x")), confirm: false)])
        select(&quiet, "GET /api/slots")
        quiet.handle(.char("b"))
        #expect(quiet.confirming == nil)
        #expect(quiet.takeInvokes().requests.map(\.plan) == [.burst(20)])
        quiet.handle(.char("x"))
        #expect(quiet.takeInvokes().cancel)
    }

    @Test func presetsAndEmittersAndPaneCycle() {
        let spec = TargetSpec(match: "booking-*", target: .lambda(LambdaTarget(baseURL: "http://l:9000")),
                              presets: [("morning", "{\"slot\":9}"), ("evening", "{\"slot\":18}")])
        var s = state([spec], invokable: ["auth-verify"])
        select(&s, "booking-create")
        s.handle(.char("I"))
        #expect(s.choosingPreset?.endpoint == "booking-create")
        s.handle(.char("2"))
        // A Lambda invoke runs the function: it asks first, like a POST.
        #expect(s.confirmingReason == "a Lambda invoke runs the function")
        #expect(s.takeInvokes().requests.isEmpty)
        s.handle(.char("y"))
        let req = s.takeInvokes().requests.first
        if case .lambda(let l)? = req?.target { #expect(String(decoding: l.payload, as: UTF8.self) == "{\"slot\":18}") } else {
            Issue.record("expected the lambda target with the evening payload, got \(String(describing: req))")
        }
        select(&s, "auth-verify")
        s.handle(.char("i"))
        #expect(s.takeInvokes().requests.first?.target == .control, "an emitter that declared the endpoint")
        var p = state([])
        p.handle(.char("A"))
        #expect(p.lowerPane == .alarms)
        p.handle(.char("A"))
        #expect(p.lowerPane == .invocations)
        p.handle(.char("A"))
        #expect(p.lowerPane == .malformed)
        p.handle(.char("A"))
        #expect(p.lowerPane == .errors)
        p.handle(.char("T"))
        #expect(p.snapshotRequest.hideTestTraffic)
    }
}

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
        #expect(p.lowerPane == .errors)
        p.handle(.char("T"))
        #expect(p.snapshotRequest.hideTestTraffic)
    }
}

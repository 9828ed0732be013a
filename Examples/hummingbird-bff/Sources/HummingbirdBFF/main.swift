import BFFTopMetrics
import Hummingbird
import Metrics

/// A small booking BFF: each route fans out to simulated serverless functions (latency, the odd cold
/// start and failure). The only instrumentation is Hummingbird's MetricsMiddleware and the bfftop
/// factory; run `bfftop` beside it and the routes appear with latency, errors and concurrency.
let port = Int(CommandLine.arguments.dropFirst().first ?? "8080") ?? 8080
let factory = BFFTopMetricsFactory(service: "hb-bff")
MetricsSystem.bootstrap(factory)

/// A function call: a log-normal-ish latency, cold (slow) one time in twenty.
func callFunction(_ name: String, medianMs: Double) async throws {
    let cold = Int.random(in: 0..<20) == 0
    let ms = medianMs * Double.random(in: 0.6...1.8) + (cold ? 250 : 0)
    try await Task.sleep(nanoseconds: UInt64(ms * 1_000_000))
}

let router = Router()
router.middlewares.add(MetricsMiddleware())
router.get("/api/slots") { _, _ -> String in
    try await callFunction("slots-query", medianMs: 35)
    return "[{\"slot\":9},{\"slot\":10}]"
}
router.get("/api/slots/{id}") { _, context -> String in
    let id = try context.parameters.require("id", as: Int.self)
    try await callFunction("slots-query", medianMs: 20)
    return "{\"slot\":\(id)}"
}
router.post("/api/bookings") { _, _ -> Response in
    try await callFunction("booking-create", medianMs: 120)
    if Int.random(in: 0..<10) == 0 { throw HTTPError(.serviceUnavailable, message: "booking-create: ConditionalCheckFailed") }
    return Response(status: .created)
}
router.get("/api/feed") { _, _ -> String in
    async let a: Void = callFunction("profile-read", medianMs: 25)
    async let b: Void = callFunction("slots-query", medianMs: 35)
    _ = try await (a, b)
    return "{}"
}

let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()

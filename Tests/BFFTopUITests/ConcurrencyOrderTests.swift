import BFFTopStats
@testable import BFFTopUI
import Testing

/// The concurrency pane's order (`ConcurrencyView.busiest`, which compares names only where the
/// numbers tie) against a full sort by now, then peak, then name, computed here.
@Suite struct ConcurrencyOrderTests {
    @Test func theBusiestRowsComeInTheFullSortsOrder() throws {
        let template = try #require(Fixtures.busyFrame().snapshot.endpoints.first)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: UInt64) -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double((state >> 33) % n)
        }
        for round in 0..<40 {
            // Few distinct values, so most rows tie on both numbers (as idle endpoints do).
            let all: [EndpointFigures] = (0..<(5 + round * 7)).map { i in
                var f = template
                f.name = "endpoint-\((i * 7919) % 1000)-\(i)"
                f.concurrencyNow = next(3)
                f.concurrencyPeak = f.concurrencyNow + next(3)
                return f
            }
            let order = Array(all.indices.shuffled())
            let expected = order.sorted { a, b in
                if all[a].concurrencyNow != all[b].concurrencyNow { return all[a].concurrencyNow > all[b].concurrencyNow }
                if all[a].concurrencyPeak != all[b].concurrencyPeak { return all[a].concurrencyPeak > all[b].concurrencyPeak }
                return all[a].name < all[b].name
            }
            for count in [0, 1, 3, 20, all.count, all.count + 5] {
                #expect(ConcurrencyView.busiest(order, of: all, count: count) == Array(expected.prefix(count)), "round \(round), \(count) rows")
            }
        }
    }
}

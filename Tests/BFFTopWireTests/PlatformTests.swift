import Testing

@testable import BFFTopWire

/// The libm-free roundings on the per-event path against the standard library's, bit for bit.
struct PlatformTests {
    var edges: [Double] {
        var v: [Double] = [0, -0.0, 0.5, -0.5, 1, -1, 1.5, -1.5, 0.999_999_999, -0.999_999_999, 1e-300, -1e-300,
                           .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 4.0e15, -4.0e15, 3.999_999_999_999_999e15,
                           4_503_599_627_370_495.5, 4_503_599_627_370_496, -4_503_599_627_370_495.5, 9.2e18, -9.2e18,
                           1e308, -1e308, .infinity, -.infinity, .greatestFiniteMagnitude, 1_732_460_000.000_1]
        for e in 0..<60 {
            let p = Double(sign: .plus, exponent: e, significand: 1)
            v += [p, -p, p.nextUp, p.nextDown, -p.nextUp, -p.nextDown]
        }
        return v
    }

    @Test func roundedUpIsCeilForEveryKindOfDouble() {
        var rng = SystemRandomNumberGenerator()
        let random = (0..<100_000).map { _ in Double(bitPattern: rng.next()) }
        for x in edges + random where !x.isNaN {
            #expect(roundedUp(x).bitPattern == x.rounded(.up).bitPattern, "\(x)")
        }
        #expect(roundedUp(.nan).isNaN)
    }

    @Test func wholeSecondIsFloorWithinItsRange() {
        var rng = SystemRandomNumberGenerator()
        let random = (0..<100_000).map { _ in Double(bitPattern: rng.next()) }
        for x in edges + random where abs(x) < 9.0e18 {
            #expect(Double(wholeSecond(x)) == x.rounded(.down), "\(x)")
        }
        #expect(wholeSecond(1e300) == 9_000_000_000_000_000_000)
        #expect(wholeSecond(-.infinity) == -9_000_000_000_000_000_000)
        #expect(wholeSecond(.nan) == 0)
    }
}

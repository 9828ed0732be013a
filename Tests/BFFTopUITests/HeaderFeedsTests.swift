import BFFTopEngine
import BFFTopStats
import Testing
@testable import BFFTopUI

/// The header names what feeds the dashboard: the socket's emitters, and OTLP's spans and points.
@Suite struct HeaderFeedsTests {
    @Test func onlyOTLPFeedingShowsItsCountsNotZeroEmitters() {
        var frame = Fixtures.busyFrame()
        frame.ingest.connections = []
        var o = OTLPStatus()
        (o.exports, o.spans, o.metricExports, o.points) = (3, 1_536, 2, 40)
        frame.ingest.otlp = o
        let s = Fixtures.state(frame, width: 160, height: 30)
        let header = Dashboard.render(s).row(0)
        #expect(!header.contains("0 emitters"), "\(header)")
        #expect(header.contains("otlp 1.5k spans, 40 points"), "\(header)")
        // Nothing received yet anywhere: the socket's count stays (it says where emitters go).
        frame.ingest.otlp = OTLPStatus()
        #expect(Dashboard.render(Fixtures.state(frame, width: 160, height: 30)).row(0).contains("⇄ 0 emitters"))
    }
}

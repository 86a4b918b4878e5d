import Outbound
import Testing

@testable import AdminAPI

struct AdminMetricsTests {
    @Test func attemptCountersAreOneCounterFamilyWithEscapedLabels() {
        var plain = OutboundStats.Counts()
        plain.delivered = 3
        plain.bounced = 1
        var odd = OutboundStats.Counts()
        odd.deferred = 2
        let text = AdminMetrics.attemptCounters(["b.example": plain, "a\"\\\n": odd])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("# TYPE mailroom_outbound_attempts_total counter") }.count == 1)
        #expect(lines.contains(#"mailroom_outbound_attempts_total{domain="b.example",result="delivered"} 3"#))
        #expect(lines.contains(#"mailroom_outbound_attempts_total{domain="b.example",result="bounced"} 1"#))
        #expect(lines.contains(#"mailroom_outbound_attempts_total{domain="a\"\\\n",result="deferred"} 2"#))
        #expect(lines.count == 2 + 6)
        #expect(AdminMetrics.attemptCounters([:]).isEmpty, "no family until something was attempted")
    }
}

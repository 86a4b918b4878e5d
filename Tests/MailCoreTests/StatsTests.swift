import MailCore
import Testing

struct StatsTests {
    static let counter = Stats.Metric("test_events_total", .counter, "Events")
    static let gauge = Stats.Metric("test_open", .gauge, "Open")
    static let histogram = Stats.Metric("test_duration_seconds", .histogram, "Durations", buckets: [1, 10])

    @Test func countersGaugesAndLabelsInTheTextFormat() {
        let stats = Stats()
        stats.add(Self.counter, ["kind": "b"])
        stats.add(Self.counter, ["kind": "a\"q\\\n"], 2)
        stats.add(Self.gauge, [:], 3)
        stats.add(Self.gauge, [:], -1)
        #expect(stats.value(Self.gauge) == 2)
        #expect(
            stats.exposition() == """
                # HELP test_events_total Events
                # TYPE test_events_total counter
                test_events_total{kind="a\\"q\\\\\\n"} 2
                test_events_total{kind="b"} 1
                # HELP test_open Open
                # TYPE test_open gauge
                test_open 2

                """)
    }

    @Test func histogramBucketsAreCumulative() {
        let stats = Stats()
        for v in [0.5, 5, 50] { stats.observe(Self.histogram, ["result": "ok"], v) }
        #expect(
            stats.exposition() == """
                # HELP test_duration_seconds Durations
                # TYPE test_duration_seconds histogram
                test_duration_seconds_bucket{result="ok",le="1"} 1
                test_duration_seconds_bucket{result="ok",le="10"} 2
                test_duration_seconds_bucket{result="ok",le="+Inf"} 3
                test_duration_seconds_sum{result="ok"} 55.5
                test_duration_seconds_count{result="ok"} 3

                """)
    }
}

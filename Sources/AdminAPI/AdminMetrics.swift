import Directory
import Foundation
import Outbound
import Storage
import Prometheus

/// The admin API's own Prometheus registry (not the process-wide MetricsSystem, so that several
/// servers, as in tests, can live in one process).
public final class AdminMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
        .milliseconds(500), .seconds(1), .seconds(5),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    func record(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            name: "mailroom_admin_requests_total", labels: [("route", route), ("method", method), ("status", String(status))],
            help: "Admin API requests by route, method and status"
        ).increment()
        registry.makeDurationHistogram(
            name: "mailroom_admin_request_duration_seconds", labels: [("route", route), ("method", method)],
            buckets: buckets, help: "Admin API request latency"
        ).recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// Prometheus text exposition, with the directory's sizes as of now.
    func render(directory: DirectoryService, outbound: OutboundAdmin? = nil) -> String {
        let snap = directory.snapshot
        let sizes: [(String, Int)] = [
            ("domains", snap.domainsByID.count), ("accounts", snap.accountCount), ("aliases", snap.aliasCount),
            ("lists", snap.listCount),
        ]
        for (kind, n) in sizes {
            registry.makeGauge(
                name: "mailroom_directory_entries", labels: [("kind", kind)], help: "Entries in the directory by kind"
            ).set(Double(n))
        }
        if let outbound { renderOutbound(outbound, directory: directory) }
        return registry.emitToString()
    }
}

extension AdminMetrics {
    /// Queue size by state, and deliveries, deferrals and bounces by destination domain.
    func renderOutbound(_ outbound: OutboundAdmin, directory: DirectoryService) {
        let counts = (try? directory.store.queueCounts()) ?? [:]
        for status in QueueEntry.Status.allCases {
            registry.makeGauge(
                name: "mailroom_queue_recipients", labels: [("status", status.rawValue)], help: "Recipients on the outbound queue by status"
            ).set(Double(counts[status] ?? 0))
        }
        for (domain, c) in outbound.stats.byDomain {
            for (result, n) in [("delivered", c.delivered), ("deferred", c.deferred), ("bounced", c.bounced)] {
                // Counters only go up: set the gauge-like total through a counter's increments.
                let counter = registry.makeCounter(
                    name: "mailroom_outbound_attempts_total", labels: [("domain", domain), ("result", result)],
                    help: "Outbound delivery attempts by destination domain and result")
                counter.reset()
                counter.increment(by: Int64(n))
            }
        }
    }
}

import Directory
import Filtering
import Foundation
import Outbound
import Storage
import MailCore
import Prometheus
import Synchronization

/// The admin API's own Prometheus registry (not the process-wide MetricsSystem, so that several
/// servers, as in tests, can live in one process).
public final class AdminMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
        .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// What the listeners count (connections, messages, logins, commands, the inbound checks'
    /// results and decisions) and the gauges the refreshers set at each scrape.
    public let stats = Stats()
    private let refreshers = Mutex<[@Sendable (Stats) -> Void]>([])

    /// `refresh` runs at each scrape, before the text is written: for values read then (queue
    /// age, store size, certificate expiry) rather than counted as they change.
    public func refresh(_ refresh: @escaping @Sendable (Stats) -> Void) { refreshers.withLock { $0.append(refresh) } }

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
        for refresh in refreshers.withLock({ $0 }) { refresh(stats) }
        guard let outbound else { return registry.emitToString() + stats.exposition() }
        setQueueGauges(outbound.queue)
        return registry.emitToString() + Self.attemptCounters(outbound.stats.byDomain) + outbound.stats.timing.exposition() + stats.exposition()
    }
}

extension AdminMetrics {
    /// Queue size by state.
    func setQueueGauges(_ queue: QueueAdmin) {
        let counts = (try? queue.counts()) ?? [:]
        for status in QueueEntry.Status.allCases {
            registry.makeGauge(
                name: "mailroom_queue_recipients", labels: [("status", status.rawValue)], help: "Recipients on the outbound queue by status"
            ).set(Double(counts[status] ?? 0))
        }
    }

    /// Deliveries, deferrals and bounces by destination domain. The runner's ``OutboundStats``
    /// is the one place these are counted; they are written out from it at each scrape rather
    /// than copied into registry counters, which would keep them twice.
    static func attemptCounters(_ byDomain: [String: OutboundStats.Counts]) -> String {
        guard !byDomain.isEmpty else { return "" }
        let name = "mailroom_outbound_attempts_total"
        var text = "# HELP \(name) Outbound delivery attempts by destination domain and result\n# TYPE \(name) counter\n"
        for domain in byDomain.keys.sorted() {
            let c = byDomain[domain]!
            for (result, n) in [("delivered", c.delivered), ("deferred", c.deferred), ("bounced", c.bounced)] {
                text += "\(name){domain=\"\(labelValue(domain))\",result=\"\(result)\"} \(n)\n"
            }
        }
        return text
    }

    /// A label value in the text exposition format: backslash, quote and newline escaped.
    static func labelValue(_ value: String) -> String {
        var out = ""
        for ch in value {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }
}

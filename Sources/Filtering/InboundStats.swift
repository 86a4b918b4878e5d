import Synchronization

/// Counts of what the inbound checks found and decided, for `/metrics`: results per method
/// (`spf`/`dkim`/`dmarc` → `pass`, `fail`, …) and decisions (`deliver`, `junk`, `quarantine`,
/// `refuse`, `defer`), and connections refused per blocklist.
public final class InboundStats: Sendable {
    public struct Key: Hashable, Sendable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    private let results = Mutex<[Key: Int]>([:])
    private let decisions = Mutex<[String: Int]>([:])
    private let blocked = Mutex<[String: Int]>([:])

    public init() {}

    public func result(_ method: String, _ result: String) { results.withLock { $0[Key(name: method, value: result), default: 0] += 1 } }
    public func decision(_ decision: String) { decisions.withLock { $0[decision, default: 0] += 1 } }
    public func blocked(by zone: String) { blocked.withLock { $0[zone, default: 0] += 1 } }

    public var resultCounts: [Key: Int] { results.withLock { $0 } }
    public var decisionCounts: [String: Int] { decisions.withLock { $0 } }
    public var blockedCounts: [String: Int] { blocked.withLock { $0 } }

    /// The Prometheus text exposition of all three (counters written out at each scrape, as the
    /// outbound attempts are).
    public func exposition(escape: (String) -> String) -> String {
        var text = ""
        let r = resultCounts
        if !r.isEmpty {
            let name = "mailroom_inbound_results_total"
            text += "# HELP \(name) Inbound authentication results by method and result\n# TYPE \(name) counter\n"
            for k in r.keys.sorted(by: { ($0.name, $0.value) < ($1.name, $1.value) }) {
                text += "\(name){method=\"\(escape(k.name))\",result=\"\(escape(k.value))\"} \(r[k]!)\n"
            }
        }
        let d = decisionCounts
        if !d.isEmpty {
            let name = "mailroom_inbound_decisions_total"
            text += "# HELP \(name) Messages from outside by decision\n# TYPE \(name) counter\n"
            for k in d.keys.sorted() { text += "\(name){decision=\"\(escape(k))\"} \(d[k]!)\n" }
        }
        let b = blockedCounts
        if !b.isEmpty {
            let name = "mailroom_inbound_blocklisted_connections_total"
            text += "# HELP \(name) Connections refused because a DNS blocklist names the client\n# TYPE \(name) counter\n"
            for k in b.keys.sorted() { text += "\(name){list=\"\(escape(k))\"} \(b[k]!)\n" }
        }
        return text
    }
}

import AdminModels
import EmailAuth
import Foundation

/// What a server administrator puts about this server in the outside world: the listeners'
/// public ports, the host name, the certificate, the blocklists to be checked against.
public struct ServerFacts: Sendable {
    public struct Listener: Sendable, Hashable {
        /// As the start-up lines name it: `SMTP (MX)`, `submission`, `submissions (TLS)`, `IMAP`, `IMAPS (TLS)`, `admin API`.
        public var name: String
        public var host: String
        public var port: Int
        public init(name: String, host: String, port: Int) {
            self.name = name
            self.host = host
            self.port = port
        }
    }

    public var hostname: String
    public var listeners: [Listener]
    /// The PEM chain every TLS listener serves now (ACME may replace it), and whether it is the
    /// one Mailroom generated (self-signed).
    public var certificate: @Sendable () -> (pem: String, generated: Bool)
    public var dnsbl: [String]

    public init(hostname: String, listeners: [Listener], certificate: @escaping @Sendable () -> (pem: String, generated: Bool), dnsbl: [String]) {
        self.hostname = hostname
        self.listeners = listeners
        self.certificate = certificate
        self.dnsbl = dnsbl
    }

    public init(hostname: String, listeners: [Listener], certificatePEM: String, certificateGenerated: Bool, dnsbl: [String]) {
        self.init(hostname: hostname, listeners: listeners, certificate: { (certificatePEM, certificateGenerated) }, dnsbl: dnsbl)
    }

    /// The standard port of a service, or the configured one when it is not standard.
    func port(_ name: String, standard: Int) -> Int? {
        let found = listeners.filter { $0.name == name }.map(\.port)
        guard !found.isEmpty else { return nil }
        return found.contains(standard) ? standard : found[0]
    }
}

/// The DNS records to publish for a domain served by this server (RFC 5321 MX, RFC 7208 SPF,
/// RFC 6376 DKIM, RFC 7489 DMARC, RFC 8461 MTA-STS, RFC 8460 TLS-RPT, RFC 6186/8314 SRV,
/// Thunderbird/Outlook autoconfiguration names, and the PTR of the outbound address).
public enum PublishedRecords {
    /// `dkim` are the domain's keys as `mailroom dkim list` shows them (only active ones are
    /// published); `policyID` stamps the MTA-STS record (change it when the policy changes).
    public static func records(domain name: String, facts: ServerFacts, dkim: [DKIMKeyView], policyID: String) -> [DNSRecordView] {
        let domain = name.lowercased()
        let d = domain + "."
        let host = facts.hostname.lowercased() + "."
        var r: [DNSRecordView] = [
            DNSRecordView(name: d, type: "MX", value: "10 \(host)", purpose: "mail for \(domain) comes to this server"),
            DNSRecordView(
                name: d, type: "TXT", value: quoted("v=spf1 mx -all"),
                purpose: "SPF: the MX hosts (this server) send \(domain)'s mail; nothing else may"),
        ]
        for key in dkim where key.active {
            r.append(DNSRecordView(
                name: key.dnsName + ".", type: "TXT", value: quoted(key.dnsRecord),
                purpose: "DKIM: the \(key.algorithm) key mail from \(domain) is signed with"))
        }
        r += [
            DNSRecordView(
                name: "_dmarc." + d, type: "TXT", value: quoted("v=DMARC1; p=reject; rua=mailto:postmaster@\(domain)"),
                purpose: "DMARC: refuse mail that claims \(domain) and passes neither SPF nor DKIM; reports to postmaster"),
            DNSRecordView(
                name: "_mta-sts." + d, type: "TXT", value: quoted("v=STSv1; id=\(policyID)"),
                purpose: "MTA-STS (RFC 8461): senders must use TLS; needs the policy at https://mta-sts.\(domain)/.well-known/mta-sts.txt"),
            DNSRecordView(
                name: "_smtp._tls." + d, type: "TXT", value: quoted("v=TLSRPTv1; rua=mailto:postmaster@\(domain)"),
                purpose: "TLS-RPT (RFC 8460): where senders report TLS failures"),
        ]
        for (service, listener, standard) in [
            ("_imap._tcp", "IMAP", 143), ("_imaps._tcp", "IMAPS (TLS)", 993), ("_submission._tcp", "submission", 587),
            ("_submissions._tcp", "submissions (TLS)", 465),
        ] {
            guard let port = facts.port(listener, standard: standard) else { continue }
            r.append(DNSRecordView(
                name: "\(service).\(d)", type: "SRV", value: "0 1 \(port) \(host)",
                purpose: "client autoconfiguration (RFC 6186, RFC 8314)"))
        }
        r += [
            DNSRecordView(name: "autoconfig." + d, type: "CNAME", value: host, purpose: "Thunderbird autoconfiguration"),
            DNSRecordView(name: "autodiscover." + d, type: "CNAME", value: host, purpose: "Outlook autodiscover"),
            DNSRecordView(
                name: "<this server's outbound address, reversed>", type: "PTR", value: host,
                purpose: "forward-confirmed reverse DNS: set by whoever owns the address (your hosting provider)"),
        ]
        return r
    }

    /// A TXT value as zone-file character-strings of at most 255 bytes each.
    static func quoted(_ text: String) -> String {
        var parts: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            parts.append("\"" + rest.prefix(255).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"")
            rest = rest.dropFirst(255)
        }
        return parts.isEmpty ? "\"\"" : parts.joined(separator: " ")
    }

    /// A zone file of the records: comments with each purpose, then the record.
    public static func zoneText(_ records: [DNSRecordView]) -> String {
        records.map { "; \($0.purpose)\n\($0.name) IN \($0.type) \($0.value)" }.joined(separator: "\n") + "\n"
    }
}

/// What the admin API needs to answer `dns records` and `doctor`: the server's facts and its
/// resolver.
public struct SetupContext: Sendable {
    public var facts: ServerFacts
    public var dns: any AuthDNS

    public init(facts: ServerFacts, dns: any AuthDNS) {
        self.facts = facts
        self.dns = dns
    }
}

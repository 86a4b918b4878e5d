import EmailAuth
import Foundation
import MailCore

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

    /// The web listener as the outside world reaches it.
    public struct Web: Sendable, Hashable {
        /// Its public port (443 unless configured otherwise).
        public var port: Int
        /// `max_age` of the MTA-STS policies it serves, in seconds.
        public var mtaSTSMaxAge: Int
        public init(port: Int = 443, mtaSTSMaxAge: Int = MTASTSPolicy.defaultMaxAge) {
            self.port = port
            self.mtaSTSMaxAge = mtaSTSMaxAge
        }
    }

    public var hostname: String
    public var listeners: [Listener]
    /// The PEM chain every TLS listener serves now (ACME may replace it), and whether it is the
    /// one Mailroom generated (self-signed).
    public var certificate: @Sendable () -> (pem: String, generated: Bool)
    public var dnsbl: [String]
    /// The web listener (MTA-STS policies, client autoconfiguration); nil when none is
    /// configured, and then no record that needs it is published.
    public var web: Web?

    public init(
        hostname: String, listeners: [Listener], certificate: @escaping @Sendable () -> (pem: String, generated: Bool), dnsbl: [String],
        web: Web? = nil
    ) {
        self.hostname = hostname
        self.listeners = listeners
        self.certificate = certificate
        self.dnsbl = dnsbl
        self.web = web
    }

    public init(
        hostname: String, listeners: [Listener], certificatePEM: String, certificateGenerated: Bool, dnsbl: [String], web: Web? = nil
    ) {
        self.init(hostname: hostname, listeners: listeners, certificate: { (certificatePEM, certificateGenerated) }, dnsbl: dnsbl, web: web)
    }

    /// The MX host names of every domain: the MX records published and the `mx:` lines of the
    /// MTA-STS policies come from here, so they agree.
    public var mxHosts: [String] { [hostname.lowercased()] }

    /// The MTA-STS policy of a domain in `mode`, as the web listener serves it.
    public func mtaSTSPolicy(mode: MTASTSMode) -> MTASTSPolicy {
        MTASTSPolicy(mode: mode, mx: mxHosts, maxAge: web?.mtaSTSMaxAge ?? MTASTSPolicy.defaultMaxAge)
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
/// Thunderbird/Outlook autoconfiguration names, and the PTR of the outbound address). The
/// records that need the web listener (MTA-STS, autoconfiguration) are left out without one.
public enum PublishedRecords {
    /// `dkim` are the domain's keys as `mailroom dkim list` shows them (only active ones are
    /// published); `mtaSTS` is the domain's MTA-STS mode, whose policy's id the `_mta-sts`
    /// record carries.
    public static func records(domain name: String, facts: ServerFacts, dkim: [DKIMKeyView], mtaSTS: MTASTSMode) -> [DNSRecordView] {
        let domain = name.lowercased()
        let d = domain + "."
        let host = facts.hostname.lowercased() + "."
        var r: [DNSRecordView] = facts.mxHosts.map { mx in
            DNSRecordView(name: d, type: "MX", value: "10 \(mx).", purpose: "mail for \(domain) comes to this server")
        }
        r += [
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
                name: "_smtp._tls." + d, type: "TXT", value: quoted("v=TLSRPTv1; rua=mailto:postmaster@\(domain)"),
                purpose: "TLS-RPT (RFC 8460): where senders report TLS failures"),
        ]
        if facts.web != nil {
            let policy = facts.mtaSTSPolicy(mode: mtaSTS)
            r += [
                DNSRecordView(
                    name: "_mta-sts." + d, type: "TXT", value: quoted(policy.record),
                    purpose: "MTA-STS (RFC 8461), mode \(mtaSTS.rawValue): the id of the policy this server serves at "
                        + "https://mta-sts.\(domain)/.well-known/mta-sts.txt; it changes whenever the policy does"),
                DNSRecordView(
                    name: "mta-sts." + d, type: "CNAME", value: host,
                    purpose: "where senders fetch the MTA-STS policy: this server's web listener (or A/AAAA records of this server)"),
            ]
        }
        for (service, listener, standard) in [
            ("_imap._tcp", "IMAP", 143), ("_imaps._tcp", "IMAPS (TLS)", 993), ("_submission._tcp", "submission", 587),
            ("_submissions._tcp", "submissions (TLS)", 465),
        ] {
            guard let port = facts.port(listener, standard: standard) else { continue }
            r.append(DNSRecordView(
                name: "\(service).\(d)", type: "SRV", value: "0 1 \(port) \(host)",
                purpose: "client autoconfiguration (RFC 6186, RFC 8314)"))
        }
        if let web = facts.web {
            r += [
                DNSRecordView(
                    name: "autoconfig." + d, type: "CNAME", value: host,
                    purpose: "Thunderbird autoconfiguration from this server's web listener (or A/AAAA records of this server)"),
                // Outlook asks the host an SRV record names with that host's name, so the
                // certificate need not name autodiscover.DOMAIN.
                DNSRecordView(
                    name: "_autodiscover._tcp." + d, type: "SRV", value: "0 0 \(web.port) \(host)",
                    purpose: "Outlook autodiscover from this server's web listener"),
            ]
        }
        r += [
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

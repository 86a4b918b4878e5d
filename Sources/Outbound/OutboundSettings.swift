import DNS
import Foundation
import NIOSSL
import SMTP
import SMTPClient

/// Where mail for a domain goes instead of its MX hosts: `host`, `host:port`, `[v6]:port`.
public struct NextHop: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `mail.example.net`, `mail.example.net:2525`, `127.0.0.1:2526`, `[::1]:2526`.
    public init?(parsing text: String, defaultPort: Int = 25) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]") else { return nil }
            host = String(t[t.index(after: t.startIndex)..<close])
            let rest = t[t.index(after: close)...]
            if rest.isEmpty {
                port = defaultPort
            } else {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()), (1...65535).contains(p) else { return nil }
                port = p
            }
        } else if t.filter({ $0 == ":" }).count == 1, let colon = t.firstIndex(of: ":") {
            host = String(t[..<colon])
            guard let p = Int(t[t.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
        } else {
            host = t
            port = defaultPort
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else { return nil }
    }

    /// An IP literal needs no DNS.
    public var isIPAddress: Bool { IPAddressText.isIPLiteral(host) }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A smarthost: all outbound mail goes through it, with AUTH over TLS whose certificate is
/// verified by default, since the password crosses it.
public struct RelayHost: Hashable, Sendable {
    public var hop: NextHop
    public var username: String?
    public var password: String?
    public var tls: SMTPTLSPolicy
    /// CA certificates (PEM) to verify the relay's certificate with instead of the system's.
    public var caFile: String?

    public init(hop: NextHop, username: String?, password: String?, tls: SMTPTLSPolicy = .verify, caFile: String? = nil) {
        self.hop = hop
        self.username = username
        self.password = password
        self.tls = tls
        self.caFile = caFile
    }
}

/// How the queue runner delivers: routes, retries, limits, TLS.
public struct OutboundSettings: Hashable, Sendable {
    /// Our name in EHLO and in bounces.
    public var hostname: String
    /// Static routes by destination domain (lower-case, ASCII).
    public var routes: [String: NextHop] = [:]
    public var relay: RelayHost?
    /// Port of MX hosts.
    public var mxPort = 25
    /// First retry after this long, doubling up to `retryMax` (Postfix: 300 s, 4000 s).
    public var retryMin: TimeInterval = 300
    public var retryMax: TimeInterval = 4000
    /// Give up (bounce) after this long in the queue (Postfix: 5 days).
    public var lifetime: TimeInterval = 5 * 86400
    /// Tell the sender once a message has waited this long; nil for never.
    public var delayWarning: TimeInterval? = 4 * 3600
    /// Connections at once to one destination domain, and in all.
    public var destinationConcurrency = 20
    public var maxConnections = 200
    public var tls: SMTPTLSPolicy = .opportunistic
    /// Domains that must be reached over TLS, and those whose MX certificates must also verify
    /// (against the system's CAs, for the MX host's name).
    public var requireTLS: Set<String> = []
    public var verifyTLS: Set<String> = []
    public var timeouts = SMTPClientTimeouts()
    /// Queue entries in memory at once (claimed and not yet finished).
    public var maxInFlight = 4000

    public init(hostname: String) {
        self.hostname = hostname
    }

    /// How to use TLS towards `domain`: the relay's policy when there is a relay, else the
    /// domain's own, else the default. A configuration only when the relay names its own CAs:
    /// otherwise the connection's policy alone says whether to verify (against the system's).
    public func tls(for domain: String) -> (policy: SMTPTLSPolicy, configuration: TLSConfiguration?) {
        let policy: SMTPTLSPolicy
        if let relay {
            policy = relay.tls
        } else if verifyTLS.contains(domain) {
            policy = .verify
        } else if requireTLS.contains(domain) {
            policy = .required
        } else {
            policy = tls
        }
        guard policy == .verify, let caFile = relay?.caFile else { return (policy, nil) }
        return (policy, SMTPClientTLS.verifying(caFile: caFile))
    }

    /// The delay before attempt number `attempts + 1`, with ±20% jitter so that retries of
    /// many messages do not all fall in the same second.
    public func retryDelay(afterAttempts attempts: Int) -> TimeInterval {
        let base = min(retryMax, retryMin * pow(2, Double(max(0, attempts - 1))))
        return base * Double.random(in: 0.8...1.2)
    }
}

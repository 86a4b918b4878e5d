import Foundation

/// Evaluates SPF (RFC 7208): `check_host()` of §4 with the mechanisms of §5, over ``AuthDNS``.
///
/// ```swift
/// let spf = SPFVerifier(dns: resolver, receiver: "mx.example.net")
/// let outcome = await spf.verify(ip: SPFAddress("192.0.2.3")!, mailFrom: "ann@example.org", helo: "mail.example.org")
/// outcome.result   // .pass
/// outcome.reason   // "matched ip4:192.0.2.0/24 in example.org's record"
/// ```
///
/// Never throws: DNS failures and malformed records become `temperror` and `permerror`, with a
/// `reason` saying which name or term caused them.
public struct SPFVerifier: Sendable {
    public let dns: any AuthDNS
    /// The receiving host's domain, for the `r` macro in explanations (§7.3).
    public let receiver: String
    /// The time for the `t` macro in explanations.
    public let clock: @Sendable () -> Date

    public init(dns: any AuthDNS, receiver: String = "unknown", clock: @escaping @Sendable () -> Date = { Date() }) {
        self.dns = dns
        self.receiver = receiver
        self.clock = clock
    }

    /// Checks the MAIL FROM identity, or the HELO identity when MAIL FROM is the null path
    /// (RFC 7208 §2.4: then `<sender>` is `postmaster@` the HELO name).
    ///
    /// `mailFrom` is the reverse-path without angle brackets ("" for `<>`); a local-part that is
    /// empty or missing becomes "postmaster" (§4.3).
    public func verify(ip: SPFAddress, mailFrom: String, helo: String) async -> SPFOutcome {
        if mailFrom.isEmpty { return await checkHELO(ip: ip, helo: helo) }
        var sender = mailFrom
        var domain = mailFrom
        if let at = mailFrom.lastIndex(of: "@") {
            domain = String(mailFrom[mailFrom.index(after: at)...])
            if at == mailFrom.startIndex { sender = "postmaster" + mailFrom }
        } else {
            sender = "postmaster@" + mailFrom
        }
        return await checkHost(ip: ip, domain: domain, sender: sender, helo: helo)
    }

    /// Checks the HELO identity (RFC 7208 §2.3): `check_host(ip, helo, "postmaster@" + helo)`.
    public func checkHELO(ip: SPFAddress, helo: String) async -> SPFOutcome {
        await checkHost(ip: ip, domain: helo, sender: "postmaster@" + helo, helo: helo)
    }

    /// `check_host(<ip>, <domain>, <sender>)` (RFC 7208 §4). An IPv4-mapped IPv6 `ip` is checked
    /// as IPv4 (§5). A `domain` that is not a multi-label domain name gives `none` (§4.3).
    public func checkHost(ip: SPFAddress, domain: String, sender: String, helo: String) async -> SPFOutcome {
        var evaluation = SPFEvaluation(
            verifier: self, ip: ip.ipv4Unmapped, sender: sender, helo: helo)
        let name = SPFEvaluation.normalised(domain)
        guard SPFEvaluation.isValidDomain(name) else {
            return SPFOutcome(
                result: .none, domain: domain,
                reason: "\"\(domain)\" is not a fully qualified domain name, so it has no SPF policy (RFC 7208 §4.3)")
        }
        let conclusion = await evaluation.check(name)
        return SPFOutcome(
            result: conclusion.result, domain: name, mechanism: conclusion.mechanism,
            mechanismDomain: conclusion.mechanismDomain, reason: conclusion.reason,
            explanation: conclusion.explanation, lookups: evaluation.lookups)
    }
}

import Directory
import EmailAuth
import Foundation
import MIME
import MailCore
import SMTP

/// `[inbound]`: the checks on mail that arrives on the MX from unauthenticated clients, and
/// what they may refuse. docs/configuration.md documents each key.
public struct InboundSettings: Sendable {
    /// SPF (RFC 7208) for MAIL FROM (the HELO name for bounces), started at MAIL FROM.
    public var spf = true
    /// DKIM signatures (RFC 6376) verified at the end of DATA.
    public var dkim = true
    /// DMARC (RFC 7489): `p=quarantine` failures go to Junk; `p=reject` failures are refused.
    public var dmarc = true
    /// A `p=reject` failure is refused with 550 5.7.1; false files it in Junk instead.
    public var dmarcReject = true
    /// Mail from outside `trusted_networks` whose MAIL FROM or From is one of our domains must
    /// pass SPF or (aligned) DKIM for that domain, with or without a DMARC record.
    public var protectOwnDomains = true

    public init() {}
}

/// What the inbound checks decided about one message.
struct InboundVerdict: Sendable {
    /// The message without `Authentication-Results` fields that claim to be ours.
    var data: [UInt8]
    /// Our `Authentication-Results` field, CRLF-terminated.
    var header: String
    /// One line for the delivery log (`mailroom trace`).
    var story: String
    /// The reply refusing the message, or nil to accept it.
    var refusal: SMTPReply?
    /// Why it goes to Junk, or nil for INBOX.
    var junkReason: String?
}

/// SPF, DKIM and DMARC for mail arriving on the MX, with one `Authentication-Results` field
/// (RFC 8601) and a story for the trace. Pure decisions over the verifiers' results; the DNS
/// lookups go through ``AuthDNS``.
struct InboundChecks: Sendable {
    let hostname: String
    let settings: InboundSettings
    let spf: SPFVerifier
    let dkim: DKIMVerifier
    let dmarc: DMARCVerifier

    init(hostname: String, settings: InboundSettings, dns: any AuthDNS, suffixes: PublicSuffixList = .embedded) {
        self.hostname = hostname
        self.settings = settings
        self.spf = SPFVerifier(dns: dns, receiver: hostname)
        self.dkim = DKIMVerifier(dns: dns)
        self.dmarc = DMARCVerifier(dns: dns, suffixes: suffixes)
    }

    /// SPF for a new transaction (RFC 7208 §2.4: MAIL FROM, or the HELO name for `<>`); nil
    /// when SPF is off or the client address is not an IP address.
    func checkSender(ip: String, sender: SMTPMailbox?, helo: String) async -> SPFOutcome? {
        guard settings.spf, let address = SPFAddress(ip) else { return nil }
        return await spf.verify(ip: address, mailFrom: sender.map { "\($0.localPart)@\($0.domain)" } ?? "", helo: helo)
    }

    /// Verifies the message and decides. `isOurs` tells whether a domain is one of ours;
    /// `trusted` clients (in `trusted_networks`) are checked and reported, never refused.
    func judge(
        _ data: [UInt8], sender: SMTPMailbox?, spf spfOutcome: SPFOutcome?, trusted: Bool, isOurs: (String) -> Bool
    ) async -> InboundVerdict {
        let message = AuthenticationResults.removingOurs(from: data, authservID: hostname)
        let parsed = DKIMMessage(message)
        let signatures = settings.dkim ? await dkim.verify(parsed) : []
        let fromFields = parsed.headerFields.filter { $0.lowercasedName == "from" }
        let fromDomains = Array(Set(fromFields.flatMap { HeaderMailboxes.parse($0.value).map(\.domain) })).sorted()
        let mailFromDomain = sender.map { $0.domain.lowercased() }

        var entries: [AuthenticationResults.Entry] = []
        var story: [String] = []
        if let s = spfOutcome {
            let identity = sender.map { ("smtp.mailfrom", "\($0.localPart)@\($0.domain)") } ?? ("smtp.helo", s.domain)
            entries.append(.init(method: "spf", result: s.result.rawValue, comment: s.reason, properties: [identity]))
            story.append("SPF \(s.result) for \(s.domain) (\(s.reason))")
        }
        if settings.dkim {
            if signatures.isEmpty {
                entries.append(.init(method: "dkim", result: "none"))
                story.append("DKIM none (no signature)")
            }
            for sig in signatures {
                var props: [(name: String, value: String)] = []
                if !sig.domain.isEmpty { props.append(("header.d", sig.domain)) }
                if !sig.selector.isEmpty { props.append(("header.s", sig.selector)) }
                if !sig.headerB.isEmpty { props.append(("header.b", sig.headerB)) }
                entries.append(.init(method: "dkim", result: sig.result.rawValue, comment: sig.reason, properties: props))
                story.append("DKIM \(sig.result.rawValue) for \(sig.domain.isEmpty ? "an unreadable signature" : sig.domain) (\(sig.reason))")
            }
        }
        let spfForDMARC = spfOutcome.map { (result: $0.result.rawValue, domain: $0.domain) }

        var refusal: SMTPReply?
        var junk: String?
        // More than one From field, or From addresses in several domains: whose policy would
        // apply is ambiguous, and that ambiguity is how DMARC gets bypassed (RFC 7489 §6.6.1).
        if fromFields.count > 1 || fromDomains.count > 1 {
            story.append("DMARC not applicable: \(fromFields.count) From fields naming \(fromDomains.count) domains")
            entries.append(.init(method: "dmarc", result: "permerror", comment: "not exactly one From domain"))
            if !trusted {
                refusal = SMTPReply(550, "5.7.1", "a message must have one From field with addresses in one domain (RFC 5322 §3.6, RFC 7489 §6.6.1)")
            }
        } else if settings.dmarc, let from = fromDomains.first, !from.isEmpty {
            let outcome = await dmarc.evaluate(fromDomain: from, spf: spfForDMARC, dkim: signatures)
            var comment = outcome.policy.map { "p=\($0.rawValue)" } ?? ""
            if outcome.result == .fail { comment += " dis=\(outcome.disposition.rawValue)" }
            entries.append(.init(method: "dmarc", result: outcome.result.rawValue, comment: comment.isEmpty ? nil : comment, properties: [("header.from", from)]))
            story.append("DMARC \(outcome.result.rawValue) for \(from) (\(outcome.reason))")
            if outcome.result == .fail, !trusted {
                switch outcome.disposition {
                case .reject where settings.dmarcReject:
                    refusal = SMTPReply(550, "5.7.1", "\(from) publishes a DMARC policy of reject and this message fails it: \(outcome.reason)")
                case .reject, .quarantine:
                    junk = "DMARC policy \(outcome.policy?.rawValue ?? "") of \(from)"
                case .none:
                    break
                }
            }
        }

        // Our own domains, with or without a DMARC record.
        if refusal == nil, settings.protectOwnDomains, !trusted {
            let claimed = ([mailFromDomain].compactMap { $0 } + fromDomains).filter { !$0.isEmpty && isOurs($0) }
            for domain in Set(claimed).sorted() {
                let spfPasses = spfOutcome?.result == .pass && mailFromDomain.map { dmarc.aligns($0, domain, .relaxed) } == true
                let dkimPasses = signatures.contains { $0.result == .pass && dmarc.aligns($0.domain, domain, .relaxed) }
                if !spfPasses && !dkimPasses {
                    refusal = SMTPReply(
                        550, "5.7.1",
                        "\(domain) is a domain of this server, and this message from outside passes neither SPF nor DKIM for it (own-domain protection)")
                    story.append("refused: \(domain) is ours, and neither SPF nor DKIM passed for it")
                    break
                }
            }
        }
        if let junk { story.append("filed in Junk: \(junk)") }
        let header = AuthenticationResults(authservID: hostname, entries: entries).field
        return InboundVerdict(data: message, header: header, story: story.joined(separator: "; "), refusal: refusal, junkReason: junk)
    }
}

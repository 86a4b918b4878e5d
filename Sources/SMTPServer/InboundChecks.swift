import Delivery
import Directory
import EmailAuth
import Filtering
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
    /// DNS blocklist zones asked at connection time (`["zen.spamhaus.org"]`); none by default.
    public var dnsbl: [String] = []
    /// ARC sealers (their `d=` domains, lower case) whose word we take: a message that fails
    /// DMARC after passing through one of them (a mailing list, a forwarder) is not refused or
    /// filed in Junk for it when its ARC chain passes and the newest seal is theirs (RFC 8617
    /// §7.2, the `arc` local policy override of RFC 7489 §7.2.1). None by default.
    public var arcTrustedSealers: [String] = []
    /// What a built-in (or rspamd) score leads to, for every domain without its own.
    public var thresholds = SpamThresholds()
    /// Per recipient domain (lower case). A message to several domains gets the strictest.
    public var domainThresholds: [String: SpamThresholds] = [:]
    /// rspamd, when configured; its action replaces the built-in score.
    public var rspamd: Rspamd?
    /// clamd, when configured: infected mail is refused, and mail is refused for now when
    /// clamd cannot scan it.
    public var clamd: Clamd?

    public init() {}

    /// The strictest thresholds of the recipients' domains.
    func thresholds(for recipients: [String]) -> SpamThresholds {
        let domains = Set(recipients.compactMap { $0.split(separator: "@").last.map { $0.lowercased() } })
        var result: SpamThresholds?
        for domain in domains {
            let t = domainThresholds[domain] ?? thresholds
            result = result.map { $0.stricter(t) } ?? t
        }
        return result ?? thresholds
    }
}

/// Score thresholds: at or above `junk` the message goes to Junk, at or above `quarantine` it is
/// held in quarantine, at or above `reject` it is refused (554 5.7.1). nil turns a step off.
public struct SpamThresholds: Hashable, Sendable {
    public var junk: Double? = 5
    public var quarantine: Double? = nil
    public var reject: Double? = 12

    public init(junk: Double? = 5, quarantine: Double? = nil, reject: Double? = 12) {
        self.junk = junk
        self.quarantine = quarantine
        self.reject = reject
    }

    func stricter(_ other: SpamThresholds) -> SpamThresholds {
        func low(_ a: Double?, _ b: Double?) -> Double? { a.flatMap { a in b.map { min(a, $0) } ?? a } ?? b }
        return SpamThresholds(junk: low(junk, other.junk), quarantine: low(quarantine, other.quarantine), reject: low(reject, other.reject))
    }
}

/// What the inbound checks decided about one message.
struct InboundVerdict: Sendable {
    enum Decision: Hashable, Sendable {
        case deliver
        /// Into each recipient's Junk folder, for this reason.
        case junk(String)
        /// Held in quarantine, for this reason.
        case quarantine(String)
        case refuse(SMTPReply)
    }

    /// The message without `Authentication-Results` fields that claim to be ours.
    var data: [UInt8]
    /// Our `Authentication-Results` field, CRLF-terminated.
    var header: String
    /// One line for the delivery log (`mailroom trace`).
    var story: String
    var decision: Decision
    /// For the ARC set sealed when the message is forwarded to other servers.
    var arc: ARCContext?
    /// The From domain's DMARC policy is reject or quarantine (lists rewrite From for it).
    var strictSenderPolicy = false
    /// Delivered, but these accounts' copies go to Junk (account id → why).
    var junkAccounts: [Int64: String] = [:]
    var refusal: SMTPReply? {
        if case .refuse(let reply) = decision { return reply }
        return nil
    }
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
    let dns: any AuthDNS
    /// Counts each method's result and each decision (the SMTP listeners' ``Stats``).
    let stats: Stats

    init(hostname: String, settings: InboundSettings, dns: any AuthDNS, stats: Stats = Stats(), suffixes: PublicSuffixList = .embedded) {
        self.stats = stats
        self.dns = dns
        self.hostname = hostname
        self.settings = settings
        self.spf = SPFVerifier(dns: dns, receiver: hostname)
        self.dkim = DKIMVerifier(dns: dns)
        self.dmarc = DMARCVerifier(dns: dns, suffixes: suffixes)
    }

    /// Forward-confirmed reverse DNS of a client, for the built-in score.
    func checkReverseDNS(ip: String) async -> ReverseDNS.Result {
        await ReverseDNS.check(ip, dns: dns)
    }

    /// The check the connection started, or one made now.
    private func reverseDNS(of client: Client) async -> ReverseDNS.Result {
        if let started = client.reverseDNS { return await started.value }
        return await checkReverseDNS(ip: client.ip)
    }

    /// SPF for a new transaction (RFC 7208 §2.4: MAIL FROM, or the HELO name for `<>`); nil
    /// when SPF is off or the client address is not an IP address.
    func checkSender(ip: String, sender: SMTPMailbox?, helo: String) async -> SPFOutcome? {
        guard settings.spf, let address = SPFAddress(ip) else { return nil }
        return await spf.verify(ip: address, mailFrom: sender.map { "\($0.localPart)@\($0.domain)" } ?? "", helo: helo)
    }

    /// Verifies the message and decides. `isOurs` tells whether a domain is one of ours;
    /// `trusted` clients (in `trusted_networks`) are checked and reported, never refused.
    /// `dryRun` (`mailroom trace --dry-run`) counts nothing and does not ask rspamd, which may
    /// remember what it is asked (greylisting, history): the built-in score stands in.
    func judge(
        _ data: [UInt8], sender: SMTPMailbox?, recipients: [String], client: Client, spf spfOutcome: SPFOutcome?, trusted: Bool,
        isOurs: (String) -> Bool, junk: JunkLookup? = nil, dryRun: Bool = false
    ) async -> InboundVerdict {
        let message = AuthenticationResults.removingOurs(from: data, authservID: hostname)
        let parsed = DKIMMessage(message)
        async let reverse = trusted ? ReverseDNS.Result.unknown : reverseDNS(of: client)
        let signatures = settings.dkim ? await dkim.verify(parsed) : []
        let arcChain = settings.dkim ? await ARCVerifier(dns: dns).verify(parsed) : nil
        var report = Report(hostname: hostname)
        if let s = spfOutcome {
            let identity = sender.map { ("smtp.mailfrom", "\($0.localPart)@\($0.domain)") } ?? ("smtp.helo", s.domain)
            report.entries.append(.init(method: "spf", result: s.result.rawValue, comment: s.reason, properties: [identity]))
            report.story.append("SPF \(s.result) for \(s.domain) (\(s.reason))")
        }
        if settings.dkim { report.add(signatures) }
        if let arcChain {
            report.entries.append(.init(method: "arc", result: arcChain.result.rawValue, comment: arcChain.result == .none ? nil : arcChain.reason))
            if arcChain.result != .none { report.story.append("ARC \(arcChain.result.rawValue) (\(arcChain.reason))") }
        }

        let fromFields = parsed.headerFields.filter { $0.isNamed("from") }
        let fromDomains = Array(Set(fromFields.flatMap { HeaderMailboxes.parse($0.value).map(\.domain) })).sorted()
        var decision = InboundVerdict.Decision.deliver
        var dmarcResult: DMARCResult?
        var strictPolicy = false
        /// A trusted ARC sealer vouched for the message: its SPF and DMARC failures are the
        /// forwarder's doing, not signs of spam.
        var arcVouched = false
        func decide(_ d: InboundVerdict.Decision) { if !trusted, decision == .deliver { decision = d } }

        // More than one From field, or From addresses in several domains: whose policy would
        // apply is ambiguous, and that ambiguity is how DMARC gets bypassed (RFC 7489 §6.6.1).
        if fromFields.count > 1 || fromDomains.count > 1 {
            report.story.append("DMARC not applicable: \(fromFields.count) From fields naming \(fromDomains.count) domains")
            report.entries.append(.init(method: "dmarc", result: "permerror", comment: "not exactly one From domain"))
            decide(.refuse(SMTPReply(550, "5.7.1", "a message must have one From field with addresses in one domain (RFC 5322 §3.6, RFC 7489 §6.6.1)")))
        } else if settings.dmarc, let from = fromDomains.first, !from.isEmpty {
            let outcome = await dmarc.evaluate(fromDomain: from, spf: spfOutcome.map { (result: $0.result.rawValue, domain: $0.domain) }, dkim: signatures)
            dmarcResult = outcome.result
            strictPolicy = outcome.policy == .reject || outcome.policy == .quarantine
            // A trusted forwarder's passing ARC chain vouches for what it received.
            let override = outcome.result == .fail && outcome.disposition != .none
                ? arcChain.flatMap { chain in
                    chain.result == .pass ? chain.sealers.last.flatMap { s in settings.arcTrustedSealers.contains(s.lowercased()) ? s : nil } : nil
                } : nil
            var comment = outcome.policy.map { "p=\($0.rawValue)" } ?? ""
            if outcome.result == .fail { comment += override == nil ? " dis=\(outcome.disposition.rawValue)" : " dis=none, overridden by arc" }
            report.entries.append(.init(method: "dmarc", result: outcome.result.rawValue, comment: comment.isEmpty ? nil : comment, properties: [("header.from", from)]))
            report.story.append("DMARC \(outcome.result.rawValue) for \(from) (\(outcome.reason))")
            if let override {
                arcVouched = true
                report.story.append("DMARC policy not applied: the ARC chain passes and its newest seal is from \(override), a trusted sealer")
            } else if outcome.result == .fail {
                switch outcome.disposition {
                case .reject where settings.dmarcReject:
                    decide(.refuse(SMTPReply(550, "5.7.1", "\(from) publishes a DMARC policy of reject and this message fails it: \(outcome.reason)")))
                case .reject, .quarantine:
                    decide(.junk("DMARC policy \(outcome.policy?.rawValue ?? "") of \(from)"))
                case .none:
                    break
                }
            }
        }

        // Our own domains, with or without a DMARC record.
        let mailFromDomain = sender.map { $0.domain.lowercased() }
        if settings.protectOwnDomains, !trusted, decision.isDeliverOrJunk {
            let claimed = ([mailFromDomain].compactMap { $0 } + fromDomains).filter { !$0.isEmpty && isOurs($0) }
            for domain in Set(claimed).sorted() {
                let spfPasses = spfOutcome?.result == .pass && mailFromDomain.map { dmarc.aligns($0, domain, .relaxed) } == true
                let dkimPasses = signatures.contains { $0.result == .pass && dmarc.aligns($0.domain, domain, .relaxed) }
                if !spfPasses && !dkimPasses {
                    decision = .refuse(SMTPReply(
                        550, "5.7.1",
                        "\(domain) is a domain of this server, and this message from outside passes neither SPF nor DKIM for it (own-domain protection)"))
                    report.story.append("refused: \(domain) is ours, and neither SPF nor DKIM passed for it")
                    break
                }
            }
        }

        // Spam and malware, unless the message is refused already.
        if decision.isDeliverOrJunk {
            let aligned = fromDomains.count == 1 && signatures.contains { $0.result == .pass && dmarc.aligns($0.domain, fromDomains[0], .relaxed) }
            let facts = SpamFacts(
                clientIP: client.ip, helo: client.helo, hostname: hostname, reverseDNS: await reverse, spf: arcVouched ? nil : spfOutcome?.result,
                dkim: signatures.map(\.result), alignedDKIMPass: aligned, dmarc: arcVouched ? nil : dmarcResult,
                hasDate: parsed.count(of: "date") > 0, hasMessageID: parsed.count(of: "message-id") > 0)
            let spam = await filter(
                message, facts: facts, recipients: recipients, sender: sender, client: client, trusted: trusted, junk: junk,
                dryRun: dryRun, report: &report)
            // The strictest decision stands; clients in trusted networks are only refused for
            // what no network makes acceptable (malware, GTUBE, an unavailable scanner).
            if case .refuse = spam { decision = spam } else if !trusted, spam.rank > decision.rank { decision = spam }
        }
        switch decision {
        case .junk(let why): report.story.append("filed in Junk: \(why)")
        case .quarantine(let why): report.story.append("held in quarantine: \(why)")
        case .refuse(let reply) where !report.story.contains(where: { $0.hasPrefix("refused") }):
            report.story.append("refused: \(reply.lines.joined(separator: " "))")
        default: break
        }
        if !dryRun {
            for entry in report.entries { stats.add(MetricCatalog.inboundResults, ["method": entry.method, "result": entry.result]) }
            stats.add(MetricCatalog.inboundDecisions, ["decision": decision.metricName])
        }
        let field = AuthenticationResults(authservID: hostname, entries: report.entries).field
        let payload = String(field.dropFirst("Authentication-Results: ".count).dropLast(2))
        return InboundVerdict(
            data: message, header: field, story: report.story.joined(separator: "; "), decision: decision,
            arc: ARCContext(results: payload, instances: arcChain?.instances ?? 0, chainPassed: arcChain?.result != .fail),
            strictSenderPolicy: strictPolicy, junkAccounts: decision == .deliver ? report.junkAccounts : [:])
    }

    /// Where the message came from.
    struct Client: Sendable {
        var ip: String
        var helo: String
        var queueID: String
        /// The reverse DNS check, when the connection started it (see ``checkReverseDNS(ip:)``).
        var reverseDNS: Task<ReverseDNS.Result, Never>? = nil
    }

    /// The recipients' junk classifiers: the verdict of each that has learned enough. Asked
    /// only when the built-in score is computed.
    typealias JunkLookup = @Sendable () async -> [JunkOpinion]

    /// GTUBE, clamd, then rspamd or the built-in score (with the recipients' junk classifier),
    /// against the recipients' thresholds.
    func filter(
        _ message: [UInt8], facts: SpamFacts, recipients: [String], sender: SMTPMailbox?, client: Client, trusted: Bool,
        junk: JunkLookup? = nil, dryRun: Bool = false, report: inout Report
    ) async -> InboundVerdict.Decision {
        if GTUBE.contains(message) {
            report.story.append("spam: the GTUBE test pattern")
            return .refuse(SMTPReply(554, "5.7.1", "message refused as spam: it holds the GTUBE test pattern"))
        }
        if let clamd = settings.clamd {
            do {
                switch try await clamd.scan(message) {
                case .clean:
                    report.story.append("clamd: clean")
                case .infected(let signature):
                    report.story.append("malware: \(signature)")
                    return .refuse(SMTPReply(554, "5.7.1", "message refused: it contains malware (\(signature))"))
                }
            } catch {
                report.story.append("not scanned: \(error)")
                return .refuse(SMTPReply(451, "4.3.0", "the virus scanner is not available; try again later"))
            }
        }
        let limits = settings.thresholds(for: recipients)
        if settings.rspamd != nil, dryRun {
            report.story.append("rspamd not asked in a dry run, built-in score used")
        } else if let rspamd = settings.rspamd {
            do {
                let verdict = try await rspamd.check(
                    message,
                    envelope: Rspamd.Envelope(
                        clientIP: client.ip, helo: client.helo, sender: sender.map { "\($0.localPart)@\($0.domain)" }, recipients: recipients,
                        queueID: client.queueID, hostname: hostname,
                        authenticationResults: AuthenticationResults(authservID: hostname, entries: report.entries).field))
                let score = SpamScore.format(verdict.score)
                report.story.append("rspamd: \(verdict.action.rawValue), score \(score)" + (verdict.symbols.isEmpty ? "" : " (\(verdict.symbols.prefix(8).joined(separator: ", ")))"))
                switch verdict.action {
                case .reject: return .refuse(SMTPReply(554, "5.7.1", "message refused as spam (rspamd score \(score))"))
                case .greylist: return .refuse(SMTPReply(451, "4.7.1", "greylisted: try again later"))
                case .softReject: return .refuse(SMTPReply(451, "4.7.1", "message deferred by the spam filter: try again later"))
                case .addHeader, .rewriteSubject: return .junk("rspamd: \(verdict.action.rawValue), score \(score)")
                case .noAction: return .deliver
                }
            } catch {
                report.story.append("rspamd unavailable (\(error)), built-in score used")
            }
        }
        let base = SpamScore.score(facts)
        let opinions = await junk?() ?? []
        // Refusing and quarantining act on the whole message: the most suspicious classifier
        // counts for them, as before a copy is made.
        var score = base
        if let strictest = opinions.max(by: { $0.verdict.probability < $1.verdict.probability }) {
            score.add(strictest.verdict, of: strictest.account)
        }
        for o in opinions { report.story.append("junk classifier of \(o.account): \(o.verdict.rule?.name ?? "no rule") at probability \(o.verdict)") }
        report.story.append("score \(score)")
        let total = score.total
        if let reject = limits.reject, total >= reject {
            return .refuse(SMTPReply(554, "5.7.1", "message refused as spam (score \(SpamScore.format(total)), at least \(SpamScore.format(reject)) is refused)"))
        }
        if let quarantine = limits.quarantine, total >= quarantine { return .quarantine("score \(SpamScore.format(total))") }
        if let junk = limits.junk, base.total >= junk { return .junk("score \(SpamScore.format(base.total))") }
        // Junk is each recipient's own: the score with that account's classifier, against the
        // Junk threshold of the account's domain.
        for o in opinions {
            var own = base
            own.add(o.verdict, of: o.account)
            let domain = o.account.split(separator: "@").last.map(String.init) ?? ""
            if let junk = settings.thresholds(for: ["x@" + domain]).junk, own.total >= junk {
                report.junkAccounts[o.accountID] = "score \(SpamScore.format(own.total)) with \(o.account)'s junk classifier"
                report.story.append("filed in Junk for \(o.account): score \(SpamScore.format(own.total))")
            }
        }
        return .deliver
    }

    /// The Authentication-Results entries and the story being written.
    struct Report {
        let hostname: String
        var entries: [AuthenticationResults.Entry] = []
        var story: [String] = []
        /// Accounts whose own copy goes to Junk (their classifier tipped the score), and why.
        var junkAccounts: [Int64: String] = [:]

        mutating func add(_ signatures: [DKIMVerification]) {
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
    }

    /// The connection-time check: the first blocklist that names the client, as the reply
    /// that refuses it.
    func blocklistRefusal(ip: String, dryRun: Bool = false) async -> (SMTPReply, String)? {
        guard let listing = await Blocklists.check(ip, zones: settings.dnsbl, dns: dns) else { return nil }
        if !dryRun { stats.add(MetricCatalog.inboundBlocklisted, ["list": listing.zone]) }
        let why = listing.reason.map { ": \($0)" } ?? ""
        return (SMTPReply(554, "5.7.1", "\(ip) is listed by \(listing.zone)\(why)"), listing.zone)
    }
}

extension InboundVerdict.Decision {
    /// The `decision` label of `mailroom_inbound_decisions_total`; a 4xx refusal is `defer`.
    var metricName: String {
        switch self {
        case .deliver: "deliver"
        case .junk: "junk"
        case .quarantine: "quarantine"
        case .refuse(let reply): reply.code < 500 ? "defer" : "refuse"
        }
    }

    var rank: Int {
        switch self {
        case .deliver: 0
        case .junk: 1
        case .quarantine: 2
        case .refuse: 3
        }
    }

    var isDeliverOrJunk: Bool {
        switch self {
        case .deliver, .junk: true
        case .quarantine, .refuse: false
        }
    }
}

import Foundation

/// A DMARC policy record (RFC 7489 §6.3), e.g. `v=DMARC1; p=reject; rua=mailto:d@example.org`.
public struct DMARCRecord: Hashable, Sendable {
    public enum Policy: String, Hashable, Sendable, Comparable {
        case none, quarantine, reject

        var rank: Int { self == .none ? 0 : self == .quarantine ? 1 : 2 }
        public static func < (a: Policy, b: Policy) -> Bool { a.rank < b.rank }
    }

    public enum Alignment: String, Hashable, Sendable {
        case relaxed = "r"
        case strict = "s"
    }

    public var policy: Policy
    /// `sp=`: for subdomains of the organizational domain; `p=` when absent.
    public var subdomainPolicy: Policy?
    /// `pct=`: the percentage of failing messages the policy applies to.
    public var percent: Int = 100
    public var dkimAlignment: Alignment = .relaxed
    public var spfAlignment: Alignment = .relaxed
    /// `rua=`: where aggregate reports go (URIs as written).
    public var aggregateReportURIs: [String] = []
    public var failureReportURIs: [String] = []

    /// Parses a TXT record. A record without a valid `p=`, or with an invalid `sp=`, is still a
    /// DMARC record when `rua=` is valid: it is read as `p=none` (RFC 7489 §6.6.3 step 6).
    public init(_ text: String) throws(DKIMVerifyError) {
        let tags = try DKIMTagList(text)
        guard tags.tags.first?.name == "v", tags["v"] == "DMARC1" else { throw .syntax("not a DMARC1 record") }
        self.aggregateReportURIs = Self.uris(tags["rua"])
        self.failureReportURIs = Self.uris(tags["ruf"])
        let p = tags["p"].flatMap { Policy(rawValue: $0.lowercased()) }
        let sp = tags["sp"].map { Policy(rawValue: $0.lowercased()) }
        // A valid sp= stays when p= is read as none; an invalid one reads as absent.
        self.subdomainPolicy = sp ?? nil
        if let p, sp != .some(nil) {
            self.policy = p
        } else if !aggregateReportURIs.isEmpty {
            self.policy = .none
        } else if p == nil {
            throw .syntax("p=\(tags["p"] ?? "") is not none, quarantine or reject")
        } else {
            throw .syntax("sp=\(tags["sp"] ?? "") is not none, quarantine or reject")
        }
        if let pct = tags["pct"] {
            guard let n = Int(pct), (0...100).contains(n) else { throw .syntax("pct=\(pct) is not 0 to 100") }
            self.percent = n
        }
        if let a = tags["adkim"] {
            guard let v = Alignment(rawValue: a.lowercased()) else { throw .syntax("adkim=\(a) is not r or s") }
            self.dkimAlignment = v
        }
        if let a = tags["aspf"] {
            guard let v = Alignment(rawValue: a.lowercased()) else { throw .syntax("aspf=\(a) is not r or s") }
            self.spfAlignment = v
        }
    }

    static func uris(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map { String(DKIMTagList.trimFWS($0)) }.filter { $0.lowercased().hasPrefix("mailto:") }
    }
}

/// A DMARC result word (RFC 8601 §2.7, RFC 7489 §11.2).
public enum DMARCResult: String, Hashable, Sendable {
    case none, pass, fail, temperror, permerror
}

/// What DMARC concluded for one message.
public struct DMARCOutcome: Hashable, Sendable {
    public var result: DMARCResult
    /// The RFC5322.From domain.
    public var fromDomain: String
    /// The domain whose record applied (the From domain or its organizational domain).
    public var policyDomain: String?
    /// The policy the record asks for (`p=` or `sp=`), before `pct=`.
    public var policy: DMARCRecord.Policy?
    /// What to do: the policy, or one step lower when `pct=` sampled this message out; `.none` on pass.
    public var disposition: DMARCRecord.Policy
    /// Which identifier aligned ("dkim header.d=example.org"), or why none did.
    public var reason: String
}

/// DMARC evaluation (RFC 7489 §6.6): policy discovery through DNS, then identifier alignment of
/// SPF's MAIL FROM domain and each DKIM signature's `d=` with the From domain.
public struct DMARCVerifier: Sendable {
    public let dns: any AuthDNS
    public let suffixes: PublicSuffixList
    /// For `pct=`: a number in 0..<100 per message.
    let sample: @Sendable () -> Int

    public init(dns: any AuthDNS, suffixes: PublicSuffixList = .embedded, sample: @escaping @Sendable () -> Int = { Int.random(in: 0..<100) }) {
        self.dns = dns
        self.suffixes = suffixes
        self.sample = sample
    }

    /// `spfDomain` is the domain SPF checked for MAIL FROM (the HELO name for a null sender),
    /// with its result; `dkim` the verified signatures.
    public func evaluate(fromDomain: String, spf: (result: String, domain: String)?, dkim: [DKIMVerification]) async -> DMARCOutcome {
        let from = Self.normalized(fromDomain)
        var outcome = DMARCOutcome(result: .none, fromDomain: from, policyDomain: nil, policy: nil, disposition: .none, reason: "")
        let record: DMARCRecord
        let recordDomain: String
        switch await discover(from) {
        case .none(let why):
            outcome.reason = why
            return outcome
        case .temporary(let why):
            outcome.result = .temperror
            outcome.reason = why
            return outcome
        case .invalid(let domain, let why):
            outcome.result = .permerror
            outcome.policyDomain = domain
            outcome.reason = "the DMARC record of \(domain) cannot be read: \(why)"
            return outcome
        case .found(let r, let domain):
            record = r
            recordDomain = domain
        }
        outcome.policyDomain = recordDomain
        let organization = suffixes.organizationalDomain(of: from)
        let policy = from != organization ? (record.subdomainPolicy ?? record.policy) : record.policy
        outcome.policy = policy

        // DKIM: a passing signature whose d= aligns.
        if let aligned = dkim.first(where: { $0.result == .pass && aligns($0.domain, from, record.dkimAlignment) }) {
            outcome.result = .pass
            outcome.reason = "DKIM signature of \(aligned.domain) aligns with From \(from)"
            return outcome
        }
        if let spf, spf.result == "pass", aligns(spf.domain, from, record.spfAlignment) {
            outcome.result = .pass
            outcome.reason = "SPF pass for \(Self.normalized(spf.domain)) aligns with From \(from)"
            return outcome
        }
        outcome.result = .fail
        var why: [String] = []
        let passing = dkim.filter { $0.result == .pass }.map(\.domain)
        why.append(passing.isEmpty ? "no DKIM signature passed" : "DKIM passed only for \(passing.joined(separator: ", "))")
        if let spf {
            why.append(spf.result == "pass" ? "SPF passed for \(spf.domain), which does not align" : "SPF \(spf.result) for \(spf.domain)")
        } else {
            why.append("no SPF result")
        }
        outcome.reason = why.joined(separator: "; ") + " (From \(from), \(record.dkimAlignment == .strict || record.spfAlignment == .strict ? "strict" : "relaxed") alignment)"
        // pct= (RFC 7489 §6.6.4): messages sampled out get the next lower policy.
        outcome.disposition = sample() < record.percent ? policy : Self.lower(policy)
        return outcome
    }

    /// Identifier alignment (RFC 7489 §3.1): strict means the same name, relaxed the same
    /// organizational domain.
    public func aligns(_ domain: String, _ from: String, _ mode: DMARCRecord.Alignment) -> Bool {
        let d = Self.normalized(domain)
        if d == from { return true }
        guard mode == .relaxed, !d.isEmpty else { return false }
        return suffixes.organizationalDomain(of: d) == suffixes.organizationalDomain(of: from)
    }

    enum Discovery {
        case found(DMARCRecord, String)
        case none(String)
        case invalid(String, String)
        case temporary(String)
    }

    /// The record at `_dmarc.<from>`, else at `_dmarc.<organizational domain>` (RFC 7489 §6.6.3).
    func discover(_ from: String) async -> Discovery {
        let organization = suffixes.organizationalDomain(of: from)
        var tried: [String] = []
        for domain in organization == from ? [from] : [from, organization] {
            tried.append("_dmarc.\(domain)")
            let texts: [String]
            do {
                texts = try await dns.txt("_dmarc.\(domain)")
            } catch {
                if case .temporary(let why) = error { return .temporary("the DMARC record of \(domain) could not be looked up: \(why)") }
                continue
            }
            let candidates = texts.filter { $0.hasPrefix("v=DMARC1") }
            if candidates.count > 1 { return .none("\(domain) publishes \(candidates.count) DMARC records, so none applies") }
            guard let text = candidates.first else { continue }
            switch Self.records.value(for: text, parse: { text in Result { () throws(DKIMVerifyError) in try DMARCRecord(text) } }) {
            case .success(let record): return .found(record, domain)
            case .failure(let error): return .invalid(domain, "\(error)")
            }
        }
        return .none("no DMARC record at \(tried.joined(separator: " or "))")
    }

    /// DMARC records already read, by their text.
    static let records = ParsedRecords<Result<DMARCRecord, DKIMVerifyError>>()

    static func lower(_ policy: DMARCRecord.Policy) -> DMARCRecord.Policy {
        switch policy {
        case .reject: .quarantine
        case .quarantine, .none: .none
        }
    }

    static func normalized(_ domain: String) -> String {
        var d = domain.lowercased()
        while d.hasSuffix(".") { d.removeLast() }
        return d
    }
}

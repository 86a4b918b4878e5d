// The state and steps of one check_host() run (RFC 7208 §4): record selection, evaluation
// left to right, include and redirect, exp=, and the lookup counts of §4.6.4.

/// What one record (with its includes and redirects) concluded.
struct SPFConclusion: Sendable {
    var result: SPFResult
    var mechanism: String?
    var mechanismDomain: String?
    var reason: String
    var explanation: String?
}

/// The state of one `check_host()` run shared by its includes and redirects: the lookup counts
/// of §4.6.4 and the `%{p}` name once looked up.
struct SPFEvaluation {
    let verifier: SPFVerifier
    let ip: SPFAddress
    let sender: String
    let helo: String
    var lookups = 0
    var voidLookups = 0
    var validatedNamesOfIP: [String]?

    /// Ends a record's evaluation early: `permerror` or `temperror`, with the reason.
    enum Stop: Error {
        case permerror(String)
        case temperror(String)
    }

    init(verifier: SPFVerifier, ip: SPFAddress, sender: String, helo: String) {
        self.verifier = verifier
        self.ip = ip
        self.sender = sender
        self.helo = helo
    }

    var dns: any AuthDNS { verifier.dns }

    /// Lower-cased, without a trailing dot.
    static func normalised(_ name: String) -> String {
        var name = name.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }

    /// A multi-label ASCII domain name with labels of 1 to 63 characters (§4.3).
    static func isValidDomain(_ name: String) -> Bool {
        let labels = name.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.count >= 2 && name.utf8.count <= SPFLimits.maxDomainLength
            && labels.allSatisfy { (1...63).contains($0.count) }
            && labels.allSatisfy { $0.allSatisfy { $0.isLetterOrDigit || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") } }
    }

    /// The SPF record of `domain` (§4.4, §4.5): nil for none, or the reason it is an error.
    func record(_ domain: String) async throws(Stop) -> SPFRecord? {
        let texts: [String]
        do {
            texts = try await dns.txt(domain)
        } catch {
            switch error {
            case .notFound: return nil
            case .temporary(let why): throw .temperror("looking up the TXT records of \(domain) failed: \(why)")
            }
        }
        let spf = texts.filter(SPFRecord.isSPFRecord)
        guard spf.count <= 1 else {
            throw .permerror(
                "\(domain) publishes \(spf.count) SPF records; it must publish exactly one (RFC 7208 §4.5)")
        }
        guard let text = spf.first else { return nil }
        switch Self.records.value(for: text, parse: { text in Result { () throws(SPFSyntaxError) in try SPFRecord(parsing: text) } }) {
        case .success(let record): return record
        case .failure(let error): throw .permerror("\(domain)'s SPF record is malformed: \(error)")
        }
    }

    /// SPF records already read, by their text.
    static let records = ParsedRecords<Result<SPFRecord, SPFSyntaxError>>()

    /// Evaluates `domain`'s record left to right (§4.6), then `redirect=` (§6.1).
    mutating func check(_ domain: String) async -> SPFConclusion {
        do throws(Stop) {
            guard let record = try await record(domain) else {
                return SPFConclusion(result: .none, reason: "\(domain) publishes no SPF record")
            }
            for term in record.terms {
                guard case .directive(let qualifier, let mechanism) = term else { continue }
                guard var match = try await matches(mechanism, domain: domain) else { continue }
                match.result = qualifier.result
                let text = term.description
                match.mechanism = text
                match.mechanismDomain = domain
                match.reason =
                    "matched \(text) in \(domain)'s record" + (match.reason.isEmpty ? "" : " (\(match.reason))")
                if match.result == .fail, let exp = record.explanation {
                    match.explanation = await explanation(exp, domain: domain)
                }
                return match
            }
            if let redirect = record.redirect {
                guard let target = try await countedTarget(redirect, domain: domain, term: "redirect=\(redirect)")
                else {
                    throw .permerror(
                        "redirect=\(redirect) in \(domain)'s record does not expand to a valid domain name")
                }
                var inner = await check(target)
                switch inner.result {
                case .none:
                    throw .permerror(
                        "redirect=\(redirect) in \(domain)'s record names \(target), which has no SPF record")
                case .temperror, .permerror:
                    return inner
                default:
                    inner.reason += ", through redirect=\(redirect) in \(domain)'s record"
                    return inner
                }
            }
            return SPFConclusion(
                result: .neutral, reason: "no mechanism matched in \(domain)'s record; the default is neutral")
        } catch {
            switch error {
            case .permerror(let why): return SPFConclusion(result: .permerror, reason: why)
            case .temperror(let why): return SPFConclusion(result: .temperror, reason: why)
            }
        }
    }

    /// Counts one DNS-querying term (§4.6.4) and expands its domain-spec. Nil if the expansion
    /// is not a name DNS can be asked about (an empty label, a label over 63 characters): the
    /// test suite's "treat as non-existent" (RFC 7208 §4.8 leaves it open), so a sender cannot
    /// turn a `-all` into `permerror` with a long local-part.
    mutating func countedTarget(_ spec: String, domain: String, term: String) async throws(Stop) -> String? {
        lookups += 1
        guard lookups <= SPFLimits.dnsTerms else {
            throw .permerror(
                "\(term) in \(domain)'s record is DNS-querying term number \(lookups); at most \(SPFLimits.dnsTerms) are allowed (RFC 7208 §4.6.4)"
            )
        }
        let name = try await expand(spec, domain: domain)
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ (1...63).contains($0.utf8.count) }) else { return nil }
        return name
    }

    /// Expands a domain-spec for a query, looking up `%{p}` first if it is used.
    mutating func expand(_ spec: String, domain: String) async throws(Stop) -> String {
        var context = SPFMacro.Context(
            sender: sender, domain: domain, ip: ip, helo: helo, receiver: verifier.receiver, now: verifier.clock())
        if SPFMacro.usesValidatedName(spec) {
            context.validatedName = try await validatedNameOfIP(domain: domain, counted: true)
        }
        do {
            return Self.normalised(try SPFMacro.expand(spec, context))
        } catch {
            throw .permerror("\(domain)'s record: \(error)")
        }
    }

    /// The `exp=` text for a fail (§6.2); nil when any step fails.
    mutating func explanation(_ spec: String, domain: String) async -> String? {
        var context = SPFMacro.Context(
            sender: sender, domain: domain, ip: ip, helo: helo, receiver: verifier.receiver, now: verifier.clock())
        if SPFMacro.usesValidatedName(spec) {
            context.validatedName = try? await validatedNameOfIP(domain: domain, counted: false)
        }
        guard let name = try? SPFMacro.expand(spec, context),
            let texts = try? await dns.txt(Self.normalised(name)), texts.count == 1
        else { return nil }
        if SPFMacro.usesValidatedName(texts[0]) {
            context.validatedName = try? await validatedNameOfIP(domain: domain, counted: false)
        }
        return try? SPFMacro.expand(texts[0], context, explanation: true)
    }
}

// The mechanisms of RFC 7208 §5, with the lookup limits of §4.6.4.
extension SPFEvaluation {
    /// A conclusion (result still to be set from the qualifier) if `mechanism` matches, nil if not.
    mutating func matches(_ mechanism: SPFRecord.Mechanism, domain: String) async throws(Stop) -> SPFConclusion? {
        let hit = SPFConclusion(result: .pass, reason: "")
        // Its text, for what a lookup may have to say: built (once) by the mechanisms that look
        // something up, not by ip4, ip6 and all, most of what is matched.
        lazy var term = mechanism.description
        switch mechanism {
        case .all:
            return hit
        case .ip4(let network, let prefix), .ip6(let network, let prefix):
            return ip.matches(network, prefix: prefix) ? hit : nil

        case .include(let spec):
            // §5.2: pass matches; fail, softfail and neutral do not; errors propagate; none is permerror.
            guard let target = try await countedTarget(spec, domain: domain, term: term) else {
                throw .permerror("\(term) in \(domain)'s record does not expand to a valid domain name")
            }
            let inner = await check(target)
            switch inner.result {
            case .pass:
                return SPFConclusion(result: .pass, reason: inner.reason)
            case .fail, .softfail, .neutral:
                return nil
            case .temperror, .permerror:
                throw inner.result == .temperror ? .temperror(inner.reason) : .permerror(inner.reason)
            case .none:
                throw .permerror(
                    "\(term) in \(domain)'s record: \(inner.reason) (an include of no record is permerror, RFC 7208 §5.2)"
                )
            }

        case .a(let spec, let cidr):
            // §5.3: any A (IPv4 client) or AAAA (IPv6 client) record of the target in the network.
            guard let target = try await countedTarget(spec ?? domain, domain: domain, term: term) else { return nil }
            let found = try await addresses(target, term: term, domain: domain, countVoid: true)
            return found.contains { ip.matches($0, prefix: ip.isIPv6 ? cidr.ipv6 : cidr.ipv4) } ? hit : nil

        case .mx(let spec, let cidr):
            // §5.4: the addresses of at most 10 MX names.
            guard let target = try await countedTarget(spec ?? domain, domain: domain, term: term) else { return nil }
            let names = try await lookup(term: term, domain: domain, countVoid: true) { dns throws(AuthDNSFailure) in
                try await dns.mx(target)
            }
            guard names.count <= SPFLimits.mxNames else {
                throw .permerror(
                    "\(term) in \(domain)'s record: \(target) has \(names.count) MX records; at most \(SPFLimits.mxNames) are allowed (RFC 7208 §4.6.4)"
                )
            }
            for name in names {
                let found = try await addresses(Self.normalised(name), term: term, domain: domain, countVoid: false)
                if found.contains(where: { ip.matches($0, prefix: ip.isIPv6 ? cidr.ipv6 : cidr.ipv4) }) { return hit }
            }
            return nil

        case .ptr(let spec):
            // §5.5: a validated PTR name equal to or under the target.
            guard let target = try await countedTarget(spec ?? domain, domain: domain, term: term) else { return nil }
            let names = await validatedNames { name in name == target || name.hasSuffix("." + target) }
            return names.isEmpty ? nil : hit

        case .exists(let spec):
            // §5.7: any A record, whatever the client's address family.
            guard let target = try await countedTarget(spec, domain: domain, term: term) else { return nil }
            let found = try await lookup(term: term, domain: domain, countVoid: true) { dns throws(AuthDNSFailure) in
                try await dns.addresses(target, ipv6: false)
            }
            return found.isEmpty ? nil : hit
        }
    }

    /// Runs one query; NXDOMAIN and NODATA are an empty answer, counted as a void lookup when
    /// `countVoid` (§4.6.4); a temporary failure stops the evaluation with temperror.
    mutating func lookup(
        term: String, domain: String, countVoid: Bool,
        _ query: (any AuthDNS) async throws(AuthDNSFailure) -> [String]
    ) async throws(Stop) -> [String] {
        var answer: [String] = []
        do {
            answer = try await query(dns)
        } catch {
            switch error {
            case .notFound: answer = []
            case .temporary(let why): throw .temperror("\(term) in \(domain)'s record: a DNS lookup failed: \(why)")
            }
        }
        if answer.isEmpty && countVoid {
            voidLookups += 1
            guard voidLookups <= SPFLimits.voidLookups else {
                throw .permerror(
                    "\(term) in \(domain)'s record is lookup number \(voidLookups) that found nothing; at most \(SPFLimits.voidLookups) are allowed (RFC 7208 §4.6.4)"
                )
            }
        }
        return answer
    }

    /// The A or AAAA records of `name` for the client's address family; malformed ones dropped.
    mutating func addresses(_ name: String, term: String, domain: String, countVoid: Bool) async throws(Stop)
        -> [SPFAddress]
    {
        let v6 = ip.isIPv6
        return try await lookup(term: term, domain: domain, countVoid: countVoid) { dns throws(AuthDNSFailure) in
            try await dns.addresses(name, ipv6: v6)
        }.compactMap { SPFAddress($0) }.filter { $0.isIPv6 == v6 }
    }

    /// The PTR names of the client address that `accept` takes and whose A/AAAA records lead back
    /// to it (§5.5): at most 10 names are looked at; lookup failures mean "not validated".
    func validatedNames(_ accept: (String) -> Bool) async -> [String] {
        guard let names = try? await dns.ptr(ip.description) else { return [] }
        var validated: [String] = []
        for name in names.prefix(SPFLimits.ptrNames).map(Self.normalised) where accept(name) {
            if let found = try? await dns.addresses(name, ipv6: ip.isIPv6),
                found.compactMap(SPFAddress.init).contains(ip)
            {
                validated.append(name)
            }
        }
        return validated
    }

    /// The `%{p}` value (§7.3): a validated name, preferring `domain` itself, then a name under it;
    /// nil ("unknown") if none. Looked up once per evaluation; `counted` counts that lookup as a DNS term.
    mutating func validatedNameOfIP(domain: String, counted: Bool) async throws(Stop) -> String? {
        if validatedNamesOfIP == nil, counted {
            lookups += 1
            guard lookups <= SPFLimits.dnsTerms else {
                throw .permerror(
                    "%{p} in \(domain)'s record is DNS lookup number \(lookups); at most \(SPFLimits.dnsTerms) are allowed (RFC 7208 §4.6.4)"
                )
            }
        }
        var names = validatedNamesOfIP ?? []
        if validatedNamesOfIP == nil {
            names = await validatedNames { _ in true }
            validatedNamesOfIP = names
        }
        return names.first { $0 == domain } ?? names.first { $0.hasSuffix("." + domain) } ?? names.first
    }
}

/// The lookups the outbound queue makes.
extension DNSResolver {
    /// MX hosts of `domain` by preference, equal preferences shuffled (RFC 5321 §5.1); a lone
    /// `MX 0 .` is ``MXLookup/nullMX`` (RFC 7505); NODATA is ``MXLookup/noMX``.
    public func mx(_ domain: String) async throws(DNSLookupFailure) -> MXLookup {
        let answer = try await lookup(domain, .mx)
        guard !answer.records.isEmpty else { return .noMX }
        var hosts: [MXHost] = []
        for record in answer.records {
            guard case .mx(let preference, let exchange) = record.data, !exchange.labels.isEmpty else { continue }
            hosts.append(MXHost(preference: preference, host: exchange.description))
        }
        // RFC 7505 §3: a null MX must be the only MX; with others present, ignore it.
        guard !hosts.isEmpty else { return .nullMX }
        return .hosts(Self.ordered(hosts))
    }

    /// Ascending preference; hosts of equal preference in random order.
    static func ordered(_ hosts: [MXHost]) -> [MXHost] {
        Dictionary(grouping: hosts, by: \.preference).sorted { $0.key < $1.key }.flatMap { $0.value.shuffled() }
    }

    /// The IPv4 addresses, then the IPv6 addresses of `host`, as text. Throws
    /// ``DNSLookupFailure/nameNotFound(_:)`` only when the name does not exist; a temporary
    /// failure of one family is ignored when the other gave addresses.
    public func addresses(_ host: String) async throws(DNSLookupFailure) -> [String] {
        let name = try Self.parseName(host)
        async let v4 = result(name, .a)
        async let v6 = result(name, .aaaa)
        let results = await [v4, v6]
        var found: [String] = []
        var missing: DNSLookupFailure?
        var temporary: DNSLookupFailure?
        for result in results {
            switch result {
            case .success(let answer):
                for record in answer.records {
                    switch record.data {
                    case .a(let b): found.append(IPAddressText.formatIPv4(b))
                    case .aaaa(let b): found.append(IPAddressText.formatIPv6(b))
                    default: break
                    }
                }
            case .failure(let failure):
                if failure.isTemporary { temporary = temporary ?? failure } else { missing = missing ?? failure }
            }
        }
        if !found.isEmpty { return found }
        if let missing { throw missing }
        if let temporary { throw temporary }
        return []
    }

    /// Each TXT record's character-strings concatenated (RFC 7208 §3.3), as UTF-8 with
    /// replacement of invalid sequences.
    public func txt(_ name: String) async throws(DNSLookupFailure) -> [String] {
        try await lookup(name, .txt).records.compactMap { record in
            guard case .txt(let strings) = record.data else { return nil }
            return String(decoding: strings.flatMap { $0 }, as: UTF8.self)
        }
    }

    /// The PTR names of an IPv4 or IPv6 address (no trailing dot).
    public func ptr(_ ip: String) async throws(DNSLookupFailure) -> [String] {
        guard let reverse = IPAddressText.reverseName(ip) else { throw .nameNotFound("\(ip) is not an IP address") }
        return try await lookup(reverse, .ptr).records.compactMap { record in
            guard case .ptr(let target) = record.data else { return nil }
            return target.description
        }
    }

    /// TLSA records at `name` (`_25._tcp.mx.example.org`, RFC 7672 §2.2); check
    /// ``DNSAnswer/authenticData`` before using them.
    public func tlsa(_ name: String) async throws(DNSLookupFailure) -> DNSAnswer {
        try await lookup(name, .tlsa)
    }

    private func result(_ name: DNSName, _ type: DNSRecordType) async -> Result<DNSAnswer, DNSLookupFailure> {
        do {
            return .success(try await lookup(name, type))
        } catch {
            return .failure(error)
        }
    }
}

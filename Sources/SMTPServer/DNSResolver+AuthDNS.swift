import DNS
import EmailAuth

/// SPF, DKIM and DMARC look names up through the server's resolver (`[dns] servers`).
extension DNSResolver: AuthDNS {
    public func txt(_ name: String) async throws(AuthDNSFailure) -> [String] {
        try await authLookup(name) { try await self.txt(name) as [String] }
    }

    public func addresses(_ name: String, ipv6: Bool) async throws(AuthDNSFailure) -> [String] {
        try await authLookup(name) {
            try await self.lookup(name, ipv6 ? .aaaa : .a).records.compactMap { record in
                switch record.data {
                case .a(let b): IPAddressText.formatIPv4(b)
                case .aaaa(let b): IPAddressText.formatIPv6(b)
                default: nil
                }
            }
        }
    }

    public func mx(_ name: String) async throws(AuthDNSFailure) -> [String] {
        try await authLookup(name) {
            try await self.lookup(name, .mx).records.compactMap { record in
                guard case .mx(_, let exchange) = record.data else { return nil }
                return exchange.description
            }
        }
    }

    public func ptr(_ ip: String) async throws(AuthDNSFailure) -> [String] {
        try await authLookup(ip) { try await self.ptr(ip) as [String] }
    }

    private func authLookup(_ name: String, _ body: () async throws(DNSLookupFailure) -> [String]) async throws(AuthDNSFailure) -> [String] {
        do {
            return try await body()
        } catch {
            throw error.isTemporary ? .temporary(error.description) : .notFound(name)
        }
    }
}

import DNS
import EmailAuth

/// SPF, DKIM and DMARC look names up through the server's resolver (`[dns] servers`).
public struct ResolverAuthDNS: AuthDNS {
    public let resolver: DNSResolver

    public init(_ resolver: DNSResolver) { self.resolver = resolver }

    public func txt(_ name: String) async throws(AuthDNSFailure) -> [String] {
        do { return try await resolver.txt(name) } catch { throw Self.failure(error, name) }
    }

    public func addresses(_ name: String, ipv6: Bool) async throws(AuthDNSFailure) -> [String] {
        do {
            return try await resolver.lookup(name, ipv6 ? .aaaa : .a).records.compactMap { record in
                switch record.data {
                case .a(let b): IPAddressText.formatIPv4(b)
                case .aaaa(let b): IPAddressText.formatIPv6(b)
                default: nil
                }
            }
        } catch {
            throw Self.failure(error, name)
        }
    }

    public func mx(_ name: String) async throws(AuthDNSFailure) -> [String] {
        do {
            return try await resolver.lookup(name, .mx).records.compactMap { record in
                guard case .mx(_, let exchange) = record.data else { return nil }
                return exchange.description
            }
        } catch {
            throw Self.failure(error, name)
        }
    }

    public func ptr(_ ip: String) async throws(AuthDNSFailure) -> [String] {
        do { return try await resolver.ptr(ip) } catch { throw Self.failure(error, ip) }
    }

    static func failure(_ error: DNSLookupFailure, _ name: String) -> AuthDNSFailure {
        error.isTemporary ? .temporary(error.description) : .notFound(name)
    }
}

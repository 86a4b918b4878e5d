/// The DNS lookups SPF, DKIM, DMARC and ARC make. The server answers them with its stub
/// resolver (`DNSResolver`, through `dns.servers`); tests answer them from tables.
///
/// An empty array is NODATA (the name exists, no record of that type);
/// ``AuthDNSFailure/notFound`` is NXDOMAIN. SPF counts both as a "void lookup" (RFC 7208 §4.6.4).
public protocol AuthDNS: Sendable {
    /// Each TXT record's character-strings concatenated (RFC 7208 §3.3).
    func txt(_ name: String) async throws(AuthDNSFailure) -> [String]
    /// The A records (`ipv6` false) or AAAA records (`ipv6` true) of `name`, as text.
    func addresses(_ name: String, ipv6: Bool) async throws(AuthDNSFailure) -> [String]
    /// The exchange names of the MX records of `name` (no trailing dot), in any order.
    func mx(_ name: String) async throws(AuthDNSFailure) -> [String]
    /// The PTR names of an IPv4 or IPv6 address given as text (no trailing dot).
    func ptr(_ ip: String) async throws(AuthDNSFailure) -> [String]
}

/// Why a lookup gave no records.
public enum AuthDNSFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// NXDOMAIN, or a name that cannot exist: permanent.
    case notFound(String)
    /// SERVFAIL, timeout, a malformed answer: try again later (SPF/DKIM/DMARC `temperror`).
    case temporary(String)

    public var description: String {
        switch self {
        case .notFound(let name): "\(name) does not exist"
        case .temporary(let why): why
        }
    }
}

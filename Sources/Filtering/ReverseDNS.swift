import EmailAuth

/// Forward-confirmed reverse DNS: the client's PTR names, and whether one of them resolves
/// back to the client's address.
public enum ReverseDNS {
    public enum Result: Hashable, Sendable {
        /// A PTR name resolves back to the address.
        case confirmed(String)
        /// PTR names exist, but none resolves back.
        case unconfirmed([String])
        /// No PTR record.
        case none
        /// DNS failed for now: no verdict.
        case unknown
    }

    /// At most 10 PTR names are tried (RFC 7208's limit for the same check).
    public static func check(_ ip: String, dns: any AuthDNS) async -> Result {
        guard let client = SPFAddress(ip)?.ipv4Unmapped else { return .unknown }
        let names: [String]
        do {
            names = try await dns.ptr(ip)
        } catch {
            if case .temporary = error { return .unknown }
            return .none
        }
        guard !names.isEmpty else { return .none }
        for name in names.prefix(10) {
            let addresses = (try? await dns.addresses(name, ipv6: client.isIPv6)) ?? []
            if addresses.contains(where: { SPFAddress($0)?.ipv4Unmapped == client }) { return .confirmed(name) }
        }
        return .unconfirmed(Array(names.prefix(10)))
    }
}

/// DNS blocklists (RFC 5782): a client is listed when `<reversed address>.<zone>` has an A
/// record in 127.0.0.0/8; the TXT record there, if any, says why.
public enum Blocklists {
    public struct Listing: Hashable, Sendable {
        public var zone: String
        public var reason: String?
    }

    /// The first list that names `ip`, or nil. Lists that fail to answer are skipped; answers
    /// outside 127.0.0.0/8 and 127.255.255.x (Spamhaus's "query refused" codes) are not
    /// listings.
    public static func check(_ ip: String, zones: [String], dns: any AuthDNS) async -> Listing? {
        guard !zones.isEmpty, let address = SPFAddress(ip)?.ipv4Unmapped else { return nil }
        let reversed = reversedName(address)
        for zone in zones {
            let name = "\(reversed).\(zone)"
            guard let answers = try? await dns.addresses(name, ipv6: false), !answers.isEmpty else { continue }
            let listed = answers.contains { a in a.hasPrefix("127.") && !a.hasPrefix("127.255.255.") }
            guard listed else { continue }
            let reason = (try? await dns.txt(name))?.first
            return Listing(zone: zone, reason: reason)
        }
        return nil
    }

    /// `4.3.2.1` for 1.2.3.4; 32 nibbles for IPv6 (RFC 5782 §2.4).
    static func reversedName(_ a: SPFAddress) -> String {
        if a.isIPv6 {
            return a.bytes.reversed().flatMap { [String($0 & 0xF, radix: 16), String($0 >> 4, radix: 16)] }.joined(separator: ".")
        }
        return a.bytes.reversed().map(String.init).joined(separator: ".")
    }
}
